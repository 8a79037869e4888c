//! Fakes of every port, a fault-injecting store, and the store conformance suite, for tests at
//! every layer. One fake per port; [`Fakes`] wires them into the worker's [`Ports`].
//!
//! Enabled by the `testing` feature; never linked into a shipped binary.

mod bus;
mod clock;
pub mod conformance;
mod discord;
mod embedder;
mod faulty;
mod memory;
mod model;
mod search;

use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Timestamp;
use crate::ports::{KnowledgeStore, Ports, WorkerStore};

pub use self::bus::RecordingBus;
pub use self::clock::ManualClock;
pub use self::discord::{ADMIN_ROLE, DiscordCall, FAKE_BOT, FAKE_OWNER, MODERATOR_ROLE, RecordingDiscord, SENIOR_ROLE};
pub use self::embedder::{WORD_EMBEDDER_DIMENSIONS, WordEmbedder};
pub use self::faulty::FaultyStore;
pub use self::memory::MemoryStore;
pub use self::model::{ScriptedModel, violation};
pub use self::search::NaiveSearch;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// When [`Fakes::default`]'s clock starts: 2026-11-19, a Thursday.
pub const FAKE_NOW: Timestamp = Timestamp::from_secs(1_795_000_000);

/// Every fake, sharing one memory store: the worker's ports for service tests.
#[derive(Debug, Clone)]
pub struct Fakes {
    /// The store behind every store port.
    pub store: MemoryStore,
    /// Discord.
    pub discord: RecordingDiscord,
    /// The model.
    pub model: ScriptedModel,
    /// The bus (for the intake).
    pub bus: RecordingBus,
    /// Time.
    pub clock: Arc<ManualClock>,
}

impl Default for Fakes {
    fn default() -> Self {
        Self {
            store: MemoryStore::default(),
            discord: RecordingDiscord::default(),
            model: ScriptedModel::default(),
            bus: RecordingBus::default(),
            clock: Arc::new(ManualClock::at(FAKE_NOW)),
        }
    }
}

impl Fakes {
    /// The worker's ports over the memory store, searching it word by word.
    #[must_use]
    pub fn ports(&self) -> Ports {
        self.ports_over(Arc::new(self.store.clone()))
    }

    /// The worker's ports over another store (a [`FaultyStore`], a real adapter), with these
    /// fakes for everything else.
    #[must_use]
    pub fn ports_over<S: WorkerStore + KnowledgeStore>(&self, store: Arc<S>) -> Ports {
        let search = Arc::new(NaiveSearch(store.clone()));
        Ports::with_store(
            &store,
            search,
            Arc::new(self.model.clone()),
            Arc::new(self.discord.clone()),
            self.clock.clone(),
        )
    }
}
