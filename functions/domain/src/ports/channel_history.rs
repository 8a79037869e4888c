//! The channel history port: each channel's recent conversation from all members.

use async_trait::async_trait;

use super::StoreError;
use crate::clock::Timestamp;
use crate::conversation::ChannelLine;
use crate::ids::{ChannelId, GuildId};

/// Keeps each channel's recent conversation from all members, for channel context (F6b).
#[async_trait]
pub trait ChannelHistory: Send + Sync {
    /// Appends a line that expires at `expires_at`.
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The newest `limit` unexpired lines at `now`, oldest first.
    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError>;
}
