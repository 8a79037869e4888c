//! A short-lived cache of guild settings, so the relay filter costs no I/O per message and a
//! settings change still applies within [`TTL`] without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use steward_domain::ids::GuildId;
use steward_domain::ports::SettingsStore;
use steward_domain::settings::GuildSettings;

/// How long a guild's settings are trusted before they are read again.
pub const TTL: Duration = Duration::from_secs(30);

/// Guild settings with a time-to-live.
pub struct SettingsCache {
    store: Arc<dyn SettingsStore>,
    ttl: Duration,
    entries: Mutex<HashMap<GuildId, (Instant, Arc<GuildSettings>)>>,
}

impl SettingsCache {
    /// A cache over `store` with the default [`TTL`].
    #[must_use]
    pub fn new(store: Arc<dyn SettingsStore>) -> Self {
        Self::with_ttl(store, TTL)
    }

    /// A cache over `store` keeping entries for `ttl`.
    #[must_use]
    pub fn with_ttl(store: Arc<dyn SettingsStore>, ttl: Duration) -> Self {
        Self { store, ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The guild's settings: cached, or read from the store (defaults for an unknown guild).
    /// If the store fails, the last known settings (or the defaults) are used and the read is
    /// retried on the next message.
    pub async fn get(&self, guild: GuildId) -> Arc<GuildSettings> {
        let now = Instant::now();
        let stale = {
            let entries = self.lock();
            match entries.get(&guild) {
                Some((at, settings)) if now.duration_since(*at) < self.ttl => return Arc::clone(settings),
                Some((_, settings)) => Some(Arc::clone(settings)),
                None => None,
            }
        };
        match self.store.get_settings(guild).await {
            Ok(found) => {
                let settings = Arc::new(found.unwrap_or_default());
                self.lock().insert(guild, (now, Arc::clone(&settings)));
                settings
            }
            Err(error) => {
                tracing::warn!(%guild, error = &error as &dyn std::error::Error, "could not refresh guild settings");
                stale.unwrap_or_default()
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<GuildId, (Instant, Arc<GuildSettings>)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use steward_domain::settings::ResponseMode;
    use steward_domain::testing::MemoryStore;

    use super::*;

    #[tokio::test]
    async fn changes_apply_after_the_ttl() {
        let store = MemoryStore::default();
        let guild = GuildId::new(1).unwrap();
        let cache = SettingsCache::with_ttl(Arc::new(store.clone()), Duration::from_millis(50));
        assert_eq!(cache.get(guild).await.response_mode, ResponseMode::Mention);
        let all = GuildSettings { response_mode: ResponseMode::AllMessages, ..GuildSettings::default() };
        store.put_settings(guild, &all).await.unwrap();
        assert_eq!(cache.get(guild).await.response_mode, ResponseMode::Mention, "still cached");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(cache.get(guild).await.response_mode, ResponseMode::AllMessages);
    }
}
