//! In-memory fakes of every port and the store conformance suite, for tests at every layer.
//!
//! Enabled by the `testing` feature; never linked into a shipped binary.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::clock::{Clock, Timestamp};
use crate::conversation::{ChannelLine, ConversationKey, Turn};
use crate::events::Event;
use crate::ids::{ApplicationId, ChannelId, DocumentId, GuildId, InteractionToken, MessageId};
use crate::knowledge::{Chunk, Document, KbScope};
use crate::message::OutboundMessage;
use crate::model::{AnswerRequest, ChatModel, DecideRequest, ModelError, Passage};
use crate::ports::{
    BusError, ChannelHistory, Claim, ClaimStore, ConversationStore, DiscordError, DiscordRest, EventBus, KnowledgeSearch,
    KnowledgeStore, SearchError, SearchResults, SettingsStore, StoreError, UsageStore,
};
use crate::quota::{Month, Reservation};
use crate::settings::GuildSettings;

pub mod conformance;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A clock that only moves when told.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `at`.
    #[must_use]
    pub fn at(at: Timestamp) -> Self {
        Self(AtomicI64::new(at.as_millis()))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

#[derive(Debug, Default)]
struct Tables {
    settings: HashMap<GuildId, GuildSettings>,
    documents: BTreeMap<(KbScope, DocumentId), (Document, Vec<Chunk>)>,
    versions: HashMap<KbScope, u64>,
    turns: HashMap<ConversationKey, Vec<(Turn, Timestamp)>>,
    lines: HashMap<(GuildId, ChannelId), Vec<(ChannelLine, Timestamp)>>,
    usage: HashMap<(GuildId, Month), u64>,
    claims: HashMap<String, (Timestamp, bool)>,
}

/// Every store port in memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore(Arc<Mutex<Tables>>);

#[async_trait]
impl SettingsStore for MemoryStore {
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError> {
        Ok(lock(&self.0).settings.get(&guild).cloned())
    }

    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError> {
        lock(&self.0).settings.insert(guild, settings.clone());
        Ok(())
    }
}

#[async_trait]
impl KnowledgeStore for MemoryStore {
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError> {
        let mut tables = lock(&self.0);
        tables.documents.insert((scope, document.id.clone()), (document.clone(), chunks.to_vec()));
        *tables.versions.entry(scope).or_default() += 1;
        Ok(())
    }

    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError> {
        let tables = lock(&self.0);
        let mut docs: Vec<Document> =
            tables.documents.iter().filter(|((s, _), _)| *s == scope).map(|(_, (d, _))| d.clone()).collect();
        docs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(docs)
    }

    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError> {
        let mut tables = lock(&self.0);
        let existed = tables.documents.remove(&(scope, id.clone())).is_some();
        if existed {
            *tables.versions.entry(scope).or_default() += 1;
        }
        Ok(existed)
    }

    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError> {
        let tables = lock(&self.0);
        Ok(tables.documents.iter().filter(|((s, _), _)| *s == scope).flat_map(|(_, (_, c))| c.clone()).collect())
    }

    async fn version(&self, scope: KbScope) -> Result<u64, StoreError> {
        Ok(lock(&self.0).versions.get(&scope).copied().unwrap_or(0))
    }
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn append_turn(&self, key: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError> {
        lock(&self.0).turns.entry(key).or_default().push((turn.clone(), expires_at));
        Ok(())
    }

    async fn recent_turns(&self, key: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError> {
        let tables = lock(&self.0);
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

#[async_trait]
impl ChannelHistory for MemoryStore {
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        lock(&self.0).lines.entry((guild, channel)).or_default().push((line.clone(), expires_at));
        Ok(())
    }

    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError> {
        let tables = lock(&self.0);
        let mut lines: Vec<ChannelLine> = tables
            .lines
            .get(&(guild, channel))
            .map(|lines| lines.iter().filter(|(_, exp)| *exp > now).map(|(l, _)| l.clone()).collect())
            .unwrap_or_default();
        lines.sort_by_key(|l| l.at);
        let skip = lines.len().saturating_sub(limit);
        Ok(lines.split_off(skip))
    }
}

#[async_trait]
impl UsageStore for MemoryStore {
    async fn reserve(&self, guild: GuildId, month: Month, limit: u64) -> Result<Reservation, StoreError> {
        let mut tables = lock(&self.0);
        let used = tables.usage.entry((guild, month)).or_default();
        if *used >= limit {
            return Ok(Reservation::Exhausted);
        }
        *used += 1;
        Ok(Reservation::Granted { used: *used })
    }

    async fn release(&self, guild: GuildId, month: Month) -> Result<(), StoreError> {
        let mut tables = lock(&self.0);
        let used = tables.usage.entry((guild, month)).or_default();
        *used = used.saturating_sub(1);
        Ok(())
    }

    async fn used(&self, guild: GuildId, month: Month) -> Result<u64, StoreError> {
        Ok(lock(&self.0).usage.get(&(guild, month)).copied().unwrap_or(0))
    }
}

#[async_trait]
impl ClaimStore for MemoryStore {
    async fn claim(&self, key: &str, now: Timestamp, lease_until: Timestamp) -> Result<Claim, StoreError> {
        let mut tables = lock(&self.0);
        match tables.claims.get(key) {
            Some((until, true)) if *until > now => Ok(Claim::Done),
            Some((until, false)) if *until > now => Ok(Claim::Held { until: *until }),
            _ => {
                tables.claims.insert(key.to_owned(), (lease_until, false));
                Ok(Claim::Acquired)
            }
        }
    }

    async fn complete(&self, key: &str, keep_until: Timestamp) -> Result<(), StoreError> {
        lock(&self.0).claims.insert(key.to_owned(), (keep_until, true));
        Ok(())
    }
}

/// A bus that records what was published.
#[derive(Debug, Default, Clone)]
pub struct RecordingBus(Arc<Mutex<Vec<Event>>>);

impl RecordingBus {
    /// Everything published so far.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        lock(&self.0).clone()
    }
}

#[async_trait]
impl EventBus for RecordingBus {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        lock(&self.0).push(event.clone());
        Ok(())
    }
}

/// A Discord call the fake recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscordCall {
    /// `edit_original`.
    EditOriginal(OutboundMessage),
    /// `create_followup`.
    Followup(OutboundMessage),
    /// `register_commands`.
    Register(Option<GuildId>),
    /// `create_message`.
    Message(ChannelId, OutboundMessage),
    /// `trigger_typing`.
    Typing(ChannelId),
    /// `react`: the message and the emoji.
    React(MessageId, String),
}

/// A Discord that records calls.
#[derive(Debug, Default, Clone)]
pub struct RecordingDiscord(Arc<Mutex<Vec<DiscordCall>>>);

impl RecordingDiscord {
    /// Every call so far.
    #[must_use]
    pub fn calls(&self) -> Vec<DiscordCall> {
        lock(&self.0).clone()
    }
}

#[async_trait]
impl DiscordRest for RecordingDiscord {
    async fn edit_original(
        &self,
        _: ApplicationId,
        _: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError> {
        lock(&self.0).push(DiscordCall::EditOriginal(message.clone()));
        Ok(())
    }

    async fn create_followup(
        &self,
        _: ApplicationId,
        _: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError> {
        lock(&self.0).push(DiscordCall::Followup(message.clone()));
        Ok(())
    }

    async fn create_message(&self, channel: ChannelId, message: &OutboundMessage) -> Result<MessageId, DiscordError> {
        let mut calls = lock(&self.0);
        calls.push(DiscordCall::Message(channel, message.clone()));
        Ok(MessageId::new(1_000 + calls.len() as u64).unwrap_or_else(|_| unreachable!("non-zero")))
    }

    async fn react(&self, _: ChannelId, message: MessageId, emoji: &str) -> Result<(), DiscordError> {
        lock(&self.0).push(DiscordCall::React(message, emoji.to_owned()));
        Ok(())
    }

    async fn trigger_typing(&self, channel: ChannelId) -> Result<(), DiscordError> {
        lock(&self.0).push(DiscordCall::Typing(channel));
        Ok(())
    }

    async fn register_commands(&self, _: ApplicationId, guild: Option<GuildId>) -> Result<usize, DiscordError> {
        lock(&self.0).push(DiscordCall::Register(guild));
        Ok(1)
    }
}

/// A model that answers from a script and records every request.
#[derive(Debug, Default, Clone)]
pub struct ScriptedModel {
    replies: Arc<Mutex<Vec<Result<String, crate::model::ModelErrorKind>>>>,
    requests: Arc<Mutex<Vec<AnswerRequest>>>,
}

impl ScriptedModel {
    /// Queues a reply (text, or a failure of that kind). With none queued it echoes the first passage.
    pub fn push(&self, reply: Result<&str, crate::model::ModelErrorKind>) {
        lock(&self.replies).push(reply.map(str::to_owned));
    }

    /// Every request received.
    #[must_use]
    pub fn requests(&self) -> Vec<AnswerRequest> {
        lock(&self.requests).clone()
    }
}

#[async_trait]
impl ChatModel for ScriptedModel {
    async fn answer(&self, request: &AnswerRequest) -> Result<String, ModelError> {
        lock(&self.requests).push(request.clone());
        let next = {
            let mut replies = lock(&self.replies);
            (!replies.is_empty()).then(|| replies.remove(0))
        };
        match next {
            Some(Ok(text)) => Ok(text),
            Some(Err(kind)) => Err(ModelError::new(kind, "scripted failure")),
            None => {
                Ok(request.passages.first().map_or_else(|| "I don't know.".to_owned(), |p| format!("{} [1]", p.text)))
            }
        }
    }

    async fn should_answer(&self, request: &DecideRequest) -> Result<bool, ModelError> {
        Ok(crate::smart::looks_answerable(&request.message, &request.passages))
    }

    fn name(&self) -> String {
        "scripted".into()
    }
}

/// A word-overlap search over a [`KnowledgeStore`]; enough to test services without an index.
#[derive(Clone)]
pub struct NaiveSearch(pub Arc<dyn KnowledgeStore>);

#[async_trait]
impl KnowledgeSearch for NaiveSearch {
    async fn search(&self, guild: GuildId, query: &str, limit: usize) -> Result<SearchResults, SearchError> {
        let words: Vec<String> =
            query.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).map(str::to_lowercase).collect();
        let mut scored = Vec::new();
        let mut corpus = 0;
        for scope in KbScope::for_guild(guild) {
            for chunk in self.0.chunks(scope).await? {
                corpus += 1;
                let text = chunk.text.to_lowercase();
                let score = words.iter().filter(|w| text.contains(w.as_str())).count();
                if score > 0 {
                    #[allow(clippy::cast_precision_loss)]
                    let score = score as f32;
                    scored.push(Passage {
                        title: chunk.title,
                        heading: chunk.heading,
                        source: None,
                        text: chunk.text,
                        score,
                    });
                }
            }
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        scored.truncate(limit);
        Ok(SearchResults { passages: scored, corpus_chunks: corpus })
    }
}
