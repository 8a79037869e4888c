//! Claims: a lease or a completion per key, read and written in one immediate transaction.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use steward_domain::clock::Timestamp;
use steward_domain::ports::{Claim, ClaimStore, StoreError};

use crate::SqliteStore;
use crate::row::error;

#[async_trait]
impl ClaimStore for SqliteStore {
    async fn claim(&self, key: &str, now: Timestamp, lease_until: Timestamp) -> Result<Claim, StoreError> {
        const OP: &str = "claim";
        let key = key.to_owned();
        self.with(OP, move |conn| {
            // Immediate: the write lock is taken before the read, so another process sharing the
            // file cannot claim between them (in this one, the connection's mutex already serialises).
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error(OP))?;
            // Expired claims are swept on write, so the table does not grow without bound.
            tx.execute("DELETE FROM claims WHERE expires_at <= ?1", [now.as_millis()]).map_err(error(OP))?;
            let current: Option<(i64, bool)> = tx
                .query_row("SELECT expires_at, done FROM claims WHERE key = ?1", [&key], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
                .map_err(error(OP))?;
            let claim = match current {
                Some((_, true)) => Claim::Done,
                Some((until, false)) => Claim::Held { until: Timestamp::from_millis(until) },
                None => {
                    tx.execute(
                        "INSERT INTO claims (key, expires_at, done) VALUES (?1, ?2, 0)",
                        params![key, lease_until.as_millis()],
                    )
                    .map_err(error(OP))?;
                    Claim::Acquired
                }
            };
            tx.commit().map_err(error(OP))?;
            Ok(claim)
        })
        .await
    }

    async fn complete(&self, key: &str, keep_until: Timestamp) -> Result<(), StoreError> {
        const OP: &str = "complete claim";
        let key = key.to_owned();
        self.with(OP, move |conn| {
            conn.execute(
                "INSERT INTO claims (key, expires_at, done) VALUES (?1, ?2, 1)
                 ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, done = 1",
                params![key, keep_until.as_millis()],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }
}
