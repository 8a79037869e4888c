//! The settings port in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::ids::GuildId;
use crate::ports::{SettingsStore, StoreError};
use crate::settings::GuildSettings;

#[async_trait]
impl SettingsStore for MemoryStore {
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError> {
        Ok(self.tables().settings.get(&guild).cloned())
    }

    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError> {
        self.tables().settings.insert(guild, settings.clone());
        Ok(())
    }
}
