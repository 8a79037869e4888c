//! The one answering pipeline `/ask` and channel answers share: a lease on the event, the quota
//! reservation and its one refund policy, retrieval, composing the model's answer, and logging.

mod compose;
mod coverage;
mod failure;
mod lease;
mod reservation;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, Timestamp};
use crate::conversation::{self, ConversationKey, Turn};
use crate::ids::GuildId;
use crate::knowledge::gaps::gap_key;
use crate::language::Language;
use crate::model::{AnswerRequest, ChatModel};
use crate::ports::{
    ClaimStore, ConversationStore, GapStore, KnowledgeSearch, Ports, SearchError, SearchResults, SettingsStore,
    StoreError, UsageStore,
};
use crate::quota::{Month, Reservation};
use crate::settings::GuildSettings;

pub(crate) use self::compose::Composed;
pub use self::coverage::{Coverage, DEFAULT_MIN_SIMILARITY, MIN_RELEVANCE, Thresholds, coverage};
pub(crate) use self::failure::Failure;
pub use self::failure::WorkError;
pub(crate) use self::lease::Lease;
pub(crate) use self::reservation::{Held, Refusal};

/// What retrieval found for a question.
#[derive(Debug, Clone)]
pub(crate) struct Retrieval {
    /// The passages and their relevance.
    pub(crate) results: SearchResults,
    /// The text the relevance was measured on: the question, or its rewritten search terms.
    pub(crate) judged_on: String,
}

/// Tunables of answering, shared by `/ask` and channel answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnswerConfig {
    /// How long conversation turns are kept for follow-ups.
    pub retention: Duration,
    /// How many earlier turns the model sees.
    pub context_turns: usize,
    /// How many passages are retrieved.
    pub passages: usize,
    /// How long a worker holds an event before a redelivery may take it over: longer than any
    /// answer takes (the worker Lambda's timeout is 60 s), so only a dead worker is overtaken.
    pub lease: Duration,
    /// How long a finished event is remembered, so redeliveries are recognised (longer than any
    /// redelivery: EventBridge retries for up to 24 hours).
    pub remember: Duration,
    /// Below these the answer is "I don't know" ([`MIN_RELEVANCE`], [`DEFAULT_MIN_SIMILARITY`]).
    pub thresholds: Thresholds,
    /// How long an unanswered question stays in the knowledge-gaps list after it was last asked.
    pub gap_retention: Duration,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        Self {
            retention: conversation::DEFAULT_RETENTION,
            context_turns: conversation::CONTEXT_TURNS,
            passages: 4,
            lease: Duration::from_secs(90),
            remember: Duration::from_secs(24 * 60 * 60),
            thresholds: Thresholds::default(),
            gap_retention: Duration::from_secs(90 * 24 * 60 * 60),
        }
    }
}

/// The shared steps of answering, holding the ports they use.
#[derive(Clone)]
pub(crate) struct Answerer {
    settings: Arc<dyn SettingsStore>,
    usage: Arc<dyn UsageStore>,
    conversations: Arc<dyn ConversationStore>,
    claims: Arc<dyn ClaimStore>,
    gaps: Arc<dyn GapStore>,
    search: Arc<dyn KnowledgeSearch>,
    model: Arc<dyn ChatModel>,
    clock: Arc<dyn Clock>,
    config: AnswerConfig,
}

