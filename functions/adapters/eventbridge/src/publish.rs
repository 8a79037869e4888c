//! Publishing: `PutEvents` in batches of ten, retrying the entries EventBridge reports as failed.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use steward_domain::events::Event;
use steward_domain::ports::{BusError, EventBus};

use crate::SOURCE;

/// The most entries one `PutEvents` call takes.
pub const MAX_BATCH: usize = 10;
const ATTEMPTS: u32 = 4;

/// Publishes to an EventBridge bus.
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus: String,
    backoff: Duration,
}

/// Why a `PutEvents` batch could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// The call itself failed.
    #[error("PutEvents failed")]
    Sdk(
        #[source] Box<aws_sdk_eventbridge::error::SdkError<aws_sdk_eventbridge::operation::put_events::PutEventsError>>,
    ),
    /// An event could not be encoded.
    #[error("encoding the event failed")]
    Encode(#[source] serde_json::Error),
    /// Some entries still failed after every retry.
    #[error("{count} entries failed after {ATTEMPTS} attempts; first error: {first}")]
    Entries {
        /// How many entries failed.
        count: usize,
        /// The first entry's error code and message.
        first: String,
    },
}

impl EventBridgeBus {
    /// Publishes to `bus` (a name or ARN) with `client`.
    #[must_use]
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into(), backoff: Duration::from_millis(100) }
    }

    /// Builds a client from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).
    pub async fn from_env(bus: impl Into<String>) -> Self {
        Self::from_sdk_config(&aws_config::load_from_env().await, bus)
    }

    /// Builds a client from an already loaded SDK configuration.
    #[must_use]
    pub fn from_sdk_config(config: &aws_config::SdkConfig, bus: impl Into<String>) -> Self {
        Self::new(Client::new(config), bus)
    }

    /// Publishes up to [`MAX_BATCH`] events per call, retrying failed entries with backoff.
    ///
    /// # Errors
    /// Returns [`PutError`] when the call fails or entries still fail after every attempt.
    pub async fn publish_batch(&self, events: &[Event]) -> Result<(), PutError> {
        for batch in events.chunks(MAX_BATCH) {
            let mut pending = batch
                .iter()
                .map(|event| {
                    Ok(PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(event.detail_type())
                        .detail(event.detail_json().map_err(PutError::Encode)?)
                        .build())
                })
                .collect::<Result<Vec<_>, PutError>>()?;
            let mut backoff = self.backoff;
            for attempt in 1..=ATTEMPTS {
                let output = self
                    .client
                    .put_events()
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| PutError::Sdk(Box::new(e)))?;
                if output.failed_entry_count == 0 {
                    break;
                }
                let (failed, first) = failed_entries(&pending, &output.entries.unwrap_or_default());
                if attempt == ATTEMPTS {
                    return Err(PutError::Entries { count: failed.len(), first });
                }
                tracing::warn!(failed = failed.len(), attempt, %first, "EventBridge rejected entries; retrying");
                pending = failed;
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
            }
        }
        Ok(())
    }
}

/// The entries whose result carries an error code (results are positional), and the first error.
fn failed_entries(
    pending: &[PutEventsRequestEntry],
    results: &[aws_sdk_eventbridge::types::PutEventsResultEntry],
) -> (Vec<PutEventsRequestEntry>, String) {
    let mut first = String::new();
    let failed = pending
        .iter()
        .zip(results)
        .filter(|(_, result)| result.error_code.is_some())
        .map(|(entry, result)| {
            if first.is_empty() {
                first = format!(
                    "{}: {}",
                    result.error_code.as_deref().unwrap_or_default(),
                    result.error_message.as_deref().unwrap_or_default()
                );
            }
            entry.clone()
        })
        .collect();
    (failed, first)
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        self.publish_batch(std::slice::from_ref(event))
            .await
            .map_err(|e| BusError { detail_type: event.detail_type(), source: Box::new(e) })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_eventbridge::types::PutEventsResultEntry;

    use super::*;

    #[test]
    fn only_the_entries_that_failed_are_retried() {
        let entry = |detail: &str| PutEventsRequestEntry::builder().detail(detail).build();
        let pending = vec![entry("a"), entry("b"), entry("c")];
        let results = vec![
            PutEventsResultEntry::builder().event_id("1").build(),
            PutEventsResultEntry::builder().error_code("InternalFailure").error_message("try again").build(),
            PutEventsResultEntry::builder().event_id("3").build(),
        ];
        let (failed, first) = failed_entries(&pending, &results);
        assert_eq!(failed.iter().map(|e| e.detail.as_deref().unwrap()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(first, "InternalFailure: try again");
    }
}
