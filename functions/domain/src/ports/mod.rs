//! Ports: the small traits through which services reach storage, Discord, the bus and search.
//!
//! One file per port. Each has a technology-named adapter per outside system and a fake in
//! `crate::testing`. Ports stay capability-sized: a Lambda links, and its IAM policy allows,
//! only what its ports need. [`Ports`] bundles the worker's ports so every service is built from
//! one value.

mod bus;
mod cases;
mod channel_history;
mod claims;
mod conversations;
mod discord;
mod embeddings;
mod error;
mod gaps;
mod knowledge;
mod moderation;
mod search;
mod settings;
mod usage;

use std::sync::Arc;

pub use self::bus::{BusError, EventBus};
pub use self::cases::CaseStore;
pub use self::channel_history::ChannelHistory;
pub use self::claims::{Claim, ClaimStore};
pub use self::conversations::ConversationStore;
pub use self::discord::{DiscordError, DiscordErrorKind, DiscordRest};
pub use self::embeddings::{EMBED_BATCH, Embedder, embed_chunks, embed_one};
pub use self::error::{BoxError, StoreError, StoreErrorKind};
pub use self::gaps::{Gap, GapStore, rank_gaps};
pub use self::knowledge::KnowledgeStore;
pub use self::moderation::{ModerationRest, codes};
pub use self::search::{KnowledgeSearch, MAX_PASSAGES_PER_DOCUMENT, SearchError, SearchResults, diversify};
pub use self::settings::SettingsStore;
pub use self::usage::UsageStore;
pub use crate::clock::Clock;
pub use crate::model::ChatModel;

/// Every port the worker's services use, built once by an entry point.
#[derive(Clone)]
pub struct Ports {
    /// Guild settings.
    pub settings: Arc<dyn SettingsStore>,
    /// Quota counters.
    pub usage: Arc<dyn UsageStore>,
    /// Per-member conversation turns.
    pub conversations: Arc<dyn ConversationStore>,
    /// Per-channel recent conversation.
    pub history: Arc<dyn ChannelHistory>,
    /// Idempotency leases and cooldowns.
    pub claims: Arc<dyn ClaimStore>,
    /// Questions the knowledge base could not answer.
    pub gaps: Arc<dyn GapStore>,
    /// Moderation cases and strikes.
    pub cases: Arc<dyn CaseStore>,
    /// Knowledge-base search.
    pub search: Arc<dyn KnowledgeSearch>,
    /// The language model.
    pub model: Arc<dyn ChatModel>,
    /// Discord.
    pub discord: Arc<dyn DiscordRest>,
    /// Discord's moderation calls.
    pub moderation: Arc<dyn ModerationRest>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// A Discord client that serves both Discord ports (the twilight adapter and the fake do).
pub trait DiscordClient: DiscordRest + ModerationRest + 'static {}

impl<T> DiscordClient for T where T: DiscordRest + ModerationRest + 'static {}

/// A store that serves every store port the worker needs (the SQLite and DynamoDB adapters do).
pub trait WorkerStore:
    SettingsStore + UsageStore + ConversationStore + ChannelHistory + ClaimStore + GapStore + CaseStore + 'static
{
}

impl<T> WorkerStore for T where
    T: SettingsStore + UsageStore + ConversationStore + ChannelHistory + ClaimStore + GapStore + CaseStore + 'static
{
}

impl Ports {
    /// The bundle with every store port served by `store`.
    #[must_use]
    pub fn with_store<S: WorkerStore, D: DiscordClient>(
        store: &Arc<S>,
        search: Arc<dyn KnowledgeSearch>,
        model: Arc<dyn ChatModel>,
        discord: Arc<D>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings: store.clone(),
            usage: store.clone(),
            conversations: store.clone(),
            history: store.clone(),
            claims: store.clone(),
            gaps: store.clone(),
            cases: store.clone(),
            search,
            model,
            discord: discord.clone(),
            moderation: discord,
            clock,
        }
    }
}
