//! The conversations port in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::conversation::{ConversationKey, Turn};
use crate::ports::{ConversationStore, StoreError};

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn append_turn(&self, key: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError> {
        self.tables().turns.entry(key).or_default().push((turn.clone(), expires_at));
        Ok(())
    }

    async fn recent_turns(&self, key: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError> {
        let tables = self.tables();
        let mut turns: Vec<Turn> = tables
            .turns
            .get(&key)
            .map(|turns| turns.iter().filter(|(_, exp)| *exp > now).map(|(t, _)| t.clone()).collect())
            .unwrap_or_default();
        turns.sort_by_key(|t| t.at);
        let skip = turns.len().saturating_sub(limit);
        Ok(turns.split_off(skip))
    }
}
