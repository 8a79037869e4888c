//! The search port: the passages that best answer a question.

use async_trait::async_trait;

use super::{BoxError, StoreError};
use crate::ids::GuildId;
use crate::model::Passage;

/// Search results plus how many chunks were searched (zero means an empty knowledge base).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    /// The best passages, best first.
    pub passages: Vec<Passage>,
    /// How many chunks the guild's knowledge base holds.
    pub corpus_chunks: usize,
}

/// A search failure.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Loading the chunks failed.
    #[error("loading the knowledge base failed")]
    Store(#[from] StoreError),
    /// The index failed.
    #[error("the search index failed")]
    Index(#[source] BoxError),
}

/// Finds the passages that best answer a query.
#[async_trait]
pub trait KnowledgeSearch: Send + Sync {
    /// The best `limit` passages for `query` in the guild's knowledge base (global + its own).
    async fn search(&self, guild: GuildId, query: &str, limit: usize) -> Result<SearchResults, SearchError>;
}
