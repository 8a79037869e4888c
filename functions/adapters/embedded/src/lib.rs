//! The embedded store: every Steward store port in one SQLite file (standalone mode, D5).
//!
//! One connection in WAL mode behind a mutex; calls run on tokio's blocking pool so the async
//! runtime never waits on disk. Quota reservations are single conditional `UPDATE`s, so they are
//! atomic whatever the concurrency.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use steward_domain::clock::Timestamp;
use steward_domain::conversation::{ChannelLine, ConversationKey, Speaker, Turn};
use steward_domain::ids::{ChannelId, DocumentId, GuildId, UserId};
use steward_domain::knowledge::{Chunk, Document, KbScope};
use steward_domain::ports::{
    ChannelHistory, ClaimStore, ConversationStore, KnowledgeStore, SettingsStore, StoreError, StoreErrorKind,
    UsageStore,
};
use steward_domain::quota::{Month, Reservation};
use steward_domain::settings::GuildSettings;

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (
    guild TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kb_documents (
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT,
    created_at INTEGER NOT NULL,
    chars INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    PRIMARY KEY (scope, id)
);
CREATE TABLE IF NOT EXISTS kb_chunks (
    scope TEXT NOT NULL,
    document TEXT NOT NULL,
    idx INTEGER NOT NULL,
    title TEXT NOT NULL,
    heading TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (scope, document, idx)
);
CREATE TABLE IF NOT EXISTS kb_versions (
    scope TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    at INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation, at);
CREATE INDEX IF NOT EXISTS turns_by_expiry ON turns (expires_at);
CREATE TABLE IF NOT EXISTS channel_lines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    at INTEGER NOT NULL,
    author_id TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS lines_by_channel ON channel_lines (channel, at);
CREATE INDEX IF NOT EXISTS lines_by_expiry ON channel_lines (expires_at);
CREATE TABLE IF NOT EXISTS usage (
    guild TEXT NOT NULL,
    month TEXT NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (guild, month)
);
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
";

/// Every store port over one SQLite database.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

fn error(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| {
        let kind = match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreErrorKind::Unavailable
            }
            _ => StoreErrorKind::Other,
        };
        StoreError::new(kind, operation, source)
    }
}

fn corrupt(operation: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
    move |source| StoreError::new(StoreErrorKind::Corrupt, operation, source)
}

fn i64_of(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn u64_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl SqliteStore {
    /// Opens (creating if needed) `steward.sqlite3` in `dir`.
    ///
    /// # Errors
    /// Returns an error if the directory or database cannot be created or migrated.
    pub fn open_in(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::new(StoreErrorKind::Other, "create the data directory", e))?;
        Self::open(&dir.join("steward.sqlite3"))
    }

    /// Opens (creating if needed) the database file at `path`.
    ///
    /// # Errors
    /// Returns an error if the file cannot be opened or migrated.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(error("open the database"))?;
        Self::init(conn)
    }

    /// An in-memory database, for tests and benchmarks.
    ///
    /// # Errors
    /// Returns an error if SQLite cannot start.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(error("open the database"))?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(error("enable WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(error("set synchronous"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(error("set busy timeout"))?;
        let version: i64 =
            conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(error("read schema"))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                "open the database",
                format!(
                    "the database schema is version {version}, newer than this Steward ({SCHEMA_VERSION}); upgrade Steward"
                ),
            ));
        }
        conn.execute_batch(SCHEMA).map_err(error("create the schema"))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(error("record the schema"))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn with<T, F>(&self, operation: &'static str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&mut guard)
        })
        .await
        .map_err(|join| StoreError::new(StoreErrorKind::Other, operation, join))?
    }
}

fn conversation_key(key: ConversationKey) -> String {
    format!("{}/{}/{}", key.guild, key.channel, key.user)
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError> {
        const OP: &str = "get settings";
        self.with(OP, move |conn| {
            let doc: Option<String> = conn
                .query_row("SELECT doc FROM settings WHERE guild = ?1", [guild.to_string()], |row| row.get(0))
                .optional()
                .map_err(error(OP))?;
            doc.map(|doc| serde_json::from_str(&doc).map_err(corrupt(OP))).transpose()
        })
        .await
    }

    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError> {
        const OP: &str = "put settings";
        let doc = serde_json::to_string(settings).map_err(corrupt(OP))?;
        self.with(OP, move |conn| {
            conn.execute(
                "INSERT INTO settings (guild, doc) VALUES (?1, ?2) ON CONFLICT (guild) DO UPDATE SET doc = excluded.doc",
                params![guild.to_string(), doc],
            )
            .map_err(error(OP))?;
            Ok(())
        })
        .await
    }
}

