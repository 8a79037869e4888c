//! The `/ask` flow (F7, F9, F10, F27): the endpoint's intake and the worker's answer.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::answering;
use crate::clock::{Clock, Timestamp};
use crate::conversation::{self, ConversationKey};
use crate::events::{AskAccepted, Event};
use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionId, InteractionToken, UserId};
use crate::message::OutboundMessage;
use crate::model::{AnswerRequest, ChatModel, ModelErrorKind};
use crate::ports::{
    ClaimStore, ConversationStore, DiscordRest, EventBus, KnowledgeSearch, SettingsStore, StoreError, UsageStore,
};
use crate::quota::{Month, Reservation};
use crate::settings::GuildSettings;

/// The slash command's name.
pub const ASK_COMMAND: &str = "ask";
/// The slash command's one option.
pub const QUESTION_OPTION: &str = "question";
/// The longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 1_000;

/// An `/ask` as the endpoint received it, already authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskCommand {
    /// The interaction.
    pub interaction_id: InteractionId,
    /// The application it was sent to.
    pub application_id: ApplicationId,
    /// Its continuation token.
    pub token: InteractionToken,
    /// The guild, or `None` in a DM.
    pub guild_id: Option<GuildId>,
    /// The channel.
    pub channel_id: ChannelId,
    /// Who asked.
    pub user_id: UserId,
    /// Their display name.
    pub user_name: String,
    /// The question as typed.
    pub question: String,
    /// Their Discord locale.
    pub locale: Option<String>,
}

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
    /// Builds the intake from its ports.
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
        let Some(guild) = command.guild_id else {
            return IntakeReply::Ephemeral("`/ask` works inside a server, not in direct messages.".into());
        };
        let question = command.question.trim();
        if question.is_empty() {
            return IntakeReply::Ephemeral("Please type a question after `/ask`.".into());
        }
        let length = question.chars().count();
        if length > MAX_QUESTION_CHARS {
            return IntakeReply::Ephemeral(format!(
                "That question is {length} characters long; please keep it under {MAX_QUESTION_CHARS}."
            ));
        }
        let now = self.clock.now();
        let month = Month::containing(now);
        let (settings, used) =
            futures::future::join(load_settings(self.settings.as_ref(), guild), self.usage.used(guild, month)).await;
        let (settings, used) = match (settings, used) {
            (Ok(settings), Ok(used)) => (settings, used),
            (Err(error), _) | (_, Err(error)) => {
                warn!(error = &error as &dyn std::error::Error, "could not check settings or quota");
                return IntakeReply::Ephemeral(TEMPORARY_FAILURE.into());
            }
        };
        if !settings.enabled {
            return IntakeReply::Ephemeral("Steward is turned off in this server.".into());
        }
        if !settings.channel_allowed(command.channel_id) {
            return IntakeReply::Ephemeral(
                "Steward doesn't answer in this channel. Try one of the help channels.".into(),
            );
        }
        let limit = settings.plan.monthly_limit();
        if used >= limit {
            return IntakeReply::Ephemeral(quota_message(limit, month));
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
                IntakeReply::Ephemeral(TEMPORARY_FAILURE.into())
            }
        }
    }
}

/// What the worker tells members when infrastructure fails before anything was queued.
const TEMPORARY_FAILURE: &str = "Steward couldn't take your question just now. Please try again in a moment.";

/// What a member hears when the monthly quota is used up.
pub(crate) fn quota_message(limit: u64, month: Month) -> String {
    format!(
        "This server has used all {limit} AI messages of its plan for {month}. The quota resets on the 1st of next month; \
         a server admin can change the plan."
    )
}

/// Loads a guild's settings, or the defaults for a guild never configured (F1: ready at once).
///
/// # Errors
/// Returns the store's error.
pub async fn load_settings(store: &dyn SettingsStore, guild: GuildId) -> Result<GuildSettings, StoreError> {
    Ok(store.get_settings(guild).await?.unwrap_or_default())
}

/// Tunables of the answer flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AskConfig {
    /// How long conversation turns are kept for follow-ups.
    pub retention: Duration,
    /// How many earlier turns the model sees.
    pub context_turns: usize,
    /// How many passages are retrieved.
    pub passages: usize,
    /// How long an interaction id stays claimed (longer than any redelivery).
    pub claim_ttl: Duration,
}

