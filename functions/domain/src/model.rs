//! The `ChatModel` port: what Steward asks of a language model, whatever serves it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::conversation::{ChannelLine, Turn};
use crate::language::Language;

/// A knowledge-base passage retrieved for a question, numbered from 1 in the prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// The document's title.
    pub title: String,
    /// The heading path inside the document.
    pub heading: String,
    /// Where the document came from.
    pub source: Option<String>,
    /// The passage text.
    pub text: String,
    /// The retrieval score (higher is better; comparable only within one search).
    pub score: f32,
}

/// Everything a model needs to answer one question (F4, F10).
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRequest {
    /// The member's question.
    pub question: String,
    /// The member's display name.
    pub asker: String,
    /// The member's earlier turns in this channel, oldest first (F10).
    pub history: Vec<Turn>,
    /// Retrieved passages, best first.
    pub passages: Vec<Passage>,
    /// The member's Discord locale, e.g. `es-ES`, when known.
    pub locale: Option<String>,
    /// The language the member wrote in (or their locale's): the answer's language.
    pub language: Language,
    /// The channel's recent conversation from all members, oldest first (F6b); empty for `/ask`.
    pub channel_context: Vec<ChannelLine>,
}

/// What a model needs to decide whether to speak up in all-messages smart mode (F6a).
#[derive(Debug, Clone, PartialEq)]
pub struct DecideRequest {
    /// The member's message.
    pub message: String,
    /// The passages that best match it, best first.
    pub passages: Vec<Passage>,
    /// The channel's recent conversation, oldest first.
    pub channel_context: Vec<ChannelLine>,
}

/// A finished answer: the model's text after Steward's checks ([`crate::prompt::finish_answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAnswer {
    /// The text to post (before sources are appended).
    pub text: String,
    /// 1-based numbers of the passages the answer relies on.
    pub cited: Vec<usize>,
}

/// What went wrong calling a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelErrorKind {
    /// No answer in time.
    Timeout,
    /// The provider is down or overloaded (5xx, connection refused).
    Unavailable,
    /// The provider rate-limited us and retries ran out.
    RateLimited,
    /// The provider refused the request (4xx other than 429): configuration or key problem.
    Rejected,
    /// The provider answered something we could not read, or an empty answer.
    Malformed,
}

/// An error from a [`ChatModel`], keeping its cause.
#[derive(Debug, thiserror::Error)]
#[error("language model {kind:?}: {message}")]
pub struct ModelError {
    /// The kind of failure.
    pub kind: ModelErrorKind,
    /// A short description (never containing a key).
    pub message: String,
    /// The underlying error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ModelError {
    /// A new error of `kind`.
    #[must_use]
    pub fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    /// Attaches the cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether trying again later may succeed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self.kind, ModelErrorKind::Timeout | ModelErrorKind::Unavailable | ModelErrorKind::RateLimited)
    }
}

/// A language model that answers questions from passages.
#[async_trait]
pub trait ChatModel: Send + Sync + std::fmt::Debug {
    /// Answers `request`, citing the passages it used as `[n]` in the text. Adapters return the
    /// text as the provider gave it; the services apply Steward's checks once, whatever the model.
    ///
    /// # Errors
    /// Returns a [`ModelError`] when the provider fails or times out.
    async fn answer(&self, request: &AnswerRequest) -> Result<String, ModelError>;

    /// Whether the message deserves an answer: a question or request for help the knowledge
    /// base can serve, not casual chat (smart mode, F6a). When in doubt, stay silent.
    ///
    /// # Errors
    /// Returns a [`ModelError`] when the provider fails or times out.
    async fn should_answer(&self, request: &DecideRequest) -> Result<bool, ModelError>;

    /// The member's question as a few search terms in `language` (the knowledge base's), for a
    /// question asked in another language. `None` when the model cannot (the offline model).
    ///
    /// # Errors
    /// Returns a [`ModelError`] when the provider fails or times out.
    async fn search_terms(&self, question: &str, language: Language) -> Result<Option<String>, ModelError> {
        let _ = (question, language);
        Ok(None)
    }

    /// Judges members' messages against the operator's rules (moderation, F12). `None` when
    /// the model cannot (the offline model): only the free pre-filters run then.
    ///
    /// # Errors
    /// Returns a [`ModelError`] when the provider fails or times out.
    async fn judge(
        &self,
        request: &crate::moderation::prompt::JudgeRequest,
    ) -> Result<Option<crate::moderation::prompt::JudgeReply>, ModelError> {
        let _ = request;
        Ok(None)
    }

    /// Whether [`ChatModel::judge`] can judge (health reports `no_model` otherwise).
    fn can_judge(&self) -> bool {
        false
    }

    /// A short name for logs (`openai:gpt-4o-mini`, `extractive`).
    fn name(&self) -> String;
}

/// The default time a model call may take before Steward gives up and says so.
pub const DEFAULT_MODEL_TIMEOUT: Duration = Duration::from_secs(25);
