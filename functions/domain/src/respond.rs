//! Answering in the channel (F5, F6, F6a, F6b, F10, F21): forwarded gateway messages in, replies out.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::answering;
use crate::ask::{AskConfig, WorkError, load_settings};
use crate::clock::{Clock, Timestamp};
use crate::conversation::{self, ChannelLine, ConversationKey};
use crate::events::ChannelMessage;
use crate::ids::UserId;
use crate::message::{MAX_PARTS, OutboundMessage};
use crate::model::{AnswerRequest, ChatModel, DecideRequest};
use crate::ports::{
    ChannelHistory, ClaimStore, ConversationStore, DiscordRest, KnowledgeSearch, SettingsStore, UsageStore,
};
use crate::quota::{Month, Reservation};
use crate::settings::{GuildSettings, ResponseMode};

/// The ports the channel responder uses.
#[derive(Clone)]
pub struct RespondPorts {
    /// Guild settings.
    pub settings: Arc<dyn SettingsStore>,
    /// Quota counters.
    pub usage: Arc<dyn UsageStore>,
    /// Per-member conversation turns.
    pub conversations: Arc<dyn ConversationStore>,
    /// Per-channel recent conversation.
    pub history: Arc<dyn ChannelHistory>,
    /// Idempotency and cooldown claims.
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

/// Why a message got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Steward is off in the guild.
    Disabled,
    /// The channel is not on the allow-list.
    ChannelNotAllowed,
    /// Mention mode and the message does not address the bot.
    NotAddressed,
    /// `/ask`-only mode.
    AskOnly,
    /// Smart mode judged it casual chat or not covered by the knowledge base.
    NotAnswerable,
    /// The member asked again within the cooldown.
    Cooldown,
    /// The quota is used up and the message did not address the bot, so nothing is said.
    QuotaExhausted,
    /// Something failed on a message that did not address the bot; nothing is said.
    Failed,
}

/// How one forwarded message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespondOutcome {
    /// Answered in `parts` messages.
    Answered {
        /// How many messages the answer took.
        parts: usize,
    },
    /// A bare mention got the how-to-ask greeting.
    Greeted,
    /// Already handled by an earlier delivery.
    Duplicate,
    /// No answer, on purpose.
    Skipped(SkipReason),
    /// The member was told the quota is used up.
    QuotaExhausted,
    /// Something failed; the member who addressed the bot was told so.
    Failed {
        /// A short reason for logs.
        reason: String,
    },
}

/// Answers channel messages forwarded by the gateway.
#[derive(Clone)]
pub struct MessageResponder {
    ports: RespondPorts,
    config: AskConfig,
}

/// Removes the bot's mentions (`<@id>`, `<@!id>`) and tidies the space they leave.
#[must_use]
pub fn strip_mention(content: &str, bot: UserId) -> String {
    let text = content.replace(&format!("<@{bot}>"), " ").replace(&format!("<@!{bot}>"), " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ").trim_start_matches([',', ':']).trim().to_owned()
}

fn greeting(name: &str) -> String {
    format!(
        "Hi {name}! Ask me anything about this community: mention me with your question, for example \
         \"@Steward how do refunds work?\", or use `/ask`."
    )
}

const FAILURE: &str = "Sorry, I couldn't answer that just now. Please try again in a minute.";

impl MessageResponder {
    /// Builds the responder.
    #[must_use]
    pub fn new(ports: RespondPorts, config: AskConfig) -> Self {
        Self { ports, config }
    }

    /// Handles one forwarded message.
    ///
    /// # Errors
    /// Returns [`WorkError`] when the message could not be claimed (redelivery may help) or a
    /// reply could not be posted.
    #[tracing::instrument(skip_all, fields(guild = %message.guild_id, message = %message.message_id))]
    pub async fn handle(&self, message: &ChannelMessage) -> Result<RespondOutcome, WorkError> {
        let now = self.ports.clock.now();
        let key = format!("msg:{}", message.message_id);
        if self.ports.claims.claim(&key, now, now.plus(self.config.claim_ttl)).await.map_err(WorkError::Claim)?
            != crate::ports::Claim::Acquired
        {
            return Ok(RespondOutcome::Duplicate);
        }
        let settings = match load_settings(self.ports.settings.as_ref(), message.guild_id).await {
            Ok(settings) => settings,
            Err(error) => {
                warn!(error = &error as &dyn std::error::Error, "could not load settings");
                return Ok(RespondOutcome::Failed { reason: error.to_string() });
            }
        };
        let addressed = message.mentions_bot || message.replies_to_bot;
        if let Some(reason) = self.gate(&settings, message, addressed) {
            return Ok(RespondOutcome::Skipped(reason));
        }
        let question = strip_mention(&message.content, message.bot_user_id);
        let context = self.channel_context(&settings, message, &question, now).await;
        if question.is_empty() {
            if !addressed {
                return Ok(RespondOutcome::Skipped(SkipReason::NotAnswerable));
            }
            self.reply(message, greeting(&message.author_name)).await?;
            return Ok(RespondOutcome::Greeted);
        }
        self.answer(&settings, message, &question, addressed, context, now).await
    }

