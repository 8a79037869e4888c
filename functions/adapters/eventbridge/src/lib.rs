//! The event bus on Amazon EventBridge, and the envelope EventBridge hands the worker.
//!
//! Events go out as `PutEvents` entries with source [`SOURCE`], `detail-type` the event's type
//! (`ask.accepted`) and the payload as `detail`. Entries EventBridge reports as failed are
//! retried with backoff; the rule in `template.yaml` routes them to the worker.

#[cfg(feature = "publish")]
mod publish;

use serde::Deserialize;
use steward_domain::events::{Event, UnknownEvent};

#[cfg(feature = "publish")]
pub use publish::{EventBridgeBus, MAX_BATCH, PutError};

/// The `source` of every event Steward publishes.
pub const SOURCE: &str = "steward";

/// What EventBridge delivers to a Lambda target; the fields the worker needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    /// The event id, for logs.
    #[serde(default)]
    pub id: String,
    /// Who published it.
    #[serde(default)]
    pub source: String,
    /// The event type.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// The payload.
    pub detail: serde_json::Value,
}

impl Envelope {
    /// The domain event inside.
    ///
    /// # Errors
    /// Returns [`UnknownEvent`] for a foreign source, an unknown type or a mismatched payload.
    pub fn into_event(self) -> Result<Event, UnknownEvent> {
        if self.source != SOURCE {
            return Err(UnknownEvent(format!("event {} comes from `{}`, not `{SOURCE}`", self.id, self.source)));
        }
        Event::from_parts(&self.detail_type, self.detail)
    }
}
