//! The conversations port: each member's turns, for follow-ups.

use async_trait::async_trait;

use super::StoreError;
use crate::clock::Timestamp;
use crate::conversation::{ConversationKey, Turn};

/// Keeps conversation turns for follow-up context; turns expire after a retention period.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Appends a turn that expires at `expires_at`.
    async fn append_turn(&self, key: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError>;
    /// The newest `limit` unexpired turns at `now`, oldest first.
    async fn recent_turns(&self, key: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError>;
}
