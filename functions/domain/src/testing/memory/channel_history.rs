//! The channel history port in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::conversation::ChannelLine;
use crate::ids::{ChannelId, GuildId};
use crate::ports::{ChannelHistory, StoreError};

#[async_trait]
impl ChannelHistory for MemoryStore {
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.tables().lines.entry((guild, channel)).or_default().push((line.clone(), expires_at));
        Ok(())
    }

    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError> {
        let tables = self.tables();
        let mut lines: Vec<ChannelLine> = tables
            .lines
            .get(&(guild, channel))
            .map(|lines| lines.iter().filter(|(_, exp)| *exp > now).map(|(l, _)| l.clone()).collect())
            .unwrap_or_default();
        lines.sort_by_key(|l| l.at);
        let skip = lines.len().saturating_sub(limit);
        Ok(lines.split_off(skip))
    }
}
