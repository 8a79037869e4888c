//! Unanswered questions per guild; each asking is one atomic upsert, expired rows are swept on write.

use async_trait::async_trait;
use rusqlite::params;
use steward_domain::clock::Timestamp;
use steward_domain::ids::GuildId;
use steward_domain::ports::{Gap, GapStore, StoreError};

use crate::SqliteStore;
use crate::row::{error, i64_of, u64_of};

#[async_trait]
impl GapStore for SqliteStore {
    async fn record_gap(
        &self,
        guild: GuildId,
        key: &str,
        question: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        const OP: &str = "record gap";
        let (key, question) = (key.to_owned(), question.to_owned());
        self.with(OP, move |conn| {
            conn.execute("DELETE FROM gaps WHERE expires_at <= ?1", [at.as_millis()]).map_err(error(OP))?;
            conn.execute(
                "INSERT INTO gaps (guild, key, question, count, last_at, expires_at) VALUES (?1, ?2, ?3, 1, ?4, ?5)
                 ON CONFLICT (guild, key) DO UPDATE SET
                     count = count + 1, question = excluded.question, last_at = excluded.last_at,
                     expires_at = excluded.expires_at",
                params![guild.to_string(), key, question, at.as_millis(), expires_at.as_millis()],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }

    async fn top_gaps(&self, guild: GuildId, limit: usize, now: Timestamp) -> Result<Vec<Gap>, StoreError> {
        const OP: &str = "list gaps";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT question, count, last_at FROM gaps WHERE guild = ?1 AND expires_at > ?2
                     ORDER BY count DESC, last_at DESC LIMIT ?3",
                )
                .map_err(error(OP))?;
            let rows = query
                .query_map(params![guild.to_string(), now.as_millis(), i64_of(limit as u64)], |row| {
                    Ok(Gap {
                        question: row.get(0)?,
                        count: u64_of(row.get(1)?),
                        last_asked_at: Timestamp::from_millis(row.get(2)?),
                    })
                })
                .map_err(error(OP))?;
            rows.collect::<Result<_, _>>().map_err(error(OP))
        })
        .await
    }
}
