//! The usage port in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::ids::GuildId;
use crate::ports::{StoreError, UsageStore};
use crate::quota::{Month, Reservation};

#[async_trait]
impl UsageStore for MemoryStore {
    async fn reserve(&self, guild: GuildId, month: Month, limit: u64) -> Result<Reservation, StoreError> {
        let mut tables = self.tables();
        let used = tables.usage.entry((guild, month)).or_default();
        if *used >= limit {
            return Ok(Reservation::Exhausted);
        }
        *used += 1;
        Ok(Reservation::Granted { used: *used })
    }

    async fn release(&self, guild: GuildId, month: Month) -> Result<(), StoreError> {
        let mut tables = self.tables();
        let used = tables.usage.entry((guild, month)).or_default();
        *used = used.saturating_sub(1);
        Ok(())
    }

    async fn used(&self, guild: GuildId, month: Month) -> Result<u64, StoreError> {
        Ok(self.tables().usage.get(&(guild, month)).copied().unwrap_or(0))
    }
}
