//! The channel responder: lease, gate, smart decision, cooldown, quota, answer as a reply.

use std::sync::Arc;

use tracing::{info, warn};

use super::cooldown::{self, Gate};
use super::{RespondOutcome, SkipReason, strip_mention};
use crate::answer::{AnswerConfig, Answerer, Composed, Failure, Refusal, WorkError};
use crate::clock::Timestamp;
use crate::conversation::{self, ChannelLine, ConversationKey};
use crate::events::ChannelMessage;
use crate::language::Language;
use crate::message::{MAX_PARTS, OutboundMessage, ReplyKind};
use crate::model::{AnswerRequest, DecideRequest};
use crate::ports::{ChannelHistory, ClaimStore, DiscordRest, Ports};
use crate::settings::{GuildSettings, ResponseMode};
use crate::texts;

/// Answers channel messages forwarded by the gateway.
#[derive(Clone)]
pub struct MessageResponder {
    answerer: Answerer,
    history: Arc<dyn ChannelHistory>,
    claims: Arc<dyn ClaimStore>,
    discord: Arc<dyn DiscordRest>,
}

impl MessageResponder {
    /// Builds the responder from the shared ports.
    #[must_use]
    pub fn new(ports: &Ports, config: AnswerConfig) -> Self {
        Self {
            answerer: Answerer::new(ports, config),
            history: ports.history.clone(),
            claims: ports.claims.clone(),
            discord: ports.discord.clone(),
        }
    }

    /// Handles one forwarded message.
    ///
    /// # Errors
    /// Returns [`WorkError`] when the message could not be claimed (redelivery may help) or a
    /// reply could not be posted.
    #[tracing::instrument(skip_all, fields(guild = %message.guild_id, message = %message.message_id))]
    pub async fn handle(&self, message: &ChannelMessage) -> Result<RespondOutcome, WorkError> {
        let key = format!("msg:{}", message.message_id);
        self.answerer.once(key, RespondOutcome::Duplicate, self.handle_leased(message)).await
    }

    async fn handle_leased(&self, message: &ChannelMessage) -> Result<RespondOutcome, WorkError> {
        let now = self.answerer.now();
        let settings = match self.answerer.settings(message.guild_id).await {
            Ok(settings) => settings,
            Err(error) => {
                warn!(error = &error as &dyn std::error::Error, "could not load settings");
                return Ok(RespondOutcome::Failed { reason: error.to_string() });
            }
        };
        let addressed = message.mentions_bot || message.replies_to_bot;
        if let Err(silence) = settings.answers_in(message.channel_id, addressed) {
            return Ok(RespondOutcome::Skipped(silence.into()));
        }
        let question = strip_mention(&message.content, message.bot_user_id);
        let language = Language::of_member(&question, None);
        let context = self.channel_context(&settings, message, &question, now).await;
        if question.is_empty() {
            if !addressed {
                return Ok(RespondOutcome::Skipped(SkipReason::NotAnswerable));
            }
            self.reply(message, ReplyKind::Greeting, texts::greeting(language, &message.author_name)).await?;
            return Ok(RespondOutcome::Greeted);
        }
        let asked = Asked { message, question: &question, language, addressed };
        self.answer(&settings, &asked, context, now).await
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
        let history = &self.history;
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
        let expires = now.plus(self.answerer.config().retention);
        if let Err(error) = history.append_line(message.guild_id, message.channel_id, &line, expires).await {
            warn!(error = &error as &dyn std::error::Error, "could not record the channel line");
        }
        conversation::bounded_context(earlier, conversation::CHANNEL_CONTEXT_CHARS)
    }

