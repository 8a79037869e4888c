//! Steward's HTTP edge: transport-neutral axum [`Router`](axum::Router)s.
//!
//! The same routers are served by `lambda_http::run` in AWS, by `axum::serve` in standalone
//! mode, and by `tower::ServiceExt::oneshot` in tests. Discord's JSON lives here and nowhere
//! deeper: handlers convert it to domain types before calling a service.

pub mod error;
pub mod health;
pub mod interactions;
pub mod moderation_api;
pub mod settings_api;
pub mod verify;

pub use health::health_router;
pub use interactions::{InteractionsState, interactions_router};
pub use settings_api::{SettingsApiState, settings_router};
pub use verify::{Verifier, VerifyError};
