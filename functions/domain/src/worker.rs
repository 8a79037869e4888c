//! The worker: one entry for every bus event, whatever delivered it (EventBridge or in-process).

use tracing::warn;

use crate::ask::{AskError, AskOutcome, AskWorker};
use crate::events::Event;

/// Dispatches bus events to the service that handles them.
#[derive(Clone)]
pub struct Worker {
    ask: AskWorker,
}

/// How one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// An `ask.accepted` event.
    Ask(AskOutcome),
}

impl Worker {
    /// Builds the worker from its services.
    #[must_use]
    pub fn new(ask: AskWorker) -> Self {
        Self { ask }
    }

    /// Handles one event.
    ///
    /// # Errors
    /// Returns the service's error; [`AskError::is_retryable`] says whether redelivery helps.
    pub async fn handle(&self, event: &Event) -> Result<Handled, AskError> {
        match event {
            Event::AskAccepted(accepted) => {
                let outcome = self.ask.answer(accepted).await;
                if let Err(error) = &outcome {
                    warn!(error = error as &dyn std::error::Error, "ask.accepted not handled");
                }
                outcome.map(Handled::Ask)
            }
        }
    }
}
