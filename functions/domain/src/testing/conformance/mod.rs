//! The store conformance suite: the same cases run against every store adapter.
//!
//! Each case takes the adapter as a port, so the embedded (SQLite), DynamoDB and in-memory
//! stores prove one behaviour. Cases panic with a message on the first difference. One file per
//! port; a new port adds its file here and its cases to [`run_all`].

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

mod cases;
mod channel_history;
mod claims;
mod conversations;
mod gaps;
mod knowledge;
mod settings;
mod usage;

use crate::ids::GuildId;
use crate::ports::{
    CaseStore, ChannelHistory, ClaimStore, ConversationStore, GapStore, KnowledgeStore, SettingsStore, UsageStore,
};

pub use self::cases::{
    cases_are_numbered_atomically_under_concurrency, cases_are_numbered_listed_and_updated,
    strikes_count_within_the_window,
};
pub use self::channel_history::channel_history;
pub use self::claims::{
    claims_are_atomic_under_concurrency, claims_are_exclusive_until_expiry, completed_claims_are_done_until_kept,
};
pub use self::conversations::conversation_turns;
pub use self::gaps::{
    gaps_are_atomic_under_concurrency, gaps_expire_unless_asked_again, gaps_group_rewordings_and_rank,
    gaps_with_very_long_keys_are_recorded,
};
pub use self::knowledge::{knowledge_documents, knowledge_embeddings};
pub use self::settings::settings_round_trip;
pub use self::usage::{usage_counts_and_stops_at_the_limit, usage_is_atomic_under_concurrency};

/// Guild `n`, for cases that need a few distinct guilds.
fn guild(n: u64) -> GuildId {
    GuildId::new(n).unwrap()
}

/// Runs every case; for adapters whose tests want one call.
pub async fn run_all<S>(store: &S)
where
    S: SettingsStore
        + KnowledgeStore
        + ConversationStore
        + ChannelHistory
        + UsageStore
        + ClaimStore
        + GapStore
        + CaseStore,
{
    settings_round_trip(store).await;
    knowledge_documents(store).await;
    knowledge_embeddings(store).await;
    conversation_turns(store).await;
    channel_history(store).await;
    usage_counts_and_stops_at_the_limit(store).await;
    usage_is_atomic_under_concurrency(store).await;
    claims_are_exclusive_until_expiry(store).await;
    completed_claims_are_done_until_kept(store).await;
    claims_are_atomic_under_concurrency(store).await;
    gaps_group_rewordings_and_rank(store).await;
    gaps_expire_unless_asked_again(store).await;
    gaps_with_very_long_keys_are_recorded(store).await;
    gaps_are_atomic_under_concurrency(store).await;
    cases_are_numbered_listed_and_updated(store).await;
    cases_are_numbered_atomically_under_concurrency(store).await;
    strikes_count_within_the_window(store).await;
}

#[cfg(test)]
mod tests {
    use crate::testing::MemoryStore;

    #[tokio::test]
    async fn the_memory_store_conforms() {
        super::run_all(&MemoryStore::default()).await;
    }
}