    /// The reasons to stay silent that need no I/O.
    fn gate(&self, settings: &GuildSettings, message: &ChannelMessage, addressed: bool) -> Option<SkipReason> {
        if !settings.enabled {
            return Some(SkipReason::Disabled);
        }
        if !settings.channel_allowed(message.channel_id) {
            return Some(SkipReason::ChannelNotAllowed);
        }
        match settings.response_mode {
            ResponseMode::AskOnly => Some(SkipReason::AskOnly),
            ResponseMode::Mention if !addressed => Some(SkipReason::NotAddressed),
            ResponseMode::Mention | ResponseMode::AllMessages => None,
        }
    }

    /// Records the message in the channel's history and returns the lines before it, when
    /// channel context is on in all-messages mode.
    async fn channel_context(
        &self,
        settings: &GuildSettings,
        message: &ChannelMessage,
        question: &str,
        now: Timestamp,
    ) -> Vec<ChannelLine> {
        if settings.response_mode != ResponseMode::AllMessages || !settings.channel_context {
            return Vec::new();
        }
        let history = &self.ports.history;
        let earlier = history
            .recent_lines(message.guild_id, message.channel_id, conversation::CHANNEL_CONTEXT_LINES, now)
            .await
            .unwrap_or_else(|error| {
                warn!(error = &error as &dyn std::error::Error, "could not load channel context");
                Vec::new()
            });
        let line = ChannelLine {
            author_id: message.author_id,
            author: message.author_name.clone(),
            text: question.to_owned(),
            at: message.sent_at,
        };
        let expires = now.plus(self.config.retention);
        if let Err(error) = history.append_line(message.guild_id, message.channel_id, &line, expires).await {
            warn!(error = &error as &dyn std::error::Error, "could not record the channel line");
        }
        conversation::bounded_context(earlier, conversation::CHANNEL_CONTEXT_CHARS)
    }

    async fn answer(
        &self,
        settings: &GuildSettings,
        message: &ChannelMessage,
        question: &str,
        addressed: bool,
        channel_context: Vec<ChannelLine>,
        now: Timestamp,
    ) -> Result<RespondOutcome, WorkError> {
        let key = ConversationKey { guild: message.guild_id, channel: message.channel_id, user: message.author_id };
        let history =
            self.ports.conversations.recent_turns(key, self.config.context_turns, now).await.unwrap_or_default();
        let query = answering::retrieval_query(question, &history);
        let results = match self.ports.search.search(message.guild_id, &query, self.config.passages).await {
            Ok(results) => results,
            Err(error) => return self.fail(message, addressed, &error).await,
        };
        if !addressed && settings.smart_mode {
            let decide = DecideRequest {
                message: question.to_owned(),
                passages: results.passages.clone(),
                channel_context: channel_context.clone(),
            };
            // When in doubt, stay silent: a failed decision is a "no".
            let answerable =
                results.corpus_chunks > 0 && self.ports.model.should_answer(&decide).await.unwrap_or(false);
            if !answerable {
                return Ok(RespondOutcome::Skipped(SkipReason::NotAnswerable));
            }
        }
        if settings.cooldown_seconds > 0 {
            let cooldown = format!("cooldown:{}:{}", message.guild_id, message.author_id);
            let until = now.plus(Duration::from_secs(u64::from(settings.cooldown_seconds)));
            if matches!(self.ports.claims.claim(&cooldown, now, until).await, Ok(crate::ports::Claim::Held { .. })) {
                info!("member in cooldown");
                return Ok(RespondOutcome::Skipped(SkipReason::Cooldown));
            }
        }
        let month = Month::containing(now);
        let limit = settings.plan.monthly_limit();
        match self.ports.usage.reserve(message.guild_id, month, limit).await {
            Ok(Reservation::Granted { .. }) => {}
            Ok(Reservation::Exhausted) if addressed => {
                self.reply(message, crate::ask::quota_message(limit, month)).await?;
                return Ok(RespondOutcome::QuotaExhausted);
            }
            Ok(Reservation::Exhausted) => return Ok(RespondOutcome::Skipped(SkipReason::QuotaExhausted)),
            Err(error) => return self.fail(message, addressed, &error).await,
        }
        if let Err(error) = self.ports.discord.trigger_typing(message.channel_id).await {
            info!(error = &error as &dyn std::error::Error, "typing indicator failed");
        }
        let request = AnswerRequest {
            question: question.to_owned(),
            asker: message.author_name.clone(),
            history,
            passages: results.passages,
            locale: None,
            channel_context,
        };
        let raw = match self.ports.model.answer(&request).await {
            Ok(raw) => raw,
            Err(error) => {
                self.refund(message, month).await;
                return self.fail(message, addressed, &error).await;
            }
        };
        let (parts, answer) = match answering::compose(&raw, &request.passages) {
            Ok(composed) => composed,
            Err(error) => {
                self.refund(message, month).await;
                return self.fail(message, addressed, &error).await;
            }
        };
        for (i, part) in parts.iter().take(MAX_PARTS).enumerate() {
            let outbound = OutboundMessage {
                reply_to: (i == 0).then_some(message.message_id),
                ..OutboundMessage::text(part.clone())
            };
            if let Err(error) = self.ports.discord.create_message(message.channel_id, &outbound).await {
                if i == 0 {
                    self.refund(message, month).await;
                }
                return Err(WorkError::Discord(error));
            }
        }
        let store = self.ports.conversations.as_ref();
        answering::log_exchange(store, key, question, &answer, now, self.config.retention).await;
        info!(parts = parts.len(), addressed, "answered in channel");
        Ok(RespondOutcome::Answered { parts: parts.len().min(MAX_PARTS) })
    }

