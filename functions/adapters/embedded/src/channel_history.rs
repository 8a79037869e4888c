//! Each channel's recent lines from every member; expired lines are swept on write.

use async_trait::async_trait;
use rusqlite::params;
use steward_domain::clock::Timestamp;
use steward_domain::conversation::ChannelLine;
use steward_domain::ids::{ChannelId, GuildId, UserId};
use steward_domain::ports::{ChannelHistory, StoreError};

use crate::SqliteStore;
use crate::row::{corrupt, error, i64_of};

#[async_trait]
impl ChannelHistory for SqliteStore {
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        const OP: &str = "append channel line";
        let line = line.clone();
        self.with(OP, move |conn| {
            conn.execute("DELETE FROM channel_lines WHERE expires_at <= ?1", [line.at.as_millis()]).map_err(error(OP))?;
            conn.execute(
                "INSERT INTO channel_lines (channel, at, author_id, author, body, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    format!("{guild}/{channel}"),
                    line.at.as_millis(),
                    line.author_id.to_string(),
                    line.author,
                    line.text,
                    expires_at.as_millis()
                ],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }

    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError> {
        const OP: &str = "load channel lines";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT at, author_id, author, body FROM channel_lines WHERE channel = ?1 AND expires_at > ?2
                     ORDER BY at DESC, seq DESC LIMIT ?3",
                )
                .map_err(error(OP))?;
            let rows = query
                .query_map(params![format!("{guild}/{channel}"), now.as_millis(), i64_of(limit as u64)], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                })
                .map_err(error(OP))?;
            let mut lines = rows
                .map(|row| {
                    let (at, author_id, author, text) = row.map_err(error(OP))?;
                    let author_id: UserId = author_id.parse().map_err(corrupt(OP))?;
                    Ok(ChannelLine { author_id, author, text, at: Timestamp::from_millis(at) })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            lines.reverse();
            Ok(lines)
        })
        .await
    }
}
