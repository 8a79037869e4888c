//! The event bus port: how the edge hands work to the worker.

use async_trait::async_trait;

use super::BoxError;
use crate::events::Event;

/// A bus failure.
#[derive(Debug, thiserror::Error)]
#[error("publishing {detail_type} failed")]
pub struct BusError {
    /// The event type that could not be published.
    pub detail_type: &'static str,
    /// The cause.
    #[source]
    pub source: BoxError,
}

/// Publishes events for the worker.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes one event.
    async fn publish(&self, event: &Event) -> Result<(), BusError>;
}