    async fn reply(&self, message: &ChannelMessage, text: String) -> Result<(), WorkError> {
        let outbound = OutboundMessage { reply_to: Some(message.message_id), ..OutboundMessage::text(text) };
        self.ports.discord.create_message(message.channel_id, &outbound).await.map(drop).map_err(WorkError::Discord)
    }

    async fn refund(&self, message: &ChannelMessage, month: Month) {
        if let Err(error) = self.ports.usage.release(message.guild_id, month).await {
            warn!(error = &error as &dyn std::error::Error, "could not refund the quota");
        }
    }

    /// A failure: the member who addressed the bot is told; otherwise Steward stays silent.
    async fn fail(
        &self,
        message: &ChannelMessage,
        addressed: bool,
        error: &(dyn std::error::Error + Send + Sync + 'static),
    ) -> Result<RespondOutcome, WorkError> {
        warn!(error, "could not answer in channel");
        if addressed {
            self.reply(message, FAILURE.to_owned()).await?;
            Ok(RespondOutcome::Failed { reason: error.to_string() })
        } else {
            Ok(RespondOutcome::Skipped(SkipReason::Failed))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::ids::{ApplicationId, ChannelId, DocumentId, GuildId, MessageId};
    use crate::knowledge::{KbScope, NewDocument};
    use crate::model::ModelErrorKind;
    use crate::ports::KnowledgeStore;
    use crate::quota::Plan;
    use crate::testing::{DiscordCall, ManualClock, MemoryStore, NaiveSearch, RecordingDiscord, ScriptedModel};

    const BOT: u64 = 99;

    struct Harness {
        store: MemoryStore,
        discord: RecordingDiscord,
        model: ScriptedModel,
        responder: MessageResponder,
    }

    async fn harness(settings: GuildSettings) -> Harness {
        let store = MemoryStore::default();
        store.put_settings(guild(), &settings).await.unwrap();
        let (doc, chunks) =
            NewDocument { title: "FAQ".into(), source: None, body: "# Refunds\nRefunds take 14 days.".into() }
                .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
                .unwrap();
        store.put_document(KbScope::Global, &doc, &chunks).await.unwrap();
        let discord = RecordingDiscord::default();
        let model = ScriptedModel::default();
        let ports = RespondPorts {
            settings: Arc::new(store.clone()),
            usage: Arc::new(store.clone()),
            conversations: Arc::new(store.clone()),
            history: Arc::new(store.clone()),
            claims: Arc::new(store.clone()),
            search: Arc::new(NaiveSearch(Arc::new(store.clone()))),
            model: Arc::new(model.clone()),
            discord: Arc::new(discord.clone()),
            clock: Arc::new(ManualClock::at(Timestamp::from_secs(1_795_000_000))),
        };
        Harness { store, discord, model, responder: MessageResponder::new(ports, AskConfig::default()) }
    }

    fn guild() -> GuildId {
        GuildId::new(5).unwrap()
    }

    fn message(id: u64, content: &str, mentions_bot: bool) -> ChannelMessage {
        ChannelMessage {
            message_id: MessageId::new(id).unwrap(),
            application_id: ApplicationId::new(1).unwrap(),
            bot_user_id: UserId::new(BOT).unwrap(),
            guild_id: guild(),
            channel_id: ChannelId::new(6).unwrap(),
            author_id: UserId::new(7).unwrap(),
            author_name: "ana".into(),
            content: content.into(),
            mentions_bot,
            replies_to_bot: false,
            sent_at: Timestamp::from_secs(1_795_000_000),
        }
    }

    fn replies(discord: &RecordingDiscord) -> Vec<OutboundMessage> {
        discord
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                DiscordCall::Message(_, m) => Some(m),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn mentions_are_stripped_in_both_forms() {
        let bot = UserId::new(BOT).unwrap();
        assert_eq!(strip_mention("<@99> how do refunds work?", bot), "how do refunds work?");
        assert_eq!(strip_mention("hey <@!99>, refunds?", bot), "hey , refunds?");
        assert_eq!(strip_mention("<@99>, refunds?", bot), "refunds?");
        assert_eq!(strip_mention("<@99>", bot), "");
        assert_eq!(strip_mention("<@12> hi", bot), "<@12> hi", "other members' mentions stay");
    }

    #[tokio::test]
    async fn ask_only_and_unaddressed_mention_mode_messages_are_skipped() {
        let h = harness(GuildSettings { response_mode: ResponseMode::AskOnly, ..GuildSettings::default() }).await;
        assert_eq!(
            h.responder.handle(&message(1, "<@99> refunds?", true)).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::AskOnly)
        );
        let h = harness(GuildSettings::default()).await;
        assert_eq!(
            h.responder.handle(&message(2, "refunds?", false)).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::NotAddressed)
        );
        assert!(h.discord.calls().is_empty());
    }

    #[tokio::test]
    async fn an_addressed_member_hears_about_the_quota_and_others_hear_nothing() {
        let settings = GuildSettings {
            response_mode: ResponseMode::AllMessages,
            smart_mode: false,
            cooldown_seconds: 0,
            plan: Plan::Custom(1),
            ..GuildSettings::default()
        };
        let h = harness(settings).await;
        assert!(matches!(
            h.responder.handle(&message(1, "refunds?", false)).await.unwrap(),
            RespondOutcome::Answered { .. }
        ));
        assert_eq!(
            h.responder.handle(&message(2, "more refunds?", false)).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::QuotaExhausted)
        );
        assert_eq!(
            h.responder.handle(&message(3, "<@99> refunds?", true)).await.unwrap(),
            RespondOutcome::QuotaExhausted
        );
        let replies = replies(&h.discord);
        assert_eq!(replies.len(), 2);
        assert!(replies[1].content.contains("used all 1"));
        assert_eq!(replies[1].reply_to, MessageId::new(3).ok());
    }

    #[tokio::test]
    async fn a_model_failure_is_told_only_to_a_member_who_asked_the_bot() {
        let settings = GuildSettings {
            response_mode: ResponseMode::AllMessages,
            smart_mode: false,
            cooldown_seconds: 0,
            ..GuildSettings::default()
        };
        let h = harness(settings).await;
        h.model.push(Err(ModelErrorKind::Unavailable));
        assert_eq!(
            h.responder.handle(&message(1, "refunds?", false)).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::Failed)
        );
        assert!(replies(&h.discord).is_empty());
        h.model.push(Err(ModelErrorKind::Timeout));
        assert!(matches!(
            h.responder.handle(&message(2, "<@99> refunds?", true)).await.unwrap(),
            RespondOutcome::Failed { .. }
        ));
        assert!(replies(&h.discord)[0].content.contains("try again"));
        let month = crate::quota::Month::containing(Timestamp::from_secs(1_795_000_000));
        assert_eq!(h.store.used(guild(), month).await.unwrap(), 0, "failures are refunded");
    }

    #[tokio::test]
    async fn a_redelivered_message_is_answered_once() {
        let h = harness(GuildSettings::default()).await;
        let m = message(1, "<@99> refunds?", true);
        assert!(matches!(h.responder.handle(&m).await.unwrap(), RespondOutcome::Answered { parts: 1 }));
        assert_eq!(h.responder.handle(&m).await.unwrap(), RespondOutcome::Duplicate);
        assert_eq!(replies(&h.discord).len(), 1);
    }
}
