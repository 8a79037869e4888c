//! Guild settings: one item per guild holding the settings as JSON.

use async_trait::async_trait;
use steward_domain::ids::GuildId;
use steward_domain::ports::{SettingsStore, StoreError};
use steward_domain::settings::GuildSettings;

use crate::DynamoStore;
use crate::error::corrupt;
use crate::item::{Item, get_s, key, s};

fn settings_key(guild: GuildId) -> Item {
    key(format!("GUILD#{guild}"), "SETTINGS")
}

#[async_trait]
impl SettingsStore for DynamoStore {
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError> {
        const OP: &str = "get settings";
        let item = self.get(settings_key(guild), OP).await?;
        item.map(|item| serde_json::from_str(get_s(&item, "doc", OP)?).map_err(corrupt(OP))).transpose()
    }

    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError> {
        const OP: &str = "put settings";
        let mut item = settings_key(guild);
        item.insert("doc".into(), s(serde_json::to_string(settings).map_err(corrupt(OP))?));
        self.put(item, OP).await
    }
}
