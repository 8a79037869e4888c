//! The Discord port: the REST calls Steward makes.

use async_trait::async_trait;

use super::BoxError;
use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionToken, MessageId};
use crate::message::OutboundMessage;

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
    /// Discord's JSON error code (`50013` missing permissions, `10008` unknown message …), if any.
    pub code: Option<u32>,
    /// The underlying error.
    #[source]
    pub source: Option<BoxError>,
}

impl DiscordError {
    /// A failure of `operation`.
    #[must_use]
    pub const fn new(kind: DiscordErrorKind, operation: &'static str) -> Self {
        Self { kind, operation, code: None, source: None }
    }

    /// Attaches Discord's JSON error code.
    #[must_use]
    pub const fn with_code(mut self, code: Option<u32>) -> Self {
        self.code = code;
        self
    }

    /// Attaches the cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

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
    /// Adds a reaction (a Unicode emoji such as `⏳`) to a message, as the bot.
    async fn react(&self, channel: ChannelId, message: MessageId, emoji: &str) -> Result<(), DiscordError>;
    /// Shows "Steward is typing…" in a channel for up to 10 seconds.
    async fn trigger_typing(&self, channel: ChannelId) -> Result<(), DiscordError>;
    /// Registers Steward's slash commands, globally or for one guild.
    async fn register_commands(&self, app: ApplicationId, guild: Option<GuildId>) -> Result<usize, DiscordError>;
}