impl Answerer {
    pub(crate) fn new(ports: &Ports, config: AnswerConfig) -> Self {
        Self {
            settings: ports.settings.clone(),
            usage: ports.usage.clone(),
            conversations: ports.conversations.clone(),
            claims: ports.claims.clone(),
            gaps: ports.gaps.clone(),
            search: ports.search.clone(),
            model: ports.model.clone(),
            clock: ports.clock.clone(),
            config,
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) const fn config(&self) -> &AnswerConfig {
        &self.config
    }

    pub(crate) fn model(&self) -> &dyn ChatModel {
        self.model.as_ref()
    }

    /// Runs `work` for the event `key` once: under a lease, recorded as handled when it ends;
    /// a delivery that finds the event held or handled returns `duplicate` without running it.
    pub(crate) async fn once<T>(
        &self,
        key: String,
        duplicate: T,
        work: impl Future<Output = Result<T, WorkError>>,
    ) -> Result<T, WorkError> {
        let Some(lease) = Lease::take(Arc::clone(&self.claims), Arc::clone(&self.clock), key, &self.config).await?
        else {
            return Ok(duplicate);
        };
        let result = work.await;
        lease.finish(&result).await;
        result
    }

    /// The guild's settings (defaults for a guild never configured).
    pub(crate) async fn settings(&self, guild: GuildId) -> Result<GuildSettings, StoreError> {
        GuildSettings::load(self.settings.as_ref(), guild).await
    }

    /// Reserves one message of the guild's monthly quota.
    pub(crate) async fn reserve(
        &self,
        guild: GuildId,
        settings: &GuildSettings,
        now: Timestamp,
    ) -> Result<Held, Refusal> {
        let month = Month::containing(now);
        let limit = settings.plan.monthly_limit();
        match self.usage.reserve(guild, month, limit).await.map_err(Refusal::Store)? {
            Reservation::Granted { .. } => Ok(Held::new(Arc::clone(&self.usage), guild, month)),
            Reservation::Exhausted => Err(Refusal::Exhausted { limit, month }),
        }
    }

    /// The member's earlier turns, oldest first.
    pub(crate) async fn history(&self, key: ConversationKey, now: Timestamp) -> Result<Vec<Turn>, StoreError> {
        self.conversations.recent_turns(key, self.config.context_turns, now).await
    }

    /// The passages for a question, retrieved with the member's previous question too. A
    /// question in another language than the knowledge base is rewritten into search terms in
    /// its language by the model, when the model can, and searched again; not when the search
    /// ranks by meaning (embeddings), which already crosses languages.
    pub(crate) async fn retrieve(
        &self,
        guild: GuildId,
        question: &str,
        history: &[Turn],
    ) -> Result<Retrieval, SearchError> {
        let query = compose::retrieval_query(question, history);
        let results = self.search.search(guild, &query, question, self.config.passages).await?;
        let same = Retrieval { results, judged_on: question.to_owned() };
        let (Some(written), Some(asked)) = (same.results.language, Language::detect(question)) else { return Ok(same) };
        if written == asked || same.results.semantic {
            return Ok(same);
        }
        let terms = match self.model.search_terms(question, written).await {
            Ok(Some(terms)) => terms,
            Ok(None) => return Ok(same),
            Err(error) => {
                tracing::warn!(error = &error as &dyn std::error::Error, "could not rewrite the question for search");
                return Ok(same);
            }
        };
        tracing::info!(from = asked.code(), to = written.code(), "searching with the question's rewritten terms");
        let rewritten = self.search.search(guild, &format!("{terms}\n{query}"), &terms, self.config.passages).await?;
        Ok(if rewritten.passages.is_empty() { same } else { Retrieval { results: rewritten, judged_on: terms } })
    }

    /// Fails with [`Failure::Uncovered`] when the knowledge base does not cover the question.
    pub(crate) fn check_coverage(&self, retrieval: &Retrieval) -> Result<(), Failure> {
        let results = &retrieval.results;
        match coverage(&retrieval.judged_on, results, self.config.thresholds) {
            Coverage::Covered => Ok(()),
            Coverage::OtherLanguage => {
                tracing::info!(
                    relevance = results.relevance,
                    similarity = results.similarity,
                    "question in another language than the knowledge base"
                );
                Ok(())
            }
            Coverage::Uncovered => {
                tracing::info!(
                    relevance = results.relevance,
                    similarity = results.similarity,
                    "the knowledge base does not cover the question"
                );
                Err(Failure::Uncovered)
            }
        }
    }

    /// Records a question the knowledge base could not answer, for the gaps list.
    pub(crate) async fn record_gap(&self, guild: GuildId, question: &str, now: Timestamp) {
        let expires = now.plus(self.config.gap_retention);
        if let Err(error) = self.gaps.record_gap(guild, &gap_key(question), question, now, expires).await {
            tracing::warn!(error = &error as &dyn std::error::Error, "could not record the knowledge gap");
        }
    }

    /// Asks the model and makes its text postable (Steward's checks, sources, Discord-sized parts).
    pub(crate) async fn compose(&self, request: &AnswerRequest) -> Result<Composed, Failure> {
        let raw = self.model.answer(request).await.map_err(Failure::Model)?;
        compose::compose(&raw, &request.passages).map_err(Failure::Model)
    }

    /// Logs the exchange for follow-ups; failures are logged, not returned.
    pub(crate) async fn log(&self, key: ConversationKey, question: &str, answer: &str, now: Timestamp) {
        compose::log_exchange(self.conversations.as_ref(), key, question, answer, now, self.config.retention).await;
    }
}
