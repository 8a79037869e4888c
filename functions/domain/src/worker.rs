//! The worker: one entry for every bus event, whatever delivered it (EventBridge or in-process).

use tracing::warn;

use crate::ask::{AskConfig, AskOutcome, AskPorts, AskWorker, WorkError};
use crate::events::Event;
use crate::respond::{MessageResponder, RespondOutcome, RespondPorts};

/// Dispatches bus events to the service that handles them.
#[derive(Clone)]
pub struct Worker {
    ask: AskWorker,
    respond: Option<MessageResponder>,
}

/// How one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// An `ask.accepted` event.
    Ask(AskOutcome),
    /// A `discord.message` event.
    Message(RespondOutcome),
    /// An event this worker was not built to handle (logged and dropped).
    Ignored,
}

impl Worker {
    /// A worker that answers `/ask` only.
    #[must_use]
    pub fn new(ask: AskWorker) -> Self {
        Self { ask, respond: None }
    }

    /// A worker that answers `/ask` and channel messages, both built from one set of ports
    /// (the channel responder's ports are a superset of `/ask`'s).
    #[must_use]
    pub fn from_ports(ports: RespondPorts, config: AskConfig) -> Self {
        let ask = AskPorts {
            settings: ports.settings.clone(),
            usage: ports.usage.clone(),
            conversations: ports.conversations.clone(),
            claims: ports.claims.clone(),
            search: ports.search.clone(),
            model: ports.model.clone(),
            discord: ports.discord.clone(),
            clock: ports.clock.clone(),
        };
        Self::new(AskWorker::new(ask, config)).with_responder(MessageResponder::new(ports, config))
    }

    /// Also answers channel messages forwarded by the gateway.
    #[must_use]
    pub fn with_responder(mut self, respond: MessageResponder) -> Self {
        self.respond = Some(respond);
        self
    }

    /// Handles one event.
    ///
    /// # Errors
    /// Returns the service's error; [`WorkError::is_retryable`] says whether redelivery helps.
    pub async fn handle(&self, event: &Event) -> Result<Handled, WorkError> {
        match event {
            Event::AskAccepted(accepted) => {
                let outcome = self.ask.answer(accepted).await;
                if let Err(error) = &outcome {
                    warn!(error = error as &dyn std::error::Error, "ask.accepted not handled");
                }
                outcome.map(Handled::Ask)
            }
            Event::MessageCreated(message) => {
                let Some(respond) = &self.respond else {
                    warn!("discord.message received by a worker without a responder");
                    return Ok(Handled::Ignored);
                };
                let outcome = respond.handle(message).await;
                if let Err(error) = &outcome {
                    warn!(error = error as &dyn std::error::Error, "discord.message not handled");
                }
                outcome.map(Handled::Message)
            }
        }
    }
}
