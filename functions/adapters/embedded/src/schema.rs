//! The tables, and the migrations that bring an older database file up to them.

use rusqlite::{Connection, TransactionBehavior};
use steward_domain::ports::{StoreError, StoreErrorKind};

use crate::row::error;

/// The schema version this Steward reads and writes, kept in SQLite's `user_version`.
pub(crate) const SCHEMA_VERSION: i64 = 5;

/// The current schema. `IF NOT EXISTS` throughout: it creates a new database whole and is a no-op
/// on a migrated one.
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
    embedding_model TEXT,
    embedding BLOB,
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
    expires_at INTEGER NOT NULL,
    done INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_expiry ON claims (expires_at);
CREATE TABLE IF NOT EXISTS gaps (
    guild TEXT NOT NULL,
    key TEXT NOT NULL,
    question TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (guild, key)
);
CREATE INDEX IF NOT EXISTS gaps_by_count ON gaps (guild, count DESC, last_at DESC);
CREATE INDEX IF NOT EXISTS gaps_by_expiry ON gaps (expires_at);
CREATE TABLE IF NOT EXISTS case_numbers (
    guild TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    guild TEXT NOT NULL,
    id INTEGER NOT NULL,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (guild, id)
);
CREATE INDEX IF NOT EXISTS cases_by_expiry ON cases (expires_at);
CREATE TABLE IF NOT EXISTS strikes (
    guild TEXT NOT NULL,
    member TEXT NOT NULL,
    case_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (guild, member, case_id)
);
CREATE INDEX IF NOT EXISTS strikes_by_expiry ON strikes (expires_at);
";

/// Each migration with the version it brings a database to, oldest first.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        // A claim becomes a lease or a completion. Version 1 recorded only processed keys, so its
        // rows are completions. SQLite cannot add a NOT NULL column without a default, hence the copy.
        2,
        "CREATE TABLE claims_v2 (
            key TEXT PRIMARY KEY,
            expires_at INTEGER NOT NULL,
            done INTEGER NOT NULL
        );
        INSERT INTO claims_v2 (key, expires_at, done) SELECT key, expires_at, 1 FROM claims;
        DROP TABLE claims;
        ALTER TABLE claims_v2 RENAME TO claims;",
    ),
    (
        // Knowledge gaps (X5): a new table and its indexes, as in `SCHEMA`. Created here rather than
        // left to `SCHEMA` so that later migrations can rely on the table existing.
        3,
        "CREATE TABLE gaps (
            guild TEXT NOT NULL,
            key TEXT NOT NULL,
            question TEXT NOT NULL,
            count INTEGER NOT NULL,
            last_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (guild, key)
        );
        CREATE INDEX gaps_by_count ON gaps (guild, count DESC, last_at DESC);
        CREATE INDEX gaps_by_expiry ON gaps (expires_at);",
    ),
    (
        // Hybrid search: a chunk may carry its vector (little-endian f32s) and the model that made it.
        4,
        "ALTER TABLE kb_chunks ADD COLUMN embedding_model TEXT;
        ALTER TABLE kb_chunks ADD COLUMN embedding BLOB;",
    ),
    (
        // Moderation (X3, X8): cases numbered per guild (the counter outlives expired cases, so
        // numbers are never reused) and the offender ladder's strikes. New tables, as in `SCHEMA`.
        5,
        "CREATE TABLE case_numbers (
            guild TEXT PRIMARY KEY,
            next INTEGER NOT NULL
        );
        CREATE TABLE cases (
            guild TEXT NOT NULL,
            id INTEGER NOT NULL,
            doc TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (guild, id)
        );
        CREATE INDEX cases_by_expiry ON cases (expires_at);
        CREATE TABLE strikes (
            guild TEXT NOT NULL,
            member TEXT NOT NULL,
            case_id INTEGER NOT NULL,
            at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (guild, member, case_id)
        );
        CREATE INDEX strikes_by_expiry ON strikes (expires_at);",
    ),
];

const _: () =
    assert!(MIGRATIONS[MIGRATIONS.len() - 1].0 == SCHEMA_VERSION, "the last migration reaches SCHEMA_VERSION");

