//! The embedded store: every Steward store port in one SQLite file (standalone mode, D5).
//!
//! One connection in WAL mode behind a mutex; calls run on tokio's blocking pool so the async
//! runtime never waits on disk. Quota reservations are single conditional `UPDATE`s, and claims
//! and case numbering one immediate transaction each, so all are atomic whatever the concurrency.
//!
//! One module per port, each an `impl Port for SqliteStore`; `schema` holds the tables and their
//! migrations, `row` the conversions every port shares.

mod cases;
mod channel_history;
mod claims;
mod conversations;
mod gaps;
mod knowledge;
mod row;
mod schema;
mod settings;
mod usage;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use steward_domain::ports::{StoreError, StoreErrorKind};

use crate::row::error;

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

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(error("enable WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(error("set synchronous"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(error("set busy timeout"))?;
        schema::migrate(&mut conn)?;
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

#[cfg(test)]
mod tests {
    use steward_domain::ids::GuildId;
    use steward_domain::ports::SettingsStore;
    use steward_domain::settings::GuildSettings;
    use steward_domain::testing::conformance;

    use super::*;

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
}
