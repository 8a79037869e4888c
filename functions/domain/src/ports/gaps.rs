//! The knowledge gaps port: questions the knowledge base could not answer, counted per guild.

use async_trait::async_trait;
use serde::Serialize;

use super::StoreError;
use crate::clock::Timestamp;
use crate::ids::GuildId;

/// A question the knowledge base could not answer, grouped with its rewordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The latest wording of the question.
    pub question: String,
    /// How many times the question (in any wording of the group) was asked.
    pub count: u64,
    /// When it was last asked.
    pub last_asked_at: Timestamp,
}

/// Records unanswered questions so operators can see what to add to the knowledge base (X5).
#[async_trait]
pub trait GapStore: Send + Sync {
    /// Counts one more asking of the question grouped under `key` in `guild` (keeping `question`
    /// as the latest wording); the record is kept until `expires_at`, renewed by each asking.
    /// Once a record has expired, the next asking starts a new one. Atomic under concurrency.
    async fn record_gap(
        &self,
        guild: GuildId,
        key: &str,
        question: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The guild's unexpired gaps at `now`, most asked first (ties: most recently asked first),
    /// at most `limit`.
    async fn top_gaps(&self, guild: GuildId, limit: usize, now: Timestamp) -> Result<Vec<Gap>, StoreError>;
}

/// Orders gaps most asked first, then most recently asked first: the order of
/// [`GapStore::top_gaps`], for adapters that sort in memory.
pub fn rank_gaps(gaps: &mut [Gap]) {
    gaps.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_asked_at.cmp(&a.last_asked_at)));
}
