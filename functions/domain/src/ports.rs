//! Ports: the small traits through which services reach storage, Discord, the bus and search.
//!
//! Each has a technology-named adapter per outside system and a fake in [`crate::testing`].

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::conversation::{ChannelLine, ConversationKey, Turn};
use crate::events::Event;
use crate::ids::{ApplicationId, ChannelId, DocumentId, GuildId, InteractionToken, MessageId};
use crate::knowledge::{Chunk, Document, KbScope};
use crate::message::OutboundMessage;
use crate::model::Passage;
use crate::quota::{Month, Reservation};
use crate::settings::GuildSettings;

/// A boxed error cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What kind of storage failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The store could not be reached or timed out; retry later.
    Unavailable,
    /// The store is throttling us; retry later.
    Throttled,
    /// Stored data could not be decoded.
    Corrupt,
    /// Anything else (bad configuration, permissions).
    Other,
}

/// A storage failure, keeping its cause.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed ({kind:?})")]
pub struct StoreError {
    /// The kind of failure.
    pub kind: StoreErrorKind,
    /// The operation that failed, e.g. `get settings`.
    pub operation: &'static str,
    /// The underlying error.
    #[source]
    pub source: Option<BoxError>,
}

impl StoreError {
    /// A new error of `kind` for `operation`, with its cause.
    pub fn new(kind: StoreErrorKind, operation: &'static str, source: impl Into<BoxError>) -> Self {
        Self { kind, operation, source: Some(source.into()) }
    }

    /// Whether trying again may succeed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self.kind, StoreErrorKind::Unavailable | StoreErrorKind::Throttled)
    }
}

/// Reads and writes per-guild settings.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The stored settings, or `None` for a guild never configured.
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError>;
    /// Replaces the guild's settings.
    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError>;
}

/// Stores knowledge-base documents and their chunks, with a version that changes on every write.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Stores a document and its chunks, replacing none, and bumps the scope's version.
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError>;
    /// Lists a scope's documents, oldest first.
    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError>;
    /// Deletes a document and its chunks; `false` when it did not exist.
    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError>;
    /// Every chunk in a scope.
    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError>;
    /// The scope's version: any write changes it, so caches keyed on it stay correct.
    async fn version(&self, scope: KbScope) -> Result<u64, StoreError>;
}

/// Keeps conversation turns for follow-up context; turns expire after a retention period.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Appends a turn that expires at `expires_at`.
    async fn append_turn(&self, key: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError>;
    /// The newest `limit` unexpired turns at `now`, oldest first.
    async fn recent_turns(&self, key: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError>;
}

/// Keeps each channel's recent conversation from all members, for channel context (F6b).
#[async_trait]
pub trait ChannelHistory: Send + Sync {
    /// Appends a line that expires at `expires_at`.
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The newest `limit` unexpired lines at `now`, oldest first.
    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError>;
}

/// Counts messages against the monthly quota, atomically.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Counts one message unless `used` has reached `limit`; atomic under concurrency.
    async fn reserve(&self, guild: GuildId, month: Month, limit: u64) -> Result<Reservation, StoreError>;
    /// Gives back one reserved message (the work it was for failed).
    async fn release(&self, guild: GuildId, month: Month) -> Result<(), StoreError>;
    /// Messages counted this month.
    async fn used(&self, guild: GuildId, month: Month) -> Result<u64, StoreError>;
}

/// Claims keys once, so a redelivered event is processed once.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Claims `key` until `expires_at`; `false` if someone holds an unexpired claim.
    async fn claim(&self, key: &str, now: Timestamp, expires_at: Timestamp) -> Result<bool, StoreError>;
}

/// A bus failure.
#[derive(Debug, thiserror::Error)]
#[error("publishing {detail_type} failed")]
pub struct BusError {
    /// The event type that could not be published.
    pub detail_type: &'static str,
    /// The cause.
    #[source]
    pub source: BoxError,
}

/// Publishes events for the worker.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes one event.
    async fn publish(&self, event: &Event) -> Result<(), BusError>;
}

/// What kind of Discord failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscordErrorKind {
    /// 429 and retries ran out.
    RateLimited,
    /// 401: the token is invalid; the adapter stops calling.
    Unauthorized,
    /// 403: a missing permission.
    Forbidden,
    /// 404: the message, channel or interaction is gone (tokens expire after 15 minutes).
    NotFound,
    /// 400: Discord refused the payload.
    Rejected,
    /// Network failure or 5xx.
    Unavailable,
}

/// A Discord REST failure, keeping its cause.
#[derive(Debug, thiserror::Error)]
#[error("discord {operation} failed ({kind:?})")]
pub struct DiscordError {
    /// The kind of failure.
    pub kind: DiscordErrorKind,
    /// The operation, e.g. `edit original response`.
    pub operation: &'static str,
    /// The underlying error.
    #[source]
    pub source: Option<BoxError>,
}

impl DiscordError {
    /// Whether trying again later may succeed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self.kind, DiscordErrorKind::RateLimited | DiscordErrorKind::Unavailable)
    }
}

/// Discord's REST API, as far as Steward uses it. Every message is sent pinging no one.
#[async_trait]
pub trait DiscordRest: Send + Sync {
    /// Replaces the deferred "thinking…" response of an interaction.
    async fn edit_original(
        &self,
        app: ApplicationId,
        token: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError>;
    /// Posts a follow-up message to an interaction.
    async fn create_followup(
        &self,
        app: ApplicationId,
        token: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError>;
    /// Posts a message in a channel (as a reply when `reply_to` is set); returns its id.
    async fn create_message(&self, channel: ChannelId, message: &OutboundMessage) -> Result<MessageId, DiscordError>;
    /// Shows "Steward is typing…" in a channel for up to 10 seconds.
    async fn trigger_typing(&self, channel: ChannelId) -> Result<(), DiscordError>;
    /// Registers Steward's slash commands, globally or for one guild.
    async fn register_commands(&self, app: ApplicationId, guild: Option<GuildId>) -> Result<usize, DiscordError>;
}

/// Search results plus how many chunks were searched (zero means an empty knowledge base).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    /// The best passages, best first.
    pub passages: Vec<Passage>,
    /// How many chunks the guild's knowledge base holds.
    pub corpus_chunks: usize,
}

/// A search failure.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Loading the chunks failed.
    #[error("loading the knowledge base failed")]
    Store(#[from] StoreError),
    /// The index failed.
    #[error("the search index failed")]
    Index(#[source] BoxError),
}

/// Finds the passages that best answer a query.
#[async_trait]
pub trait KnowledgeSearch: Send + Sync {
    /// The best `limit` passages for `query` in the guild's knowledge base (global + its own).
    async fn search(&self, guild: GuildId, query: &str, limit: usize) -> Result<SearchResults, SearchError>;
}