    async fn answer(
        &self,
        settings: &GuildSettings,
        asked: &Asked<'_>,
        channel_context: Vec<ChannelLine>,
        now: Timestamp,
    ) -> Result<RespondOutcome, WorkError> {
        let Asked { message, question, language, addressed } = *asked;
        let key = conversation_key(message);
        let history = self.answerer.history(key, now).await.unwrap_or_else(|error| {
            warn!(error = &error as &dyn std::error::Error, "could not load the member's earlier turns");
            Vec::new()
        });
        let retrieval = match self.answerer.retrieve(message.guild_id, question, &history).await {
            Ok(retrieval) => retrieval,
            Err(error) => return self.fail(asked, &Failure::Search(error)).await,
        };
        // Before the smart decision and the cooldown: what the knowledge base does not cover is
        // never answered, so it must not start (or be held back by) the member's cooldown.
        if retrieval.results.corpus_chunks > 0 && self.answerer.check_coverage(&retrieval).is_err() {
            if !addressed {
                return Ok(RespondOutcome::Skipped(SkipReason::NotAnswerable));
            }
            self.answerer.record_gap(message.guild_id, question, now).await;
            self.reply(message, ReplyKind::DontKnow, texts::dont_know(language).to_owned()).await?;
            return Ok(RespondOutcome::NotCovered);
        }
        let results = retrieval.results;
        if !addressed && settings.smart_mode {
            let decide = DecideRequest {
                message: question.to_owned(),
                passages: results.passages.clone(),
                channel_context: channel_context.clone(),
            };
            // When in doubt, stay silent: a failed decision is a "no".
            let answerable =
                results.corpus_chunks > 0 && self.answerer.model().should_answer(&decide).await.unwrap_or(false);
            if !answerable {
                return Ok(RespondOutcome::Skipped(SkipReason::NotAnswerable));
            }
        }
        if cooldown::pass(&self.claims, &self.discord, message, language, settings.cooldown_seconds, now).await
            == Gate::Held
        {
            return Ok(RespondOutcome::Skipped(SkipReason::Cooldown));
        }
        let held = match self.answerer.reserve(message.guild_id, settings, now).await {
            Ok(held) => held,
            Err(Refusal::Exhausted { limit, month }) if addressed => {
                self.reply(message, ReplyKind::Quota, texts::quota_exhausted(language, limit, month)).await?;
                return Ok(RespondOutcome::QuotaExhausted);
            }
            Err(Refusal::Exhausted { .. }) => return Ok(RespondOutcome::Skipped(SkipReason::QuotaExhausted)),
            Err(Refusal::Store(error)) => return self.fail(asked, &Failure::Store(error)).await,
        };
        if let Err(error) = self.discord.trigger_typing(message.channel_id).await {
            info!(error = &error as &dyn std::error::Error, "typing indicator failed");
        }
        let request = AnswerRequest {
            question: question.to_owned(),
            asker: message.author_name.clone(),
            history,
            passages: results.passages,
            locale: None,
            language,
            channel_context,
        };
        let attempt = async {
            let composed = self.answerer.compose(&request).await?;
            self.deliver(message, &composed).await?;
            Ok(composed)
        };
        match held.settle(attempt.await).await {
            Ok(composed) => {
                self.answerer.log(key, question, &composed.text, now).await;
                let parts = composed.parts.len().min(MAX_PARTS);
                info!(parts, addressed, "answered in channel");
                Ok(RespondOutcome::Answered { parts })
            }
            Err(Failure::Delivery { error, .. }) => Err(WorkError::Discord(error)),
            Err(failure) => self.fail(asked, &failure).await,
        }
    }

    /// Posts the answer: the first part as a reply to the member, the rest after it.
    async fn deliver(&self, message: &ChannelMessage, composed: &Composed) -> Result<(), Failure> {
        for (delivered, part) in composed.parts.iter().take(MAX_PARTS).enumerate() {
            let mut outbound = OutboundMessage::reply(message.message_id, ReplyKind::Answer, delivered, part.clone());
            if delivered > 0 {
                // Later parts follow the first in the channel; only the first is a reply.
                outbound.reply_to = None;
            }
            self.discord
                .create_message(message.channel_id, &outbound)
                .await
                .map_err(|error| Failure::Delivery { delivered, error })?;
        }
        Ok(())
    }

    async fn reply(&self, message: &ChannelMessage, kind: ReplyKind, text: String) -> Result<(), WorkError> {
        let outbound = OutboundMessage::reply(message.message_id, kind, 0, text);
        self.discord.create_message(message.channel_id, &outbound).await.map(drop).map_err(WorkError::Discord)
    }

