//! Steward's domain: the types, ports and services that every entry point shares.
//!
//! Nothing in this crate knows about AWS, Discord's wire format, HTTP or Lambda. Entry points
//! build adapters for the [`ports`] and hand them to the services: one folder per feature
//! ([`ask`], [`respond`], [`worker`]), sharing only [`answer`], the answering pipeline.
//!
//! Requirement numbers (`F7`, `F10` …) refer to the product requirements in `shared/PRODUCT.md`.

pub mod answer;
pub mod ask;
pub mod clock;
pub mod conversation;
pub mod events;
pub mod extractive;
pub mod ids;
pub mod knowledge;
pub mod language;
pub mod message;
pub mod model;
pub mod moderation;
pub mod ports;
pub mod prompt;
pub mod quota;
pub mod relay;
pub mod respond;
pub mod settings;
pub mod smart;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod texts;
pub mod worker;