impl Default for AskConfig {
    fn default() -> Self {
        Self {
            retention: conversation::DEFAULT_RETENTION,
            context_turns: conversation::CONTEXT_TURNS,
            passages: 4,
            claim_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// The ports the answer flow uses.
#[derive(Clone)]
pub struct AskPorts {
    /// Guild settings.
    pub settings: Arc<dyn SettingsStore>,
    /// Quota counters.
    pub usage: Arc<dyn UsageStore>,
    /// Conversation turns.
    pub conversations: Arc<dyn ConversationStore>,
    /// Idempotency claims.
    pub claims: Arc<dyn ClaimStore>,
    /// Knowledge-base search.
    pub search: Arc<dyn KnowledgeSearch>,
    /// The language model.
    pub model: Arc<dyn ChatModel>,
    /// Discord.
    pub discord: Arc<dyn DiscordRest>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// How one `ask.accepted` event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskOutcome {
    /// Answered in `parts` messages.
    Answered {
        /// How many messages the answer took.
        parts: usize,
    },
    /// Already handled by an earlier delivery; nothing posted.
    Duplicate,
    /// The member was told the quota is used up.
    QuotaExhausted,
    /// The member was told the knowledge base is empty.
    EmptyKnowledgeBase,
    /// Something failed; the member was told so.
    Failed {
        /// A short reason for logs.
        reason: String,
    },
}

/// A failure that left a member without an answer; [`WorkError::is_retryable`] says whether
/// redelivering the event may help.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// The idempotency claim could not be made; nothing was done.
    #[error("could not claim the event")]
    Claim(#[source] StoreError),
    /// Even the failure message could not be posted.
    #[error("could not reach the member")]
    Discord(#[source] crate::ports::DiscordError),
}

impl WorkError {
    /// Whether redelivering the event may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Claim(error) => error.is_retryable(),
            Self::Discord(_) => false,
        }
    }
}

/// Answers accepted `/ask` events: claim, context, retrieval, model, edit `@original`, log, count.
#[derive(Clone)]
pub struct AskWorker {
    ports: AskPorts,
    config: AskConfig,
}

/// Why an answer attempt failed before anything reached the member.
enum Failure {
    Quota(u64, Month),
    EmptyKb,
    Store(StoreError),
    Search(crate::ports::SearchError),
    Model(crate::model::ModelError),
}

impl AskWorker {
    /// Builds the worker.
    #[must_use]
    pub fn new(ports: AskPorts, config: AskConfig) -> Self {
        Self { ports, config }
    }

    /// Handles one `ask.accepted` event.
    ///
    /// # Errors
    /// Returns [`WorkError`] only when the member could not be told anything.
    #[tracing::instrument(skip_all, fields(guild = %event.guild_id, interaction = %event.interaction_id))]
    pub async fn answer(&self, event: &AskAccepted) -> Result<AskOutcome, WorkError> {
        let now = self.ports.clock.now();
        let key = format!("ask:{}", event.interaction_id);
        let fresh = self.ports.claims.claim(&key, now, now.plus(self.config.claim_ttl)).await.map_err(WorkError::Claim)?
            == crate::ports::Claim::Acquired;
        if !fresh {
            info!("duplicate delivery ignored");
            return Ok(AskOutcome::Duplicate);
        }
        let month = Month::containing(now);
        match self.generate(event, now, month).await {
            Ok((parts, answer_text)) => {
                self.deliver(event, &parts).await?;
                self.log_turns(event, &answer_text, now).await;
                info!(parts = parts.len(), "answered");
                Ok(AskOutcome::Answered { parts: parts.len() })
            }
            Err(failure) => {
                let (message, outcome) = self.describe(failure, event, month).await;
                self.ports
                    .discord
                    .edit_original(event.application_id, &event.token, &OutboundMessage::text(message))
                    .await
                    .map_err(WorkError::Discord)?;
                Ok(outcome)
            }
        }
    }

    async fn generate(
        &self,
        event: &AskAccepted,
        now: Timestamp,
        month: Month,
    ) -> Result<(Vec<String>, String), Failure> {
        let settings = load_settings(self.ports.settings.as_ref(), event.guild_id).await.map_err(Failure::Store)?;
        let limit = settings.plan.monthly_limit();
        match self.ports.usage.reserve(event.guild_id, month, limit).await.map_err(Failure::Store)? {
            Reservation::Granted { .. } => {}
            Reservation::Exhausted => return Err(Failure::Quota(limit, month)),
        }
        let conversation = self.conversation(event);
        let history = self
            .ports
            .conversations
            .recent_turns(conversation, self.config.context_turns, now)
            .await
            .map_err(Failure::Store)?;
        let query = answering::retrieval_query(&event.question, &history);
        let results =
            self.ports.search.search(event.guild_id, &query, self.config.passages).await.map_err(Failure::Search)?;
        if results.corpus_chunks == 0 {
            return Err(Failure::EmptyKb);
        }
        let request = AnswerRequest {
            question: event.question.clone(),
            asker: event.user_name.clone(),
            history,
            passages: results.passages,
            locale: event.locale.clone(),
            channel_context: Vec::new(),
        };
        let raw = self.ports.model.answer(&request).await.map_err(Failure::Model)?;
        answering::compose(&raw, &request.passages).map_err(Failure::Model)
    }

    async fn deliver(&self, event: &AskAccepted, parts: &[String]) -> Result<(), WorkError> {
        let discord = &self.ports.discord;
        let mut parts = parts.iter();
        if let Some(first) = parts.next() {
            discord
                .edit_original(event.application_id, &event.token, &OutboundMessage::text(first.clone()))
                .await
                .map_err(WorkError::Discord)?;
        }
        for part in parts.take(crate::message::MAX_PARTS - 1) {
            discord
                .create_followup(event.application_id, &event.token, &OutboundMessage::text(part.clone()))
                .await
                .map_err(WorkError::Discord)?;
        }
        Ok(())
    }

    fn conversation(&self, event: &AskAccepted) -> ConversationKey {
        ConversationKey { guild: event.guild_id, channel: event.channel_id, user: event.user_id }
    }

    async fn log_turns(&self, event: &AskAccepted, answer: &str, now: Timestamp) {
        let key = self.conversation(event);
        let store = self.ports.conversations.as_ref();
        answering::log_exchange(store, key, &event.question, answer, now, self.config.retention).await;
    }

    /// Turns a failure into the member-facing message, refunding the quota where it was reserved.
    async fn describe(&self, failure: Failure, event: &AskAccepted, month: Month) -> (String, AskOutcome) {
        let refund = !matches!(failure, Failure::Quota(..) | Failure::Store(_));
        if refund && let Err(error) = self.ports.usage.release(event.guild_id, month).await {
            warn!(error = &error as &dyn std::error::Error, "could not refund the quota");
        }
        match failure {
            Failure::Quota(limit, month) => (quota_message(limit, month), AskOutcome::QuotaExhausted),
            Failure::EmptyKb => (
                "I don't have a knowledge base to answer from yet. A server admin can add documents \
                 (`steward kb import` or the settings API)."
                    .into(),
                AskOutcome::EmptyKnowledgeBase,
            ),
            Failure::Store(error) => {
                warn!(error = &error as &dyn std::error::Error, "storage failed while answering");
                (ANSWER_FAILURE.into(), AskOutcome::Failed { reason: error.to_string() })
            }
            Failure::Search(error) => {
                warn!(error = &error as &dyn std::error::Error, "search failed while answering");
                (ANSWER_FAILURE.into(), AskOutcome::Failed { reason: error.to_string() })
            }
            Failure::Model(error) => {
                warn!(error = &error as &dyn std::error::Error, model = %self.ports.model.name(), "model failed");
                let message = match error.kind {
                    ModelErrorKind::Timeout | ModelErrorKind::Unavailable | ModelErrorKind::RateLimited => {
                        "Sorry, the AI service is busy or unreachable right now. Please try again in a minute."
                    }
                    ModelErrorKind::Rejected | ModelErrorKind::Malformed => {
                        "Sorry, I couldn't produce an answer. A server admin may need to check Steward's AI settings."
                    }
                };
                (message.into(), AskOutcome::Failed { reason: error.to_string() })
            }
        }
    }
}

/// What the member sees when storage or search failed mid-answer.
const ANSWER_FAILURE: &str = "Sorry, something went wrong while I was looking that up. Please try again in a minute.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DocumentId;
    use crate::knowledge::{KbScope, NewDocument};
    use crate::model::ModelErrorKind;
    use crate::ports::KnowledgeStore;
    use crate::quota::Plan;
    use crate::testing::{
        DiscordCall, ManualClock, MemoryStore, NaiveSearch, RecordingBus, RecordingDiscord, ScriptedModel,
    };

    const NOW: i64 = 1_795_000_000;

    struct Harness {
        store: MemoryStore,
        discord: RecordingDiscord,
        model: ScriptedModel,
        bus: RecordingBus,
        clock: Arc<ManualClock>,
        worker: AskWorker,
        intake: AskIntake,
    }

    fn guild() -> GuildId {
        GuildId::new(10).unwrap()
    }

    fn harness() -> Harness {
        let store = MemoryStore::default();
        let discord = RecordingDiscord::default();
        let model = ScriptedModel::default();
        let bus = RecordingBus::default();
        let clock = Arc::new(ManualClock::at(Timestamp::from_secs(NOW)));
        let ports = AskPorts {
            settings: Arc::new(store.clone()),
            usage: Arc::new(store.clone()),
            conversations: Arc::new(store.clone()),
            claims: Arc::new(store.clone()),
            search: Arc::new(NaiveSearch(Arc::new(store.clone()))),
            model: Arc::new(model.clone()),
            discord: Arc::new(discord.clone()),
            clock: clock.clone(),
        };
        let intake =
            AskIntake::new(Arc::new(store.clone()), Arc::new(store.clone()), Arc::new(bus.clone()), clock.clone());
        Harness { worker: AskWorker::new(ports, AskConfig::default()), store, discord, model, bus, clock, intake }
    }

    async fn add_doc(store: &MemoryStore, body: &str) {
        let (doc, chunks) = NewDocument { title: "FAQ".into(), source: None, body: body.into() }
            .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
            .unwrap();
        store.put_document(KbScope::Guild(guild()), &doc, &chunks).await.unwrap();
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

    fn accepted(id: u64, question: &str) -> AskAccepted {
        AskAccepted {
            interaction_id: InteractionId::new(id).unwrap(),
            application_id: ApplicationId::new(1).unwrap(),
            token: InteractionToken::new("tok"),
            guild_id: guild(),
            channel_id: ChannelId::new(2).unwrap(),
            user_id: UserId::new(3).unwrap(),
            user_name: "ana".into(),
            question: question.into(),
            locale: None,
            accepted_at: Timestamp::from_secs(NOW),
        }
    }

    fn edits(discord: &RecordingDiscord) -> Vec<String> {
        discord
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                DiscordCall::EditOriginal(m) => Some(m.content),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn intake_defers_and_publishes_a_valid_question() {
        let h = harness();
        assert_eq!(h.intake.accept(command("  how do I pay? ")).await, IntakeReply::Deferred);
        let events = h.bus.events();
        assert_eq!(events.len(), 1);
        let Event::AskAccepted(event) = &events[0] else { panic!("{events:?}") };
        assert_eq!(event.question, "how do I pay?");
        assert_eq!(event.accepted_at, Timestamp::from_secs(NOW));
    }

    #[tokio::test]
    async fn intake_refuses_without_publishing() {
        let h = harness();
        let dm = AskCommand { guild_id: None, ..command("hi") };
        assert!(matches!(h.intake.accept(dm).await, IntakeReply::Ephemeral(m) if m.contains("inside a server")));
        assert!(matches!(h.intake.accept(command("   ")).await, IntakeReply::Ephemeral(_)));
        let long = "x".repeat(MAX_QUESTION_CHARS + 1);
        assert!(matches!(h.intake.accept(command(&long)).await, IntakeReply::Ephemeral(m) if m.contains("1001")));

        let off = GuildSettings { enabled: false, ..GuildSettings::default() };
        h.store.put_settings(guild(), &off).await.unwrap();
        assert!(matches!(h.intake.accept(command("hi")).await, IntakeReply::Ephemeral(m) if m.contains("turned off")));

        let tiny = GuildSettings { plan: Plan::Custom(1), ..GuildSettings::default() };
        h.store.put_settings(guild(), &tiny).await.unwrap();
        h.store.reserve(guild(), Month::containing(h.clock.now()), 1).await.unwrap();
        assert!(matches!(h.intake.accept(command("hi")).await, IntakeReply::Ephemeral(m) if m.contains("used all 1")));
        assert!(h.bus.events().is_empty());
    }

    #[tokio::test]
    async fn worker_answers_with_sources_logs_turns_and_counts_quota() {
        let h = harness();
        add_doc(&h.store, "# Billing\nPlans are paid monthly by card.").await;
        h.model.push(Ok("You pay monthly by card [1]."));
        let outcome = h.worker.answer(&accepted(1, "how do I pay for plans?")).await.unwrap();
        assert_eq!(outcome, AskOutcome::Answered { parts: 1 });
        let edits = edits(&h.discord);
        assert_eq!(edits, ["You pay monthly by card [1].\n\n-# Sources: [1] FAQ › Billing"]);
        assert_eq!(h.store.used(guild(), Month::containing(h.clock.now())).await.unwrap(), 1);
        let key =
            ConversationKey { guild: guild(), channel: ChannelId::new(2).unwrap(), user: UserId::new(3).unwrap() };
        let turns = h.store.recent_turns(key, 10, h.clock.now()).await.unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[1].text, "You pay monthly by card [1].");
    }

    #[tokio::test]
    async fn follow_ups_see_the_previous_turns_and_retrieve_with_them() {
        let h = harness();
        add_doc(&h.store, "# Pro\nThe Pro plan costs 10 euros a month.\n\n# Other\nUnrelated text.").await;
        h.worker.answer(&accepted(1, "tell me about the pro plan")).await.unwrap();
        h.clock.advance(Duration::from_secs(30));
        h.worker.answer(&accepted(2, "how much is it?")).await.unwrap();
        let requests = h.model.requests();
        let second = &requests[1];
        assert_eq!(second.history.len(), 2);
        assert_eq!(second.history[0].text, "tell me about the pro plan");
        assert!(second.passages[0].text.contains("10 euros"), "retrieval used the earlier question");
    }

    #[tokio::test]
    async fn duplicate_deliveries_answer_once() {
        let h = harness();
        add_doc(&h.store, "Plans are paid monthly.").await;
        assert_eq!(h.worker.answer(&accepted(5, "plans?")).await.unwrap(), AskOutcome::Answered { parts: 1 });
        assert_eq!(h.worker.answer(&accepted(5, "plans?")).await.unwrap(), AskOutcome::Duplicate);
        assert_eq!(edits(&h.discord).len(), 1);
        assert_eq!(h.store.used(guild(), Month::containing(h.clock.now())).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn model_failures_tell_the_member_and_refund_the_quota() {
        let h = harness();
        add_doc(&h.store, "Plans are paid monthly.").await;
        h.model.push(Err(ModelErrorKind::Unavailable));
        let outcome = h.worker.answer(&accepted(1, "plans?")).await.unwrap();
        assert!(matches!(outcome, AskOutcome::Failed { .. }));
        assert!(edits(&h.discord)[0].contains("try again"));
        assert_eq!(h.store.used(guild(), Month::containing(h.clock.now())).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn an_empty_knowledge_base_is_explained() {
        let h = harness();
        assert_eq!(h.worker.answer(&accepted(1, "plans?")).await.unwrap(), AskOutcome::EmptyKnowledgeBase);
        assert!(edits(&h.discord)[0].contains("knowledge base"));
        assert!(h.model.requests().is_empty(), "no model call is paid for an empty knowledge base");
    }

    #[tokio::test]
    async fn exhausted_quota_is_explained_at_the_worker_too() {
        let h = harness();
        add_doc(&h.store, "Plans are paid monthly.").await;
        h.store
            .put_settings(guild(), &GuildSettings { plan: Plan::Custom(1), ..GuildSettings::default() })
            .await
            .unwrap();
        h.store.reserve(guild(), Month::containing(h.clock.now()), 1).await.unwrap();
        assert_eq!(h.worker.answer(&accepted(1, "plans?")).await.unwrap(), AskOutcome::QuotaExhausted);
        assert!(edits(&h.discord)[0].contains("used all 1"));
        assert_eq!(
            h.store.used(guild(), Month::containing(h.clock.now())).await.unwrap(),
            1,
            "no refund of what was not reserved"
        );
    }

    #[tokio::test]
    async fn long_answers_become_follow_ups_under_the_limit() {
        let h = harness();
        add_doc(&h.store, "Plans are paid monthly.").await;
        let long = "word ".repeat(1_000);
        h.model.push(Ok(&long));
        assert_eq!(h.worker.answer(&accepted(1, "plans?")).await.unwrap(), AskOutcome::Answered { parts: 3 });
        let calls = h.discord.calls();
        assert!(matches!(calls[0], DiscordCall::EditOriginal(_)));
        assert!(calls[1..].iter().all(|c| matches!(c, DiscordCall::Followup(m) if m.content.chars().count() <= 2000)));
    }
}
