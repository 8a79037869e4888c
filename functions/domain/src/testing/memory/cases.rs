//! Moderation cases and strikes in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::ids::{GuildId, UserId};
use crate::moderation::case::{Case, NewCase};
use crate::ports::{CaseStore, StoreError};

#[async_trait]
impl CaseStore for MemoryStore {
    async fn open_case(&self, guild: GuildId, case: NewCase) -> Result<Case, StoreError> {
        let mut tables = self.tables();
        let next = tables.case_numbers.entry(guild).or_insert(0);
        *next += 1;
        let case = Case { id: *next, body: case, appeal: None, reversal: None };
        tables.cases.insert((guild, case.id), case.clone());
        Ok(case)
    }

    async fn save_case(&self, guild: GuildId, case: &Case) -> Result<(), StoreError> {
        self.tables().cases.insert((guild, case.id), case.clone());
        Ok(())
    }

    async fn case(&self, guild: GuildId, id: u64, now: Timestamp) -> Result<Option<Case>, StoreError> {
        Ok(self.tables().cases.get(&(guild, id)).filter(|c| c.expires_at() > now).cloned())
    }

    async fn cases(
        &self,
        guild: GuildId,
        before: Option<u64>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<Case>, StoreError> {
        let tables = self.tables();
        let upper = before.unwrap_or(u64::MAX);
        Ok(tables
            .cases
            .range((guild, 0)..(guild, upper))
            .rev()
            .map(|(_, case)| case)
            .filter(|case| case.expires_at() > now)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn add_strike(
        &self,
        guild: GuildId,
        member: UserId,
        case: u64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.tables().strikes.insert((guild, member, case), (at, expires));
        Ok(())
    }

    async fn remove_strike(&self, guild: GuildId, member: UserId, case: u64) -> Result<bool, StoreError> {
        Ok(self.tables().strikes.remove(&(guild, member, case)).is_some())
    }

    async fn strikes(&self, guild: GuildId, member: UserId, since: Timestamp) -> Result<u32, StoreError> {
        let tables = self.tables();
        let count = tables
            .strikes
            .iter()
            .filter(|((g, m, _), (at, expires))| *g == guild && *m == member && *at >= since && *expires > since)
            .count();
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}
