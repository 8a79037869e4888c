//! Monthly quota counters; a reservation is one conditional upsert.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use steward_domain::ids::GuildId;
use steward_domain::ports::{StoreError, UsageStore};
use steward_domain::quota::{Month, Reservation};

use crate::SqliteStore;
use crate::row::{error, i64_of, u64_of};

#[async_trait]
impl UsageStore for SqliteStore {
    async fn reserve(&self, guild: GuildId, month: Month, limit: u64) -> Result<Reservation, StoreError> {
        const OP: &str = "reserve quota";
        self.with(OP, move |conn| {
            let used: Option<i64> = conn
                .query_row(
                    "INSERT INTO usage (guild, month, used) VALUES (?1, ?2, 1)
                     ON CONFLICT (guild, month) DO UPDATE SET used = used + 1 WHERE used < ?3
                     RETURNING used",
                    params![guild.to_string(), month.to_string(), i64_of(limit)],
                    |row| row.get(0),
                )
                .optional()
                .map_err(error(OP))?;
            Ok(match used {
                Some(used) if u64_of(used) <= limit => Reservation::Granted { used: u64_of(used) },
                _ => Reservation::Exhausted,
            })
        })
        .await
    }

    async fn release(&self, guild: GuildId, month: Month) -> Result<(), StoreError> {
        const OP: &str = "release quota";
        self.with(OP, move |conn| {
            conn.execute(
                "UPDATE usage SET used = used - 1 WHERE guild = ?1 AND month = ?2 AND used > 0",
                params![guild.to_string(), month.to_string()],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }

    async fn used(&self, guild: GuildId, month: Month) -> Result<u64, StoreError> {
        const OP: &str = "read usage";
        self.with(OP, move |conn| {
            let used: Option<i64> = conn
                .query_row(
                    "SELECT used FROM usage WHERE guild = ?1 AND month = ?2",
                    params![guild.to_string(), month.to_string()],
                    |row| row.get(0),
                )
                .optional()
                .map_err(error(OP))?;
            Ok(used.map_or(0, u64_of))
        })
        .await
    }
}
