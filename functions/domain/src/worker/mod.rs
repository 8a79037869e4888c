//! The worker: one entry for every bus event, whatever delivered it (EventBridge or in-process).

use tracing::warn;

use std::sync::Arc;

use crate::answer::{AnswerConfig, WorkError};
use crate::ask::{AskOutcome, AskWorker};
use crate::events::{ChannelMessage, Event};
use crate::moderation::{Moderated, ModerationPorts, Moderator};
use crate::ports::{Ports, SettingsStore};
use crate::respond::{MessageResponder, RespondOutcome};
use crate::settings::GuildSettings;

/// Dispatches bus events to the service that handles them.
#[derive(Clone)]
pub struct Worker {
    ask: AskWorker,
    respond: MessageResponder,
    moderator: Moderator,
    settings: Arc<dyn SettingsStore>,
}

/// How one event ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// An `ask.accepted` event.
    Ask(AskOutcome),
    /// A `discord.message` event that reached the responder (after moderation, if on).
    Message(RespondOutcome),
    /// A `discord.message` event moderation removed (or an edit, which is only moderated).
    Moderated(Box<Moderated>),
}

impl Worker {
    /// Builds every service from one set of ports.
    #[must_use]
    pub fn new(ports: &Ports, config: AnswerConfig) -> Self {
        let moderator = Moderator::new(ModerationPorts {
            usage: Arc::clone(&ports.usage),
            cases: Arc::clone(&ports.cases),
            claims: Arc::clone(&ports.claims),
            model: Arc::clone(&ports.model),
            discord: Arc::clone(&ports.discord),
            rest: Arc::clone(&ports.moderation),
            clock: Arc::clone(&ports.clock),
        });
        Self {
            ask: AskWorker::new(ports, config),
            respond: MessageResponder::new(ports, config),
            moderator,
            settings: Arc::clone(&ports.settings),
        }
    }

    /// A guild message: moderated first when moderation is on (F14), then answered unless it
    /// was removed (F21). An edit is moderated again, never answered again.
    async fn message(&self, message: &ChannelMessage) -> Result<Handled, WorkError> {
        let settings =
            GuildSettings::load(self.settings.as_ref(), message.guild_id).await.map_err(WorkError::Settings)?;
        let moderated = self.moderator.moderate(message, &settings).await?;
        if moderated.deleted() || message.edited {
            return Ok(Handled::Moderated(Box::new(moderated)));
        }
        self.respond.handle(message).await.map(Handled::Message)
    }

    /// Handles one event.
    ///
    /// # Errors
    /// Returns the service's error; [`WorkError::is_retryable`] says whether redelivery helps.
    pub async fn handle(&self, event: &Event) -> Result<Handled, WorkError> {
        let outcome = match event {
            Event::AskAccepted(accepted) => self.ask.answer(accepted).await.map(Handled::Ask),
            Event::MessageCreated(message) => self.message(message).await,
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

    #[tokio::test]
    async fn moderation_runs_first_and_a_removed_message_is_not_answered() {
        use crate::ports::SettingsStore;
        let fakes = Fakes::default();
        let guild = GuildId::new(3).unwrap();
        fakes.discord.standard_guild(guild);
        let mut settings = crate::settings::GuildSettings::default();
        settings.moderation.enabled = true;
        settings.moderation.rules = "No spam.".into();
        fakes.store.put_settings(guild, &settings).await.unwrap();
        let worker = Worker::new(&fakes.ports(), AnswerConfig::default());
        let message = |id: u64, content: &str| {
            Event::MessageCreated(ChannelMessage {
                message_id: MessageId::new(id).unwrap(),
                application_id: ApplicationId::new(2).unwrap(),
                bot_user_id: UserId::new(crate::testing::FAKE_BOT).unwrap(),
                guild_id: guild,
                channel_id: ChannelId::new(4).unwrap(),
                author_id: UserId::new(5).unwrap(),
                author_name: "ana".into(),
                content: content.into(),
                mentions_bot: true,
                replies_to_bot: false,
                sent_at: Timestamp::from_secs(1),
                author_roles: vec![],
                channel_name: None,
                parent_channel_id: None,
                attachments: 0,
                edited: false,
            })
        };
        fakes.model.push_verdict(Ok(crate::testing::violation(1, "cheap followers", "high", 0.95)));
        let handled = worker.handle(&message(10, "<@900> cheap followers here")).await.unwrap();
        assert!(matches!(handled, Handled::Moderated(ref m) if m.deleted()), "{handled:?}");
        assert!(fakes.model.requests().is_empty(), "a removed message is not answered");
        let handled = worker.handle(&message(11, "<@900> how do refunds work?")).await.unwrap();
        assert!(matches!(handled, Handled::Message(_)), "a clean message goes on to be answered: {handled:?}");
    }
}
