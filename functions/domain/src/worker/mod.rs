//! The worker: one entry for every bus event, whatever delivered it (EventBridge or in-process).

use tracing::warn;

use crate::answer::{AnswerConfig, WorkError};
use crate::ask::{AskOutcome, AskWorker};
use crate::events::Event;
use crate::ports::Ports;
use crate::respond::{MessageResponder, RespondOutcome};

/// Dispatches bus events to the service that handles them.
#[derive(Clone)]
pub struct Worker {
    ask: AskWorker,
    respond: MessageResponder,
}

/// How one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// An `ask.accepted` event.
    Ask(AskOutcome),
    /// A `discord.message` event.
    Message(RespondOutcome),
}

impl Worker {
    /// Builds every service from one set of ports.
    #[must_use]
    pub fn new(ports: &Ports, config: AnswerConfig) -> Self {
        Self { ask: AskWorker::new(ports, config), respond: MessageResponder::new(ports, config) }
    }

    /// Handles one event.
    ///
    /// # Errors
    /// Returns the service's error; [`WorkError::is_retryable`] says whether redelivery helps.
    pub async fn handle(&self, event: &Event) -> Result<Handled, WorkError> {
        let outcome = match event {
            Event::AskAccepted(accepted) => self.ask.answer(accepted).await.map(Handled::Ask),
            Event::MessageCreated(message) => self.respond.handle(message).await.map(Handled::Message),
        };
        if let Err(error) = &outcome {
            warn!(error = error as &dyn std::error::Error, detail_type = event.detail_type(), "event not handled");
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::events::{AskAccepted, ChannelMessage};
    use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionId, InteractionToken, MessageId, UserId};
    use crate::respond::SkipReason;
    use crate::testing::Fakes;

    #[tokio::test]
    async fn each_event_reaches_its_service() {
        let fakes = Fakes::default();
        let worker = Worker::new(&fakes.ports(), AnswerConfig::default());
        let ask = Event::AskAccepted(AskAccepted {
            interaction_id: InteractionId::new(1).unwrap(),
            application_id: ApplicationId::new(2).unwrap(),
            token: InteractionToken::new("t"),
            guild_id: GuildId::new(3).unwrap(),
            channel_id: ChannelId::new(4).unwrap(),
            user_id: UserId::new(5).unwrap(),
            user_name: "ana".into(),
            question: "refunds?".into(),
            locale: None,
            accepted_at: Timestamp::from_secs(1),
        });
        assert_eq!(worker.handle(&ask).await.unwrap(), Handled::Ask(AskOutcome::EmptyKnowledgeBase));
        let message = Event::MessageCreated(ChannelMessage {
            message_id: MessageId::new(6).unwrap(),
            application_id: ApplicationId::new(2).unwrap(),
            bot_user_id: UserId::new(7).unwrap(),
            guild_id: GuildId::new(3).unwrap(),
            channel_id: ChannelId::new(4).unwrap(),
            author_id: UserId::new(5).unwrap(),
            author_name: "ana".into(),
            content: "chat".into(),
            mentions_bot: false,
            replies_to_bot: false,
            sent_at: Timestamp::from_secs(1),
            author_roles: vec![],
            channel_name: None,
            parent_channel_id: None,
            attachments: 0,
            edited: false,
        });
        assert_eq!(
            worker.handle(&message).await.unwrap(),
            Handled::Message(RespondOutcome::Skipped(SkipReason::NotAddressed))
        );
    }
}
