//! Why an answer did not reach a member, what the member is told, and the worker's error.

use tracing::warn;

use crate::language::Language;
use crate::model::{ModelError, ModelErrorKind};
use crate::ports::{DiscordError, SearchError, StoreError};
use crate::texts;

/// Why an answer attempt failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Storage failed.
    Store(StoreError),
    /// Search failed.
    Search(SearchError),
    /// The guild has no knowledge base to answer from.
    EmptyKnowledgeBase,
    /// The knowledge base does not cover the question: "I don't know".
    Uncovered,
    /// The model failed or its answer was unusable.
    Model(ModelError),
    /// Discord refused the answer after `delivered` of its parts were posted.
    Delivery {
        /// How many parts reached the member before the failure.
        delivered: usize,
        /// Discord's error.
        error: DiscordError,
    },
}

impl Failure {
    /// Whether some of the answer reached the member anyway (then its message is charged).
    pub(crate) const fn reached_member(&self) -> bool {
        matches!(self, Self::Delivery { delivered, .. } if *delivered > 0)
    }

    /// What the member is told, in their language.
    pub(crate) const fn member_text(&self, language: Language) -> &'static str {
        match self {
            Self::Store(_) | Self::Search(_) => texts::lookup_failed(language),
            Self::EmptyKnowledgeBase => texts::empty_knowledge_base(language),
            Self::Uncovered => texts::dont_know(language),
            Self::Model(error) => match error.kind {
                ModelErrorKind::Timeout | ModelErrorKind::Unavailable | ModelErrorKind::RateLimited => {
                    texts::model_busy(language)
                }
                ModelErrorKind::Rejected | ModelErrorKind::Malformed => texts::model_misconfigured(language),
            },
            Self::Delivery { .. } => texts::channel_answer_failed(language),
        }
    }

    /// Logs the failure with its cause chain; returns a short reason for outcomes.
    pub(crate) fn log(&self, model: &str) -> String {
        let error: &(dyn std::error::Error + 'static) = match self {
            Self::Store(error) => error,
            Self::Search(error) => error,
            Self::Model(error) => error,
            Self::Delivery { error, .. } => error,
            Self::EmptyKnowledgeBase => return "empty knowledge base".into(),
            Self::Uncovered => return "not covered by the knowledge base".into(),
        };
        warn!(error, model, "answer failed");
        error.to_string()
    }
}

/// A failure that left a member without an answer; [`WorkError::is_retryable`] says whether
/// redelivering the event may help.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// The event's lease could not be taken; nothing was done.
    #[error("could not claim the event")]
    Claim(#[source] StoreError),
    /// Even the failure message could not be posted.
    #[error("could not reach the member")]
    Discord(#[source] DiscordError),
    /// Moderation could not finish (its store, or the guild's roles); a redelivery tries again.
    #[error("could not moderate the message")]
    Moderation(#[from] crate::moderation::ModerationError),
    /// The guild's settings could not be read.
    #[error("could not read the settings")]
    Settings(#[source] StoreError),
}

impl WorkError {
    /// Whether redelivering the event may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Claim(error) | Self::Settings(error) => error.is_retryable(),
            Self::Discord(_) => false,
            Self::Moderation(crate::moderation::ModerationError::Store(error)) => error.is_retryable(),
            Self::Moderation(crate::moderation::ModerationError::Roles(error)) => error.is_retryable(),
        }
    }
}
