//! The usage port: the monthly quota's counters.

use async_trait::async_trait;

use super::StoreError;
use crate::ids::GuildId;
use crate::quota::{Month, Reservation};

/// Counts messages against the monthly quota, atomically.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Counts one message unless `used` has reached `limit`; atomic under concurrency.
    async fn reserve(&self, guild: GuildId, month: Month, limit: u64) -> Result<Reservation, StoreError>;
    /// Gives back one reserved message (the work it was for failed).
    async fn release(&self, guild: GuildId, month: Month) -> Result<(), StoreError>;
    /// Messages counted this month.
    async fn used(&self, guild: GuildId, month: Month) -> Result<u64, StoreError>;
}
