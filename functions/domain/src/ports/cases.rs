//! The moderation case store: cases numbered per guild, and the strikes of the offender ladder.

use async_trait::async_trait;

use super::StoreError;
use crate::clock::Timestamp;
use crate::ids::{GuildId, UserId};
use crate::moderation::case::{Case, NewCase};

/// Stores moderation cases (kept for [`crate::moderation::case::CASE_RETENTION`]) and strikes.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Stores `case` under the guild's next number (1, 2, …; never reused, even when cases
    /// expire) and returns it.
    async fn open_case(&self, guild: GuildId, case: NewCase) -> Result<Case, StoreError>;
    /// Replaces a stored case (its outcome, actions, appeal or reversal changed).
    async fn save_case(&self, guild: GuildId, case: &Case) -> Result<(), StoreError>;
    /// One case, if it exists and has not expired at `now`.
    async fn case(&self, guild: GuildId, id: u64, now: Timestamp) -> Result<Option<Case>, StoreError>;
    /// Up to `limit` cases numbered below `before` (all when `None`), newest first, unexpired at `now`.
    async fn cases(
        &self,
        guild: GuildId,
        before: Option<u64>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<Case>, StoreError>;
    /// Records a strike against `member` from case `case` at `at`, kept until `expires`.
    async fn add_strike(
        &self,
        guild: GuildId,
        member: UserId,
        case: u64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError>;
    /// Removes the strike of case `case` (an undo); whether there was one.
    async fn remove_strike(&self, guild: GuildId, member: UserId, case: u64) -> Result<bool, StoreError>;
    /// How many strikes `member` has from `since` on.
    async fn strikes(&self, guild: GuildId, member: UserId, since: Timestamp) -> Result<u32, StoreError>;
}