/// Brings the database to [`SCHEMA_VERSION`] in one transaction: a new file (version 0) gets the
/// schema whole, an older one the migrations it lacks. A newer one is refused: this Steward would
/// misread it.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    const OP: &str = "migrate the schema";
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error(OP))?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(error("read schema"))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::new(
            StoreErrorKind::Other,
            "open the database",
            format!(
                "the database schema is version {version}, newer than this Steward ({SCHEMA_VERSION}); upgrade Steward"
            ),
        ));
    }
    if version > 0 {
        for (_, migration) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
            tx.execute_batch(migration).map_err(error(OP))?;
        }
    }
    tx.execute_batch(SCHEMA).map_err(error("create the schema"))?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(error("record the schema"))?;
    tx.commit().map_err(error(OP))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use steward_domain::clock::Timestamp;
    use steward_domain::ports::{Claim, ClaimStore};
    use steward_domain::testing::conformance;

    use super::*;
    use crate::SqliteStore;

    /// Each column of `table` as (name, type, not null, primary key).
    fn columns(conn: &Connection, table: &str) -> Vec<(String, String, bool, bool)> {
        let mut query =
            conn.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid").unwrap();
        query
            .query_map([table], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get::<_, i64>(3)? > 0)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_version_1_database_migrates_and_its_claims_read_as_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.sqlite3");
        let now = Timestamp::from_secs(1_000_000);
        let kept = now.plus(Duration::from_secs(3_600));
        {
            let v1 = Connection::open(&path).unwrap();
            v1.execute_batch(&as_version_3()).unwrap();
            v1.execute_batch(
                "DROP TABLE gaps;
                 DROP TABLE claims;
                 CREATE TABLE claims (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
            v1.execute("INSERT INTO claims (key, expires_at) VALUES ('event:old', ?1)", [kept.as_millis()]).unwrap();
        }

        let store = SqliteStore::open(&path).unwrap();
        let lease = now.plus(Duration::from_secs(60));
        assert_eq!(store.claim("event:old", now, lease).await.unwrap(), Claim::Done, "v1 claims were processed work");
        assert_eq!(store.claim("event:old", kept, kept.plus(Duration::from_secs(60))).await.unwrap(), Claim::Acquired);
        conformance::run_all(&store).await;
        drop(store);

        let migrated = Connection::open(&path).unwrap();
        let version: i64 = migrated.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(SCHEMA).unwrap();
        assert_eq!(columns(&migrated, "claims"), columns(&fresh, "claims"), "migrated like a new database");
        assert!(columns(&migrated, "claims").iter().any(|(name, _, not_null, _)| name == "done" && *not_null));
    }

    /// The indexes on `table` as (name, columns), sorted by name.
    fn indexes(conn: &Connection, table: &str) -> Vec<(String, String)> {
        let mut query = conn
            .prepare(
                "SELECT name, (SELECT group_concat(name || ':' || \"desc\") FROM pragma_index_xinfo(l.name) WHERE key)
                 FROM pragma_index_list(?1) AS l ORDER BY name",
            )
            .unwrap();
        query.query_map([table], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_version_2_database_migrates_and_gains_the_gaps_table() {
        // GIVEN a version 2 database (today's schema without `gaps`) holding a completed claim
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.sqlite3");
        let now = Timestamp::from_secs(1_000_000);
        let kept = now.plus(Duration::from_secs(3_600));
        {
            let v2 = Connection::open(&path).unwrap();
            v2.execute_batch(&as_version_3()).unwrap();
            v2.execute_batch("DROP TABLE gaps; PRAGMA user_version = 2;").unwrap();
            v2.execute("INSERT INTO claims (key, expires_at, done) VALUES ('event:old', ?1, 1)", [kept.as_millis()])
                .unwrap();
        }

        // WHEN this Steward opens it
        let store = SqliteStore::open(&path).unwrap();

        // THEN its data is kept, every port works, and the file matches a new database
        let lease = now.plus(Duration::from_secs(60));
        assert_eq!(store.claim("event:old", now, lease).await.unwrap(), Claim::Done, "v2 data survives");
        conformance::run_all(&store).await;
        drop(store);
        let migrated = Connection::open(&path).unwrap();
        let version: i64 = migrated.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(SCHEMA).unwrap();
        assert_eq!(columns(&migrated, "gaps"), columns(&fresh, "gaps"), "migrated like a new database");
        assert_eq!(indexes(&migrated, "gaps"), indexes(&fresh, "gaps"), "with the same indexes");
        assert!(indexes(&fresh, "gaps").iter().any(|(name, _)| name == "gaps_by_count"));
    }

    /// Today's schema as version 4 had it: no moderation cases or strikes.
    fn as_version_4() -> String {
        format!(
            "{SCHEMA}
             DROP TABLE strikes;
             DROP TABLE cases;
             DROP TABLE case_numbers;
             PRAGMA user_version = 4;"
        )
    }

    /// Today's schema as version 3 had it: version 4's, with chunks without vectors.
    fn as_version_3() -> String {
        format!(
            "{}
             ALTER TABLE kb_chunks DROP COLUMN embedding;
             ALTER TABLE kb_chunks DROP COLUMN embedding_model;
             PRAGMA user_version = 3;",
            as_version_4()
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_version_3_database_migrates_and_its_chunks_read_without_vectors() {
        use steward_domain::knowledge::KbScope;
        use steward_domain::ports::KnowledgeStore;

        // GIVEN a version 3 database holding a document and its chunk
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.sqlite3");
        {
            let v3 = Connection::open(&path).unwrap();
            v3.execute_batch(&as_version_3()).unwrap();
            v3.execute_batch(
                "INSERT INTO kb_documents (scope, id, title, source, created_at, chars, chunks)
                 VALUES ('global', '01JD0000000000000000000000', 'FAQ', NULL, 1, 9, 1);
                 INSERT INTO kb_chunks (scope, document, idx, title, heading, body)
                 VALUES ('global', '01JD0000000000000000000000', 0, 'FAQ', '', 'Old text.');",
            )
            .unwrap();
        }

        // WHEN this Steward opens it
        let store = SqliteStore::open(&path).unwrap();

        // THEN the chunk is there without a vector, every port works, and the file matches a new one
        let chunks = store.chunks(KbScope::Global).await.unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "Old text.");
        assert!(chunks[0].embedding.is_none());
        conformance::run_all(&store).await;
        drop(store);
        let migrated = Connection::open(&path).unwrap();
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(SCHEMA).unwrap();
        assert_eq!(columns(&migrated, "kb_chunks"), columns(&fresh, "kb_chunks"), "migrated like a new database");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_version_4_database_migrates_and_gains_the_case_tables() {
        use steward_domain::ids::GuildId;
        use steward_domain::ports::GapStore;

        // GIVEN a version 4 database (today's schema without cases and strikes) holding a gap
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.sqlite3");
        let now = Timestamp::from_secs(1_000_000);
        let kept = now.plus(Duration::from_secs(3_600));
        {
            let v4 = Connection::open(&path).unwrap();
            v4.execute_batch(&as_version_4()).unwrap();
            v4.execute(
                "INSERT INTO gaps (guild, key, question, count, last_at, expires_at)
                 VALUES ('1', 'refund', 'Refund?', 3, ?1, ?2)",
                [now.as_millis(), kept.as_millis()],
            )
            .unwrap();
        }

        // WHEN this Steward opens it
        let store = SqliteStore::open(&path).unwrap();

        // THEN its data is kept, every port works, and the file matches a new database
        let gaps = store.top_gaps(GuildId::new(1).unwrap(), 10, now).await.unwrap();
        assert_eq!(gaps.len(), 1, "v4 data survives");
        assert_eq!(gaps[0].count, 3);
        conformance::run_all(&store).await;
        drop(store);
        let migrated = Connection::open(&path).unwrap();
        let version: i64 = migrated.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(SCHEMA).unwrap();
        for table in ["case_numbers", "cases", "strikes"] {
            assert!(!columns(&fresh, table).is_empty(), "{table} is in the schema");
            assert_eq!(columns(&migrated, table), columns(&fresh, table), "{table} migrated like a new database");
            assert_eq!(indexes(&migrated, table), indexes(&fresh, table), "{table} with the same indexes");
        }
        assert!(indexes(&fresh, "cases").iter().any(|(name, _)| name == "cases_by_expiry"));
        assert!(indexes(&fresh, "strikes").iter().any(|(name, _)| name == "strikes_by_expiry"));
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let error = SqliteStore::open(&path).unwrap_err();
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(cause.contains("upgrade Steward"), "{cause}");
    }
}
