//! Guild settings: one JSON document per guild.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use steward_domain::ids::GuildId;
use steward_domain::ports::{SettingsStore, StoreError};
use steward_domain::settings::GuildSettings;

use crate::SqliteStore;
use crate::row::{corrupt, error};

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