    /// A failure: the member who addressed the bot is told; otherwise Steward stays silent.
    async fn fail(&self, asked: &Asked<'_>, failure: &Failure) -> Result<RespondOutcome, WorkError> {
        let reason = failure.log(&self.answerer.model().name());
        if asked.addressed {
            let text = texts::channel_answer_failed(asked.language).to_owned();
            self.reply(asked.message, ReplyKind::Failure, text).await?;
            Ok(RespondOutcome::Failed { reason })
        } else {
            Ok(RespondOutcome::Skipped(SkipReason::Failed))
        }
    }
}

/// A message worth answering, as the responder reads it.
#[derive(Clone, Copy)]
struct Asked<'a> {
    message: &'a ChannelMessage,
    /// The text without the bot's mention.
    question: &'a str,
    /// The member's language.
    language: Language,
    /// It mentions or replies to the bot.
    addressed: bool,
}

fn conversation_key(message: &ChannelMessage) -> ConversationKey {
    ConversationKey { guild: message.guild_id, channel: message.channel_id, user: message.author_id }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::Clock;
    use crate::ids::{ApplicationId, ChannelId, DocumentId, GuildId, MessageId, UserId};
    use crate::knowledge::{KbScope, NewDocument};
    use crate::model::ModelErrorKind;
    use crate::ports::{DiscordErrorKind, GapStore, KnowledgeStore, SettingsStore, UsageStore};
    use crate::quota::{Month, Plan};
    use crate::respond::FOLLOW_UP_WINDOW;
    use crate::testing::{DiscordCall, Fakes};

    const BOT: u64 = 99;

    struct Harness {
        fakes: Fakes,
        responder: MessageResponder,
    }

    async fn harness(settings: GuildSettings) -> Harness {
        let fakes = Fakes::default();
        fakes.store.put_settings(guild(), &settings).await.unwrap();
        let (doc, chunks) =
            NewDocument { title: "FAQ".into(), source: None, body: "# Refunds\nRefunds take 14 days.".into() }
                .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
                .unwrap();
        fakes.store.put_document(KbScope::Global, &doc, &chunks).await.unwrap();
        let responder = MessageResponder::new(&fakes.ports(), AnswerConfig::default());
        Harness { fakes, responder }
    }

    fn all_messages() -> GuildSettings {
        GuildSettings {
            response_mode: ResponseMode::AllMessages,
            smart_mode: false,
            cooldown_seconds: 0,
            ..GuildSettings::default()
        }
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
            author_roles: vec![],
            channel_name: None,
            parent_channel_id: None,
            attachments: 0,
            edited: false,
        }
    }

    fn follow_up(id: u64, content: &str) -> ChannelMessage {
        ChannelMessage { replies_to_bot: true, ..message(id, content, false) }
    }

    fn replies(h: &Harness) -> Vec<OutboundMessage> {
        h.fakes
            .discord
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                DiscordCall::Message(_, m) => Some(m),
                _ => None,
            })
            .collect()
    }

    fn reactions(h: &Harness) -> Vec<(MessageId, String)> {
        h.fakes
            .discord
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                DiscordCall::React(m, e) => Some((m, e)),
                _ => None,
            })
            .collect()
    }

    async fn used(h: &Harness) -> u64 {
        h.fakes.store.used(guild(), Month::containing(h.fakes.clock.now())).await.unwrap()
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
        assert!(h.fakes.discord.calls().is_empty());
    }

    #[tokio::test]
    async fn an_addressed_member_hears_about_the_quota_and_others_hear_nothing() {
        let h = harness(GuildSettings { plan: Plan::Custom(1), ..all_messages() }).await;
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
        let replies = replies(&h);
        assert_eq!(replies.len(), 2);
        assert!(replies[1].content.contains("used all 1"));
        assert_eq!(replies[1].reply_to, MessageId::new(3).ok());
    }

    #[tokio::test]
    async fn a_model_failure_is_told_only_to_a_member_who_asked_the_bot() {
        let h = harness(all_messages()).await;
        h.fakes.model.push(Err(ModelErrorKind::Unavailable));
        assert_eq!(
            h.responder.handle(&message(1, "refunds?", false)).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::Failed)
        );
        assert!(replies(&h).is_empty());
        h.fakes.model.push(Err(ModelErrorKind::Timeout));
        assert!(matches!(
            h.responder.handle(&message(2, "<@99> refunds?", true)).await.unwrap(),
            RespondOutcome::Failed { .. }
        ));
        assert!(replies(&h)[0].content.contains("try again"));
        assert_eq!(used(&h).await, 0, "failures are refunded");
    }

    #[tokio::test]
    async fn a_member_hears_failures_in_the_language_they_wrote() {
        let h = harness(all_messages()).await;
        h.fakes.model.push(Err(ModelErrorKind::Timeout));
        h.responder.handle(&message(1, "<@99> ¿cuánto tardan los refunds?", true)).await.unwrap();
        h.fakes.model.push(Err(ModelErrorKind::Timeout));
        h.responder.handle(&message(2, "<@99> ile trwa zwrot pieniędzy (refunds)?", true)).await.unwrap();
        let replies = replies(&h);
        assert!(replies[0].content.starts_with("Lo siento"), "{}", replies[0].content);
        assert!(replies[1].content.starts_with("Przepraszam"), "{}", replies[1].content);
    }

    #[tokio::test]
    async fn a_question_the_knowledge_base_does_not_cover_gets_i_dont_know_and_becomes_a_gap() {
        let h = harness(all_messages()).await;
        // GIVEN a member who asks the bot something the knowledge base does not cover
        let outcome = h.responder.handle(&message(1, "<@99> what is the weather on mars today?", true)).await;
        // THEN they hear "I don't know", no model is asked, nothing is charged, the gap is recorded
        assert_eq!(outcome.unwrap(), RespondOutcome::NotCovered);
        assert!(replies(&h)[0].content.starts_with("I don't know"), "{}", replies(&h)[0].content);
        assert!(h.fakes.model.requests().is_empty());
        assert_eq!(used(&h).await, 0);
        let gaps = h.fakes.store.top_gaps(guild(), 10, h.fakes.clock.now()).await.unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].question, "what is the weather on mars today?");
        // AND chat nobody addressed to the bot is not answered or recorded
        let chat = h.responder.handle(&message(2, "the weather on mars is cold", false)).await.unwrap();
        assert_eq!(chat, RespondOutcome::Skipped(SkipReason::NotAnswerable));
        assert_eq!(h.fakes.store.top_gaps(guild(), 10, h.fakes.clock.now()).await.unwrap()[0].count, 1);
    }

    #[tokio::test]
    async fn uncovered_chat_neither_starts_nor_meets_the_cooldown() {
        let settings =
            GuildSettings { response_mode: ResponseMode::AllMessages, smart_mode: false, ..GuildSettings::default() };
        let h = harness(settings).await;
        let chat = h.responder.handle(&message(1, "lol nice", false)).await.unwrap();
        assert_eq!(chat, RespondOutcome::Skipped(SkipReason::NotAnswerable));
        let question = h.responder.handle(&message(2, "<@99> how long do refunds take?", true)).await.unwrap();
        assert!(matches!(question, RespondOutcome::Answered { .. }), "{question:?}");
        assert_eq!(replies(&h).len(), 1, "no cooldown notice: only the answer");
    }

    #[tokio::test]
    async fn a_failed_delivery_is_refunded_in_channel_answers_too() {
        let h = harness(all_messages()).await;
        h.fakes.discord.fail("create_message", DiscordErrorKind::Forbidden);
        let result = h.responder.handle(&message(1, "<@99> refunds?", true)).await;
        assert!(matches!(result, Err(WorkError::Discord(_))), "{result:?}");
        assert_eq!(used(&h).await, 0);
    }

    #[tokio::test]
    async fn a_redelivered_message_is_answered_once() {
        let h = harness(GuildSettings::default()).await;
        let m = message(1, "<@99> refunds?", true);
        assert!(matches!(h.responder.handle(&m).await.unwrap(), RespondOutcome::Answered { parts: 1 }));
        assert_eq!(h.responder.handle(&m).await.unwrap(), RespondOutcome::Duplicate);
        assert_eq!(replies(&h).len(), 1);
    }

    #[tokio::test]
    async fn a_redelivery_finishes_a_channel_answer_whose_worker_died() {
        let h = harness(GuildSettings::default()).await;
        let now = h.fakes.clock.now();
        h.fakes.store.claim("msg:1", now, now.plus(AnswerConfig::default().lease)).await.unwrap();
        let m = message(1, "<@99> refunds?", true);
        assert_eq!(h.responder.handle(&m).await.unwrap(), RespondOutcome::Duplicate, "the lease still runs");
        h.fakes.clock.advance(AnswerConfig::default().lease);
        assert!(matches!(h.responder.handle(&m).await.unwrap(), RespondOutcome::Answered { parts: 1 }));
        assert_eq!(h.responder.handle(&m).await.unwrap(), RespondOutcome::Duplicate);
        assert_eq!(replies(&h).len(), 1);
    }

    #[tokio::test]
    async fn a_worker_that_dies_after_posting_is_not_repeated_by_the_redelivery() {
        // GIVEN a worker whose answer was posted but whose completion was never recorded
        let h = harness(GuildSettings::default()).await;
        let faulty = Arc::new(crate::testing::FaultyStore::new(h.fakes.store.clone()));
        faulty.fail("complete");
        let responder = MessageResponder::new(&h.fakes.ports_over(faulty), AnswerConfig::default());
        let m = message(1, "<@99> refunds?", true);
        assert!(matches!(responder.handle(&m).await.unwrap(), RespondOutcome::Answered { .. }));
        // WHEN the event is redelivered after the lease ran out
        h.fakes.clock.advance(AnswerConfig::default().lease);
        assert!(matches!(responder.handle(&m).await.unwrap(), RespondOutcome::Answered { .. }));
        // THEN Discord saw the same nonce twice and kept one message
        let replies = replies(&h);
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert!(replies[0].nonce.is_some());
    }

    #[tokio::test]
    async fn a_held_back_member_is_told_once_when_to_ask_again_then_sees_a_reaction() {
        // GIVEN the default 10 s cooldown and a member whose first question was answered
        let h = harness(GuildSettings::default()).await;
        assert!(matches!(
            h.responder.handle(&message(1, "<@99> refunds?", true)).await.unwrap(),
            RespondOutcome::Answered { .. }
        ));
        // WHEN they ask again 3 s later, THEN they are told, in a reply, when to ask again
        h.fakes.clock.advance(Duration::from_secs(3));
        assert_eq!(
            h.responder.handle(&message(2, "<@99> and refunds for pro?", true)).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::Cooldown)
        );
        let notice = replies(&h).pop().unwrap();
        assert!(notice.content.contains("in 7 seconds"), "{}", notice.content);
        assert_eq!(notice.reply_to, MessageId::new(2).ok());
        // WHEN they try once more in the same window, THEN the message gets ⏳ and no more text
        h.fakes.clock.advance(Duration::from_secs(1));
        assert_eq!(
            h.responder.handle(&message(3, "<@99> refunds??", true)).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::Cooldown)
        );
        assert_eq!(reactions(&h), [(MessageId::new(3).unwrap(), "⏳".to_owned())]);
        assert_eq!(replies(&h).len(), 2, "one answer, one notice");
        assert_eq!(used(&h).await, 1, "held-back messages cost nothing");
        // WHEN the window is over, THEN they are answered again
        h.fakes.clock.advance(Duration::from_secs(6));
        assert!(matches!(
            h.responder.handle(&message(4, "<@99> refunds?", true)).await.unwrap(),
            RespondOutcome::Answered { .. }
        ));
    }

    #[tokio::test]
    async fn a_reply_to_stewards_answer_is_a_follow_up_and_is_answered() {
        let h = harness(GuildSettings::default()).await;
        assert!(matches!(
            h.responder.handle(&message(1, "<@99> refunds?", true)).await.unwrap(),
            RespondOutcome::Answered { .. }
        ));
        h.fakes.clock.advance(FOLLOW_UP_WINDOW);
        assert!(matches!(
            h.responder.handle(&follow_up(2, "and how long do refunds take?")).await.unwrap(),
            RespondOutcome::Answered { .. }
        ));
        // Follow-ups still have a short window of their own.
        assert_eq!(
            h.responder.handle(&follow_up(3, "refunds?")).await.unwrap(),
            RespondOutcome::Skipped(SkipReason::Cooldown)
        );
        assert_eq!(used(&h).await, 2);
    }
}
