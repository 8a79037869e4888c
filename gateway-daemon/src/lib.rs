//! The `steward` command's library: standalone mode and the operator tools.
//!
//! `steward run` composes the same services the Lambda functions use, with the embedded store,
//! an in-process bus and worker, and the same HTTP routes on one port (D5).

pub mod gateway;
pub mod invite;
pub mod kb_import;
pub mod local_bus;
pub mod standalone;
pub mod systemd;
pub mod telemetry;
