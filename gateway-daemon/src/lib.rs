//! The `steward` command's library: standalone mode, the gateway daemon, and the operator tools.
//!
//! `steward run` composes the same services the Lambda functions use, with the embedded store,
//! an in-process bus and worker, and the same HTTP routes on one port (D5). `steward gateway`
//! holds the Discord gateway for AWS mode.

pub mod cli;
pub mod daemon;
pub mod gateway;
pub mod invite;
pub mod kb_import;
pub mod local_bus;
pub mod serve;
pub mod signals;
pub mod standalone;
pub mod systemd;
pub mod telemetry;
pub mod tools;
