//! A short-lived cache of guild settings, so the relay filter costs no I/O per message and a
//! settings change still applies within [`TTL`] without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use steward_domain::clock::{Clock, SystemClock, Timestamp};
use steward_domain::ids::GuildId;
use steward_domain::ports::SettingsStore;
use steward_domain::settings::GuildSettings;

/// How long a guild's settings are trusted before they are read again.
pub const TTL: Duration = Duration::from_secs(30);

type Entries = HashMap<GuildId, (Timestamp, Arc<GuildSettings>)>;

/// Guild settings with a time-to-live, aged by the gateway's [`Clock`].
pub struct SettingsCache {
    store: Arc<dyn SettingsStore>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    entries: Mutex<Entries>,
}

impl SettingsCache {
    /// A cache over `store` with the default [`TTL`] and the system clock.
    #[must_use]
    pub fn new(store: Arc<dyn SettingsStore>) -> Self {
        Self::with_clock(store, TTL, Arc::new(SystemClock))
    }

    /// A cache over `store` keeping entries for `ttl` as `clock` tells time.
    #[must_use]
    pub fn with_clock(store: Arc<dyn SettingsStore>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { store, ttl, clock, entries: Mutex::new(HashMap::new()) }
    }

    /// The clock this cache (and the gateway that holds it) tells time by.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The guild's settings: cached, or read from the store (defaults for an unknown guild).
    /// If the store fails, the last known settings (or the defaults) are used and the read is
    /// retried on the next message.
    pub async fn get(&self, guild: GuildId) -> Arc<GuildSettings> {
        let now = self.clock.now();
        let stale = {
            let entries = self.lock();
            match entries.get(&guild) {
                // `distance` is absolute: a wall clock stepped backwards expires entries too.
                Some((at, settings)) if now.distance(*at) < self.ttl => return Arc::clone(settings),
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use steward_domain::settings::ResponseMode;
    use steward_domain::testing::{ManualClock, MemoryStore};

    use super::*;

    #[tokio::test]
    async fn changes_apply_after_the_ttl() {
        let store = MemoryStore::default();
        let guild = GuildId::new(1).unwrap();
        let clock = Arc::new(ManualClock::at(Timestamp::from_secs(1_700_000_000)));
        let cache = SettingsCache::with_clock(Arc::new(store.clone()), TTL, clock.clone());
        assert_eq!(cache.get(guild).await.response_mode, ResponseMode::Mention);
        let all = GuildSettings { response_mode: ResponseMode::AllMessages, ..GuildSettings::default() };
        store.put_settings(guild, &all).await.unwrap();
        clock.advance(TTL - Duration::from_millis(1));
        assert_eq!(cache.get(guild).await.response_mode, ResponseMode::Mention, "still cached");
        clock.advance(Duration::from_millis(1));
        assert_eq!(cache.get(guild).await.response_mode, ResponseMode::AllMessages);
    }
}
