//! The worker Lambda's handler: EventBridge envelope in, domain worker out.
//!
//! Unreadable events are logged and dropped (retrying cannot fix them); failures the domain marks
//! retryable are returned as errors so Lambda's asynchronous retry redelivers the event.

use steward_domain::worker::{Handled, Worker};
use steward_eventbridge::Envelope;

/// A failure worth a redelivery.
#[derive(Debug, thiserror::Error)]
#[error("event not handled; redelivery may succeed")]
pub struct Retry(#[source] pub steward_domain::answer::WorkError);

/// Handles one EventBridge delivery.
///
/// # Errors
/// Returns [`Retry`] when redelivering the event may succeed.
pub async fn handle(worker: &Worker, payload: serde_json::Value) -> Result<Option<Handled>, Retry> {
    let event = match serde_json::from_value::<Envelope>(payload)
        .map_err(|e| e.to_string())
        .and_then(|envelope| envelope.into_event().map_err(|e| e.to_string()))
    {
        Ok(event) => event,
        Err(why) => {
            tracing::warn!(%why, "dropping an unreadable event");
            return Ok(None);
        }
    };
    match worker.handle(&event).await {
        Ok(handled) => Ok(Some(handled)),
        Err(error) if error.is_retryable() => Err(Retry(error)),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use steward_domain::answer::AnswerConfig;
    use steward_domain::ask::AskOutcome;
    use steward_domain::testing::{DiscordCall, Fakes, RecordingDiscord};

    use super::*;

    fn worker(discord: &RecordingDiscord) -> Worker {
        let fakes = Fakes { discord: discord.clone(), ..Fakes::default() };
        Worker::new(&fakes.ports(), AnswerConfig::default())
    }

    #[tokio::test]
    async fn the_sample_event_is_handled_once() {
        let discord = RecordingDiscord::default();
        let worker = worker(&discord);
        let payload: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/ask-accepted.json")).unwrap();
        let handled = handle(&worker, payload.clone()).await.unwrap();
        assert_eq!(handled, Some(Handled::Ask(AskOutcome::EmptyKnowledgeBase)));
        assert!(matches!(&discord.calls()[..], [DiscordCall::EditOriginal(_)]));
        let again = handle(&worker, payload).await.unwrap();
        assert_eq!(again, Some(Handled::Ask(AskOutcome::Duplicate)));
    }

    #[tokio::test]
    async fn unreadable_and_foreign_events_are_dropped() {
        let discord = RecordingDiscord::default();
        let worker = worker(&discord);
        for payload in [
            serde_json::json!({"nonsense": true}),
            serde_json::json!({"source": "steward", "detail-type": "who.knows", "detail": {}}),
            serde_json::json!({"source": "aws.ec2", "detail-type": "ask.accepted", "detail": {}}),
            serde_json::json!({"source": "steward", "detail-type": "ask.accepted", "detail": {"question": 1}}),
        ] {
            assert_eq!(handle(&worker, payload).await.unwrap(), None);
        }
        assert!(discord.calls().is_empty());
    }
}
