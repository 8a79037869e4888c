//! Moderation cases and strikes. A case is numbered and stored in one immediate transaction, so
//! concurrent openings never share a number; expired cases and strikes are swept on write.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use steward_domain::clock::Timestamp;
use steward_domain::ids::{GuildId, UserId};
use steward_domain::moderation::case::{Case, NewCase};
use steward_domain::ports::{CaseStore, StoreError};

use crate::SqliteStore;
use crate::row::{corrupt, error, i64_of, u64_of};

/// The case as its `doc` column.
fn doc_of(case: &Case, op: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(case).map_err(corrupt(op))
}

/// The case in a `doc` column.
fn case_of(doc: &str, op: &'static str) -> Result<Case, StoreError> {
    serde_json::from_str(doc).map_err(corrupt(op))
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn open_case(&self, guild: GuildId, case: NewCase) -> Result<Case, StoreError> {
        const OP: &str = "open case";
        self.with(OP, move |conn| {
            let guild = guild.to_string();
            let now = case.created_at;
            // Immediate: the write lock is taken before the number is read, so another process
            // sharing the file cannot take the same number.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error(OP))?;
            // Expired cases are swept on write (their numbers stay taken in `case_numbers`).
            tx.execute("DELETE FROM cases WHERE expires_at <= ?1", [now.as_millis()]).map_err(error(OP))?;
            tx.execute(
                "INSERT INTO case_numbers (guild, next) VALUES (?1, 1)
                 ON CONFLICT (guild) DO UPDATE SET next = next + 1",
                [&guild],
            )
            .map_err(error(OP))?;
            let id: i64 = tx
                .query_row("SELECT next FROM case_numbers WHERE guild = ?1", [&guild], |row| row.get(0))
                .map_err(error(OP))?;
            let case = Case { id: u64_of(id), body: case, appeal: None, reversal: None };
            tx.execute(
                "INSERT INTO cases (guild, id, doc, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![guild, id, doc_of(&case, OP)?, now.as_millis(), case.expires_at().as_millis()],
            )
            .map_err(error(OP))?;
            tx.commit().map_err(error(OP))?;
            Ok(case)
        })
        .await
    }

    async fn save_case(&self, guild: GuildId, case: &Case) -> Result<(), StoreError> {
        const OP: &str = "save case";
        let doc = doc_of(case, OP)?;
        let (id, created_at, expires_at) = (i64_of(case.id), case.body.created_at, case.expires_at());
        self.with(OP, move |conn| {
            conn.execute(
                "INSERT INTO cases (guild, id, doc, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (guild, id) DO UPDATE SET
                     doc = excluded.doc, created_at = excluded.created_at, expires_at = excluded.expires_at",
                params![guild.to_string(), id, doc, created_at.as_millis(), expires_at.as_millis()],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }

    async fn case(&self, guild: GuildId, id: u64, now: Timestamp) -> Result<Option<Case>, StoreError> {
        const OP: &str = "get case";
        self.with(OP, move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM cases WHERE guild = ?1 AND id = ?2 AND expires_at > ?3",
                    params![guild.to_string(), i64_of(id), now.as_millis()],
                    |row| row.get(0),
                )
                .optional()
                .map_err(error(OP))?;
            doc.map(|doc| case_of(&doc, OP)).transpose()
        })
        .await
    }

    async fn cases(
        &self,
        guild: GuildId,
        before: Option<u64>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<Case>, StoreError> {
        const OP: &str = "list cases";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT doc FROM cases WHERE guild = ?1 AND id < ?2 AND expires_at > ?3
                     ORDER BY id DESC LIMIT ?4",
                )
                .map_err(error(OP))?;
            let before = before.map_or(i64::MAX, i64_of);
            let rows = query
                .query_map(params![guild.to_string(), before, now.as_millis(), i64_of(limit as u64)], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(error(OP))?;
            rows.map(|doc| case_of(&doc.map_err(error(OP))?, OP)).collect()
        })
        .await
    }

    async fn add_strike(
        &self,
        guild: GuildId,
        member: UserId,
        case: u64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        const OP: &str = "add strike";
        self.with(OP, move |conn| {
            // Expired strikes are swept on write, as DynamoDB's TTL deletes them.
            conn.execute("DELETE FROM strikes WHERE expires_at <= ?1", [at.as_millis()]).map_err(error(OP))?;
            conn.execute(
                "INSERT INTO strikes (guild, member, case_id, at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (guild, member, case_id) DO UPDATE SET at = excluded.at, expires_at = excluded.expires_at",
                params![guild.to_string(), member.to_string(), i64_of(case), at.as_millis(), expires.as_millis()],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }

    async fn remove_strike(&self, guild: GuildId, member: UserId, case: u64) -> Result<bool, StoreError> {
        const OP: &str = "remove strike";
        self.with(OP, move |conn| {
            let removed = conn
                .execute(
                    "DELETE FROM strikes WHERE guild = ?1 AND member = ?2 AND case_id = ?3",
                    params![guild.to_string(), member.to_string(), i64_of(case)],
                )
                .map_err(error(OP))?;
            Ok(removed > 0)
        })
        .await
    }

    async fn strikes(&self, guild: GuildId, member: UserId, since: Timestamp) -> Result<u32, StoreError> {
        const OP: &str = "count strikes";
        self.with(OP, move |conn| {
            let count: i64 = conn
                .query_row(
                    "SELECT count(*) FROM strikes WHERE guild = ?1 AND member = ?2 AND at >= ?3 AND expires_at > ?3",
                    params![guild.to_string(), member.to_string(), since.as_millis()],
                    |row| row.get(0),
                )
                .map_err(error(OP))?;
            Ok(u32::try_from(count).unwrap_or(u32::MAX))
        })
        .await
    }
}
