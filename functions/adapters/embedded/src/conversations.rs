//! Each member's conversation turns; expired turns are swept on write.

use async_trait::async_trait;
use rusqlite::params;
use steward_domain::clock::Timestamp;
use steward_domain::conversation::{ConversationKey, Speaker, Turn};
use steward_domain::ports::{ConversationStore, StoreError};

use crate::SqliteStore;
use crate::row::{error, i64_of};

fn conversation_key(key: ConversationKey) -> String {
    format!("{}/{}/{}", key.guild, key.channel, key.user)
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn append_turn(&self, key: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError> {
        const OP: &str = "append turn";
        let turn = turn.clone();
        self.with(OP, move |conn| {
            // Expired turns are swept on write, so the file does not grow without bound.
            conn.execute("DELETE FROM turns WHERE expires_at <= ?1", [turn.at.as_millis()]).map_err(error(OP))?;
            conn.execute(
                "INSERT INTO turns (conversation, at, speaker, body, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    conversation_key(key),
                    turn.at.as_millis(),
                    turn.speaker.code(),
                    turn.text,
                    expires_at.as_millis()
                ],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }

    async fn recent_turns(&self, key: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError> {
        const OP: &str = "load turns";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT at, speaker, body FROM turns WHERE conversation = ?1 AND expires_at > ?2
                     ORDER BY at DESC, seq DESC LIMIT ?3",
                )
                .map_err(error(OP))?;
            let rows = query
                .query_map(params![conversation_key(key), now.as_millis(), i64_of(limit as u64)], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
                })
                .map_err(error(OP))?;
            let mut turns = rows
                .map(|row| {
                    let (at, speaker, text) = row.map_err(error(OP))?;
                    // Only `bot` marks Steward's turns; any other code reads as the member's.
                    let speaker = Speaker::from_code(&speaker).unwrap_or(Speaker::Member);
                    Ok(Turn { speaker, text, at: Timestamp::from_millis(at) })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            turns.reverse();
            Ok(turns)
        })
        .await
    }
}
