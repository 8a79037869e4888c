//! The knowledge gaps port in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::ids::GuildId;
use crate::ports::{Gap, GapStore, StoreError, rank_gaps};

#[async_trait]
impl GapStore for MemoryStore {
    async fn record_gap(
        &self,
        guild: GuildId,
        key: &str,
        question: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        tables.gaps.retain(|_, (_, expiry)| *expiry > at);
        let (gap, expiry) = tables
            .gaps
            .entry((guild, key.to_owned()))
            .or_insert_with(|| (Gap { question: String::new(), count: 0, last_asked_at: at }, expires_at));
        gap.question = question.to_owned();
        gap.count += 1;
        gap.last_asked_at = at;
        *expiry = expires_at;
        Ok(())
    }

    async fn top_gaps(&self, guild: GuildId, limit: usize, now: Timestamp) -> Result<Vec<Gap>, StoreError> {
        let tables = self.tables();
        let mut gaps: Vec<Gap> = tables
            .gaps
            .iter()
            .filter(|((g, _), (_, expiry))| *g == guild && *expiry > now)
            .map(|(_, (gap, _))| gap.clone())
            .collect();
        rank_gaps(&mut gaps);
        gaps.truncate(limit);
        Ok(gaps)
    }
}
