//! The interactions endpoint's side of `/ask`: cheap checks, publish, defer.

use std::sync::Arc;

use tracing::warn;

use super::{AskCommand, MAX_QUESTION_CHARS};
use crate::clock::Clock;
use crate::events::{AskAccepted, Event};
use crate::language::Language;
use crate::ports::{EventBus, SettingsStore, UsageStore};
use crate::quota::Month;
use crate::settings::{GuildSettings, Silence};
use crate::texts;

/// The endpoint's immediate reply to Discord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeReply {
    /// "Steward is thinking…" (type 5); the worker will edit it.
    Deferred,
    /// A message only the member sees (type 4, ephemeral); nothing else happens.
    Ephemeral(String),
}

/// Accepts `/ask` on the interactions endpoint: cheap checks, publish, defer.
#[derive(Clone)]
pub struct AskIntake {
    settings: Arc<dyn SettingsStore>,
    usage: Arc<dyn UsageStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
}

impl AskIntake {
    /// Builds the intake from its ports (the interactions endpoint has no others).
    #[must_use]
    pub fn new(
        settings: Arc<dyn SettingsStore>,
        usage: Arc<dyn UsageStore>,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { settings, usage, bus, clock }
    }

    /// Checks and queues one `/ask`. Never fails: every problem becomes an ephemeral reply.
    #[tracing::instrument(skip_all, fields(interaction = %command.interaction_id))]
    pub async fn accept(&self, command: AskCommand) -> IntakeReply {
        let language = Language::of_member(&command.question, command.locale.as_deref());
        let Some(guild) = command.guild_id else {
            return IntakeReply::Ephemeral(texts::ask_in_dm(language).into());
        };
        let question = command.question.trim();
        if question.is_empty() {
            return IntakeReply::Ephemeral(texts::ask_empty(language).into());
        }
        let length = question.chars().count();
        if length > MAX_QUESTION_CHARS {
            return IntakeReply::Ephemeral(texts::question_too_long(language, length, MAX_QUESTION_CHARS));
        }
        let now = self.clock.now();
        let month = Month::containing(now);
        let (settings, used) =
            futures::future::join(GuildSettings::load(self.settings.as_ref(), guild), self.usage.used(guild, month))
                .await;
        let (settings, used) = match (settings, used) {
            (Ok(settings), Ok(used)) => (settings, used),
            (Err(error), _) | (_, Err(error)) => {
                warn!(error = &error as &dyn std::error::Error, "could not check settings or quota");
                return IntakeReply::Ephemeral(texts::not_queued(language).into());
            }
        };
        // `/ask` works in every response mode and needs no mention: only the switch and the
        // allow-list apply.
        match settings.answers_in(command.channel_id, true) {
            Err(Silence::Disabled) => return IntakeReply::Ephemeral(texts::turned_off(language).into()),
            Err(Silence::ChannelNotAllowed) => {
                return IntakeReply::Ephemeral(texts::channel_not_allowed(language).into());
            }
            Ok(()) | Err(Silence::AskOnly | Silence::NotAddressed) => {}
        }
        let limit = settings.plan.monthly_limit();
        if used >= limit {
            return IntakeReply::Ephemeral(texts::quota_exhausted(language, limit, month));
        }
        let event = Event::AskAccepted(AskAccepted {
            interaction_id: command.interaction_id,
            application_id: command.application_id,
            token: command.token,
            guild_id: guild,
            channel_id: command.channel_id,
            user_id: command.user_id,
            user_name: command.user_name,
            question: question.to_owned(),
            locale: command.locale,
            accepted_at: now,
        });
        match self.bus.publish(&event).await {
            Ok(()) => IntakeReply::Deferred,
            Err(error) => {
                warn!(error = &error as &dyn std::error::Error, "could not queue the question");
                IntakeReply::Ephemeral(texts::not_queued(language).into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionId, InteractionToken, UserId};
    use crate::quota::Plan;
    use crate::settings::ResponseMode;
    use crate::testing::Fakes;

    fn guild() -> GuildId {
        GuildId::new(10).unwrap()
    }

    fn intake(fakes: &Fakes) -> AskIntake {
        let store = Arc::new(fakes.store.clone());
        AskIntake::new(store.clone(), store, Arc::new(fakes.bus.clone()), fakes.clock.clone())
    }

    fn command(question: &str) -> AskCommand {
        AskCommand {
            interaction_id: InteractionId::new(99).unwrap(),
            application_id: ApplicationId::new(1).unwrap(),
            token: InteractionToken::new("tok"),
            guild_id: Some(guild()),
            channel_id: ChannelId::new(2).unwrap(),
            user_id: UserId::new(3).unwrap(),
            user_name: "ana".into(),
            question: question.into(),
            locale: None,
        }
    }

    #[tokio::test]
    async fn intake_defers_and_publishes_a_valid_question() {
        let fakes = Fakes::default();
        assert_eq!(intake(&fakes).accept(command("  how do I pay? ")).await, IntakeReply::Deferred);
        let events = fakes.bus.events();
        assert_eq!(events.len(), 1);
        let Event::AskAccepted(event) = &events[0] else { panic!("{events:?}") };
        assert_eq!(event.question, "how do I pay?");
        assert_eq!(event.accepted_at, fakes.clock.now());
    }

    #[tokio::test]
    async fn refusals_speak_the_members_language() {
        let fakes = Fakes::default();
        let off = GuildSettings { enabled: false, ..GuildSettings::default() };
        fakes.store.put_settings(guild(), &off).await.unwrap();
        let intake = intake(&fakes);
        let spanish = intake.accept(command("¿Cómo pido un reembolso?")).await;
        assert_eq!(spanish, IntakeReply::Ephemeral("Steward está desactivado en este servidor.".into()));
        let polish = AskCommand { locale: Some("pl".into()), ..command("ok?") };
        assert_eq!(
            intake.accept(polish).await,
            IntakeReply::Ephemeral("Steward jest wyłączony na tym serwerze.".into())
        );
    }

    #[tokio::test]
    async fn intake_works_in_ask_only_mode() {
        let fakes = Fakes::default();
        let ask_only = GuildSettings { response_mode: ResponseMode::AskOnly, ..GuildSettings::default() };
        fakes.store.put_settings(guild(), &ask_only).await.unwrap();
        assert_eq!(intake(&fakes).accept(command("how do I pay?")).await, IntakeReply::Deferred);
    }

    #[tokio::test]
    async fn intake_refuses_without_publishing() {
        let fakes = Fakes::default();
        let intake = intake(&fakes);
        let dm = AskCommand { guild_id: None, ..command("hi") };
        assert!(matches!(intake.accept(dm).await, IntakeReply::Ephemeral(m) if m.contains("inside a server")));
        assert!(matches!(intake.accept(command("   ")).await, IntakeReply::Ephemeral(_)));
        let long = "x".repeat(MAX_QUESTION_CHARS + 1);
        assert!(matches!(intake.accept(command(&long)).await, IntakeReply::Ephemeral(m) if m.contains("1001")));

        let elsewhere =
            GuildSettings { allowed_channels: vec![ChannelId::new(77).unwrap()], ..GuildSettings::default() };
        fakes.store.put_settings(guild(), &elsewhere).await.unwrap();
        assert!(matches!(intake.accept(command("hi")).await, IntakeReply::Ephemeral(m) if m.contains("this channel")));

        let off = GuildSettings { enabled: false, ..GuildSettings::default() };
        fakes.store.put_settings(guild(), &off).await.unwrap();
        assert!(matches!(intake.accept(command("hi")).await, IntakeReply::Ephemeral(m) if m.contains("turned off")));

        let tiny = GuildSettings { plan: Plan::Custom(1), ..GuildSettings::default() };
        fakes.store.put_settings(guild(), &tiny).await.unwrap();
        fakes.store.reserve(guild(), Month::containing(fakes.clock.now()), 1).await.unwrap();
        assert!(matches!(intake.accept(command("hi")).await, IntakeReply::Ephemeral(m) if m.contains("used all 1")));
        assert!(fakes.bus.events().is_empty());
    }
}
