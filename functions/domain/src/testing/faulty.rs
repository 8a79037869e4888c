//! A store that fails chosen operations on request, for fault tests; otherwise the memory store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{MemoryStore, lock};
use crate::clock::Timestamp;
use crate::conversation::{ChannelLine, ConversationKey, Turn};
use crate::ids::{ChannelId, DocumentId, GuildId, UserId};
use crate::knowledge::{Chunk, Document, KbScope};
use crate::moderation::case::{Case, NewCase};
use crate::ports::{
    CaseStore, ChannelHistory, Claim, ClaimStore, ConversationStore, Gap, GapStore, KnowledgeStore, SettingsStore,
    StoreError, StoreErrorKind, UsageStore,
};
use crate::quota::{Month, Reservation};
use crate::settings::GuildSettings;

/// Every store port over a [`MemoryStore`]; operations named with [`FaultyStore::fail`] (the
/// port's method name, e.g. `recent_turns`) return [`StoreErrorKind::Unavailable`].
#[derive(Debug, Clone)]
pub struct FaultyStore {
    inner: MemoryStore,
    failing: Arc<Mutex<HashSet<&'static str>>>,
}

impl FaultyStore {
    /// Wraps `inner`; nothing fails until told.
    #[must_use]
    pub fn new(inner: MemoryStore) -> Self {
        Self { inner, failing: Arc::default() }
    }

    /// Makes every later call of `method` fail.
    pub fn fail(&self, method: &'static str) {
        lock(&self.failing).insert(method);
    }

    /// Lets every method succeed again.
    pub fn heal(&self) {
        lock(&self.failing).clear();
    }

    fn check(&self, method: &'static str) -> Result<(), StoreError> {
        if lock(&self.failing).contains(method) {
            return Err(StoreError::new(StoreErrorKind::Unavailable, method, "injected fault"));
        }
        Ok(())
    }
}

#[async_trait]
impl SettingsStore for FaultyStore {
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError> {
        self.check("get_settings")?;
        self.inner.get_settings(guild).await
    }

    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError> {
        self.check("put_settings")?;
        self.inner.put_settings(guild, settings).await
    }
}

#[async_trait]
impl KnowledgeStore for FaultyStore {
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError> {
        self.check("put_document")?;
        self.inner.put_document(scope, document, chunks).await
    }

    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError> {
        self.check("list_documents")?;
        self.inner.list_documents(scope).await
    }

    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError> {
        self.check("delete_document")?;
        self.inner.delete_document(scope, id).await
    }

    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError> {
        self.check("chunks")?;
        self.inner.chunks(scope).await
    }

    async fn version(&self, scope: KbScope) -> Result<u64, StoreError> {
        self.check("version")?;
        self.inner.version(scope).await
    }
}

#[async_trait]
impl ConversationStore for FaultyStore {
    async fn append_turn(&self, key: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError> {
        self.check("append_turn")?;
        self.inner.append_turn(key, turn, expires_at).await
    }

    async fn recent_turns(&self, key: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError> {
        self.check("recent_turns")?;
        self.inner.recent_turns(key, limit, now).await
    }
}

#[async_trait]
impl ChannelHistory for FaultyStore {
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.check("append_line")?;
        self.inner.append_line(guild, channel, line, expires_at).await
    }

    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError> {
        self.check("recent_lines")?;
        self.inner.recent_lines(guild, channel, limit, now).await
    }
}

#[async_trait]
impl UsageStore for FaultyStore {
    async fn reserve(&self, guild: GuildId, month: Month, limit: u64) -> Result<Reservation, StoreError> {
        self.check("reserve")?;
        self.inner.reserve(guild, month, limit).await
    }

    async fn release(&self, guild: GuildId, month: Month) -> Result<(), StoreError> {
        self.check("release")?;
        self.inner.release(guild, month).await
    }

    async fn used(&self, guild: GuildId, month: Month) -> Result<u64, StoreError> {
        self.check("used")?;
        self.inner.used(guild, month).await
    }
}

#[async_trait]
impl ClaimStore for FaultyStore {
    async fn claim(&self, key: &str, now: Timestamp, lease_until: Timestamp) -> Result<Claim, StoreError> {
        self.check("claim")?;
        self.inner.claim(key, now, lease_until).await
    }

