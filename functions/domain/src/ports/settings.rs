//! The settings port: per-guild settings.

use async_trait::async_trait;

use super::StoreError;
use crate::ids::GuildId;
use crate::settings::GuildSettings;

/// Reads and writes per-guild settings.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The stored settings, or `None` for a guild never configured.
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError>;
    /// Replaces the guild's settings.
    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError>;
}
