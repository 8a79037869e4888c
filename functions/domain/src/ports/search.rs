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
    /// How well the passages cover the question, from 0 (none of its words) to 1 (all of them),
    /// each word weighted by how rare it is in the knowledge base: the "I don't know" signal.
    pub relevance: f32,
    /// The language most of the knowledge base is written in, when it can be told.
    pub language: Option<crate::language::Language>,
    /// Whether the passages were ranked by meaning too (hybrid search with embeddings), which
    /// finds passages in another language than the question without a rewrite.
    pub semantic: bool,
    /// With hybrid search, the best passage's cosine similarity to the query: the "I don't
    /// know" signal for passages that match the question's meaning but not its words.
    pub similarity: Option<f32>,
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

/// The most passages of one document among a question's passages, so other documents that
/// answer it reach the model too.
pub const MAX_PASSAGES_PER_DOCUMENT: usize = 2;

/// Keeps hits in order, at most [`MAX_PASSAGES_PER_DOCUMENT`] per document, `limit` in all.
/// Search adapters over-fetch and pass their ranked hits through this.
pub fn diversify<D: PartialEq, T>(ranked: impl IntoIterator<Item = (D, T)>, limit: usize) -> Vec<T> {
    let mut seen: Vec<(D, usize)> = Vec::new();
    let mut kept = Vec::with_capacity(limit);
    for (document, hit) in ranked {
        if kept.len() == limit {
            break;
        }
        match seen.iter_mut().find(|(d, _)| *d == document) {
            Some((_, count)) if *count >= MAX_PASSAGES_PER_DOCUMENT => continue,
            Some((_, count)) => *count += 1,
            None => seen.push((document, 1)),
        }
        kept.push(hit);
    }
    kept
}

/// Finds the passages that best answer a query.
#[async_trait]
pub trait KnowledgeSearch: Send + Sync {
    /// The best `limit` passages for `query` in the guild's knowledge base (global + its own),
    /// at most [`MAX_PASSAGES_PER_DOCUMENT`] from one document. `query` may carry context (the
    /// member's previous question); the relevance is measured for `question` alone, or for the
    /// whole query when the question has no topic word of its own (a follow-up such as "how much
    /// is it?", see [`crate::language::topic_words`]).
    async fn search(
        &self,
        guild: GuildId,
        query: &str,
        question: &str,
        limit: usize,
    ) -> Result<SearchResults, SearchError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_two_hits_per_document_in_rank_order() {
        let ranked = [("a", 1), ("a", 2), ("a", 3), ("b", 4), ("a", 5), ("c", 6), ("b", 7), ("b", 8)];
        assert_eq!(diversify(ranked, 10), [1, 2, 4, 6, 7]);
        assert_eq!(diversify(ranked, 3), [1, 2, 4]);
        assert!(diversify(ranked, 0).is_empty());
    }
}
