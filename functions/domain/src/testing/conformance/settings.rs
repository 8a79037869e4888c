//! Settings cases.

use super::guild;
use crate::ids::ChannelId;
use crate::ports::SettingsStore;
use crate::quota::Plan;
use crate::settings::{GuildSettings, ResponseMode};

/// Unknown guilds have no settings; stored settings round-trip and are isolated per guild.
pub async fn settings_round_trip(store: &dyn SettingsStore) {
    assert_eq!(store.get_settings(guild(1)).await.unwrap(), None, "unknown guild has no stored settings");
    let settings = GuildSettings {
        response_mode: ResponseMode::AllMessages,
        smart_mode: false,
        allowed_channels: vec![ChannelId::new(5).unwrap()],
        plan: Plan::Custom(42),
        ..GuildSettings::default()
    };
    store.put_settings(guild(1), &settings).await.unwrap();
    assert_eq!(store.get_settings(guild(1)).await.unwrap(), Some(settings.clone()));
    assert_eq!(store.get_settings(guild(2)).await.unwrap(), None, "settings are per guild");
    let updated = GuildSettings { enabled: false, ..settings };
    store.put_settings(guild(1), &updated).await.unwrap();
    assert_eq!(store.get_settings(guild(1)).await.unwrap(), Some(updated), "put replaces");
}