fn bump_version(tx: &rusqlite::Transaction<'_>, scope: &str, op: &'static str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO kb_versions (scope, version) VALUES (?1, 1)
         ON CONFLICT (scope) DO UPDATE SET version = version + 1",
        [scope],
    )
    .map_err(error(op))?;
    Ok(())
}

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError> {
        const OP: &str = "put document";
        let document = document.clone();
        let chunks = chunks.to_vec();
        self.with(OP, move |conn| {
            let scope = scope.to_string();
            let tx = conn.transaction().map_err(error(OP))?;
            tx.execute(
                "INSERT INTO kb_documents (scope, id, title, source, created_at, chars, chunks)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    scope,
                    document.id.as_str(),
                    document.title,
                    document.source,
                    document.created_at.as_millis(),
                    i64_of(document.chars),
                    document.chunks
                ],
            )
            .map_err(error(OP))?;
            {
                let mut insert = tx
                    .prepare("INSERT INTO kb_chunks (scope, document, idx, title, heading, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                    .map_err(error(OP))?;
                for chunk in &chunks {
                    insert
                        .execute(params![scope, chunk.document.as_str(), chunk.index, chunk.title, chunk.heading, chunk.text])
                        .map_err(error(OP))?;
                }
            }
            bump_version(&tx, &scope, OP)?;
            tx.commit().map_err(error(OP))
        })
        .await
    }

    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError> {
        const OP: &str = "list documents";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT id, title, source, created_at, chars, chunks FROM kb_documents
                     WHERE scope = ?1 ORDER BY created_at, id",
                )
                .map_err(error(OP))?;
            let rows = query
                .query_map([scope.to_string()], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get(5)?,
                    ))
                })
                .map_err(error(OP))?;
            rows.map(|row| {
                let (id, title, source, created_at, chars, chunks) = row.map_err(error(OP))?;
                let id = DocumentId::parse(&id).map_err(|e| StoreError::new(StoreErrorKind::Corrupt, OP, e))?;
                Ok(Document {
                    id,
                    title,
                    source,
                    created_at: Timestamp::from_millis(created_at),
                    chars: u64_of(chars),
                    chunks,
                })
            })
            .collect()
        })
        .await
    }

    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError> {
        const OP: &str = "delete document";
        let id = id.clone();
        self.with(OP, move |conn| {
            let scope = scope.to_string();
            let tx = conn.transaction().map_err(error(OP))?;
            let removed = tx
                .execute("DELETE FROM kb_documents WHERE scope = ?1 AND id = ?2", params![scope, id.as_str()])
                .map_err(error(OP))?;
            tx.execute("DELETE FROM kb_chunks WHERE scope = ?1 AND document = ?2", params![scope, id.as_str()])
                .map_err(error(OP))?;
            if removed > 0 {
                bump_version(&tx, &scope, OP)?;
            }
            tx.commit().map_err(error(OP))?;
            Ok(removed > 0)
        })
        .await
    }

    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError> {
        const OP: &str = "load chunks";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT document, idx, title, heading, body FROM kb_chunks WHERE scope = ?1 ORDER BY document, idx",
                )
                .map_err(error(OP))?;
            let rows = query
                .query_map([scope.to_string()], |row| {
                    Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
                })
                .map_err(error(OP))?;
            rows.map(|row| {
                let (document, index, title, heading, text) = row.map_err(error(OP))?;
                let document =
                    DocumentId::parse(&document).map_err(|e| StoreError::new(StoreErrorKind::Corrupt, OP, e))?;
                Ok(Chunk { document, index, title, heading, text })
            })
            .collect()
        })
        .await
    }

    async fn version(&self, scope: KbScope) -> Result<u64, StoreError> {
        const OP: &str = "read knowledge version";
        self.with(OP, move |conn| {
            let version: Option<i64> = conn
                .query_row("SELECT version FROM kb_versions WHERE scope = ?1", [scope.to_string()], |row| row.get(0))
                .optional()
                .map_err(error(OP))?;
            Ok(version.map_or(0, u64_of))
        })
        .await
    }
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn append_turn(&self, key: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError> {
        const OP: &str = "append turn";
        let turn = turn.clone();
        self.with(OP, move |conn| {
            let speaker = match turn.speaker {
                Speaker::Member => "member",
                Speaker::Bot => "bot",
            };
            // Expired turns are swept on write, so the file does not grow without bound.
            conn.execute("DELETE FROM turns WHERE expires_at <= ?1", [turn.at.as_millis()]).map_err(error(OP))?;
            conn.execute(
                "INSERT INTO turns (conversation, at, speaker, body, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![conversation_key(key), turn.at.as_millis(), speaker, turn.text, expires_at.as_millis()],
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
                    let speaker = if speaker == "bot" { Speaker::Bot } else { Speaker::Member };
                    Ok(Turn { speaker, text, at: Timestamp::from_millis(at) })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            turns.reverse();
            Ok(turns)
        })
        .await
    }
}

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
                    let author_id: UserId =
                        author_id.parse().map_err(|e| StoreError::new(StoreErrorKind::Corrupt, OP, e))?;
                    Ok(ChannelLine { author_id, author, text, at: Timestamp::from_millis(at) })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            lines.reverse();
            Ok(lines)
        })
        .await
    }
}

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

#[async_trait]
impl ClaimStore for SqliteStore {
    async fn claim(&self, key: &str, now: Timestamp, expires_at: Timestamp) -> Result<bool, StoreError> {
        const OP: &str = "claim";
        let key = key.to_owned();
        self.with(OP, move |conn| {
            let changed = conn
                .execute(
                    "INSERT INTO claims (key, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= ?3",
                    params![key, expires_at.as_millis(), now.as_millis()],
                )
                .map_err(error(OP))?;
            Ok(changed == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::testing::conformance;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sqlite_store_conforms() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).unwrap();
        conformance::run_all(&store).await;
    }

    #[tokio::test]
    async fn data_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let guild = GuildId::new(1).unwrap();
        {
            let store = SqliteStore::open_in(dir.path()).unwrap();
            store.put_settings(guild, &GuildSettings { smart_mode: false, ..GuildSettings::default() }).await.unwrap();
        }
        let store = SqliteStore::open_in(dir.path()).unwrap();
        assert!(!store.get_settings(guild).await.unwrap().unwrap().smart_mode);
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let error = SqliteStore::open(&path).unwrap_err();
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(cause.contains("upgrade Steward"), "{cause}");
    }
}
