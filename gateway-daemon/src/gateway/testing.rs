//! Test doubles for the gateway's unit tests: a destination that can fail, and sample events.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use steward_domain::events::Event;
use steward_domain::ports::BoxError;

use super::forward::Forward;

/// A destination that fails while `down`, and records what it was handed otherwise.
#[derive(Default)]
pub(crate) struct Flaky {
    pub(crate) down: AtomicBool,
    got: Mutex<Vec<Event>>,
}

impl Flaky {
    /// A destination that is down from the start.
    pub(crate) fn failing() -> Self {
        Self { down: AtomicBool::new(true), got: Mutex::default() }
    }

    /// The numbers ([`event`]'s `n`) of the events handed on, in order.
    pub(crate) fn ids(&self) -> Vec<u64> {
        let got = self.got.lock().unwrap();
        got.iter()
            .map(|e| match e {
                Event::AskAccepted(a) => a.interaction_id.get(),
                Event::MessageCreated(m) => m.message_id.get(),
            })
            .collect()
    }
}

#[async_trait]
impl Forward for Flaky {
    async fn forward(&self, events: &[Event]) -> Result<(), BoxError> {
        if self.down.load(Ordering::SeqCst) {
            return Err("unreachable".into());
        }
        self.got.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// The sample `ask.accepted` event, numbered `n` (its interaction id).
pub(crate) fn event(n: u64) -> Event {
    let sample: serde_json::Value = serde_json::from_str(include_str!("../../../events/ask-accepted.json")).unwrap();
    let mut detail = sample["detail"].clone();
    detail["interaction_id"] = serde_json::json!(n.to_string());
    Event::from_parts("ask.accepted", detail).unwrap()
}
