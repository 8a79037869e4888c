//! Each channel's recent lines from every member, one expiring item per line.

use async_trait::async_trait;
use steward_domain::clock::Timestamp;
use steward_domain::conversation::ChannelLine;
use steward_domain::ids::{ChannelId, GuildId};
use steward_domain::ports::{ChannelHistory, StoreError};

use crate::DynamoStore;
use crate::error::corrupt;
use crate::item::{get_n, get_s, key, n, s};

fn channel_pk(guild: GuildId, channel: ChannelId) -> String {
    format!("CHAN#{guild}#{channel}")
}

#[async_trait]
impl ChannelHistory for DynamoStore {
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mut item = key(channel_pk(guild, channel), format!("LINE#{:013}#{}", line.at.as_millis(), &nonce[..8]));
        item.insert("author_id".into(), s(line.author_id.to_string()));
        item.insert("author".into(), s(&line.author));
        item.insert("body".into(), s(&line.text));
        item.insert("at".into(), n(line.at.as_millis()));
        self.put_expiring(item, expires_at, "append channel line").await
    }

    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError> {
        const OP: &str = "load channel lines";
        let items = self.newest_unexpired(channel_pk(guild, channel), "LINE#", limit, now, OP).await?;
        items
            .iter()
            .map(|item| {
                Ok(ChannelLine {
                    author_id: get_s(item, "author_id", OP)?.parse().map_err(corrupt(OP))?,
                    author: get_s(item, "author", OP)?.to_owned(),
                    text: get_s(item, "body", OP)?.to_owned(),
                    at: Timestamp::from_millis(get_n(item, "at", OP)?),
                })
            })
            .collect()
    }
}