    async fn complete(&self, key: &str, keep_until: Timestamp) -> Result<(), StoreError> {
        self.check("complete")?;
        self.inner.complete(key, keep_until).await
    }
}

#[async_trait]
impl GapStore for FaultyStore {
    async fn record_gap(
        &self,
        guild: GuildId,
        key: &str,
        question: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.check("record_gap")?;
        self.inner.record_gap(guild, key, question, at, expires_at).await
    }

    async fn top_gaps(&self, guild: GuildId, limit: usize, now: Timestamp) -> Result<Vec<Gap>, StoreError> {
        self.check("top_gaps")?;
        self.inner.top_gaps(guild, limit, now).await
    }
}

#[async_trait]
impl CaseStore for FaultyStore {
    async fn open_case(&self, guild: GuildId, case: NewCase) -> Result<Case, StoreError> {
        self.check("open_case")?;
        self.inner.open_case(guild, case).await
    }

    async fn save_case(&self, guild: GuildId, case: &Case) -> Result<(), StoreError> {
        self.check("save_case")?;
        self.inner.save_case(guild, case).await
    }

    async fn case(&self, guild: GuildId, id: u64, now: Timestamp) -> Result<Option<Case>, StoreError> {
        self.check("case")?;
        self.inner.case(guild, id, now).await
    }

    async fn cases(
        &self,
        guild: GuildId,
        before: Option<u64>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<Case>, StoreError> {
        self.check("cases")?;
        self.inner.cases(guild, before, limit, now).await
    }

    async fn add_strike(
        &self,
        guild: GuildId,
        member: UserId,
        case: u64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.check("add_strike")?;
        self.inner.add_strike(guild, member, case, at, expires).await
    }

    async fn remove_strike(&self, guild: GuildId, member: UserId, case: u64) -> Result<bool, StoreError> {
        self.check("remove_strike")?;
        self.inner.remove_strike(guild, member, case).await
    }

    async fn strikes(&self, guild: GuildId, member: UserId, since: Timestamp) -> Result<u32, StoreError> {
        self.check("strikes")?;
        self.inner.strikes(guild, member, since).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gap_operations_fail_when_told_and_pass_through_otherwise() {
        let store = FaultyStore::new(MemoryStore::default());
        let guild = GuildId::new(1).unwrap();
        let now = Timestamp::from_secs(1_000);
        let keep = Timestamp::from_secs(2_000);
        store.fail("record_gap");
        assert!(store.record_gap(guild, "k", "q?", now, keep).await.is_err());
        assert!(store.top_gaps(guild, 10, now).await.unwrap().is_empty(), "the failed call recorded nothing");
        store.fail("top_gaps");
        assert!(store.top_gaps(guild, 10, now).await.is_err());
        store.heal();
        store.record_gap(guild, "k", "q?", now, keep).await.unwrap();
        assert_eq!(store.top_gaps(guild, 10, now).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn case_operations_fail_when_told_and_pass_through_otherwise() {
        use crate::ids::MessageId;
        use crate::moderation::case::{Outcome, Source};

        let store = FaultyStore::new(MemoryStore::default());
        let guild = GuildId::new(1).unwrap();
        let member = UserId::new(2).unwrap();
        let now = Timestamp::from_secs(1_000);
        let new_case = NewCase {
            message_id: MessageId::new(3).unwrap(),
            channel_id: ChannelId::new(4).unwrap(),
            member_id: member,
            content: "spam".into(),
            rules: vec![1],
            reason: "spam".into(),
            source: Source::Prefilter,
            dry_run: false,
            outcome: Outcome::Pending,
            created_at: now,
            actions: Vec::new(),
            strike: true,
        };
        store.fail("open_case");
        assert!(store.open_case(guild, new_case.clone()).await.is_err());
        store.fail("add_strike");
        assert!(store.add_strike(guild, member, 1, now, Timestamp::from_secs(2_000)).await.is_err());
        store.heal();
        assert_eq!(store.open_case(guild, new_case).await.unwrap().id, 1, "the failed call took no number");
        store.add_strike(guild, member, 1, now, Timestamp::from_secs(2_000)).await.unwrap();
        assert_eq!(store.strikes(guild, member, now).await.unwrap(), 1);
    }
}
