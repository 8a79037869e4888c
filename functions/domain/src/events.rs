//! Events carried by the bus between the edge (interactions, gateway) and the worker.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionId, InteractionToken, MessageId, RoleId, UserId};

/// A `/ask` the interactions endpoint accepted and deferred; the worker answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskAccepted {
    /// The interaction, also the idempotency key.
    pub interaction_id: InteractionId,
    /// The application it was sent to (shared or custom bot).
    pub application_id: ApplicationId,
    /// The continuation token for editing `@original`.
    pub token: InteractionToken,
    /// Where it was asked.
    pub guild_id: GuildId,
    /// The channel it was asked in.
    pub channel_id: ChannelId,
    /// Who asked.
    pub user_id: UserId,
    /// Their display name.
    pub user_name: String,
    /// The question, already validated.
    pub question: String,
    /// Their Discord locale.
    pub locale: Option<String>,
    /// When the endpoint accepted it.
    pub accepted_at: Timestamp,
}

/// A member's message in a guild channel that some feature needs (forwarded by the gateway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMessage {
    /// The message, also the idempotency key.
    pub message_id: MessageId,
    /// The bot (application) that received it.
    pub application_id: ApplicationId,
    /// The bot's own user id, to strip its mention from the question.
    pub bot_user_id: UserId,
    /// The guild.
    pub guild_id: GuildId,
    /// The channel or thread.
    pub channel_id: ChannelId,
    /// The author.
    pub author_id: UserId,
    /// The author's display name.
    pub author_name: String,
    /// The text as written (mentions in Discord's `<@id>` form).
    pub content: String,
    /// Whether it mentions the bot.
    pub mentions_bot: bool,
    /// Whether it replies to one of the bot's messages.
    pub replies_to_bot: bool,
    /// When Discord says it was sent.
    pub sent_at: Timestamp,
    /// The author's roles (Discord sends them with the message), for moderation's exemptions
    /// and hierarchy checks.
    #[serde(default)]
    pub author_roles: Vec<RoleId>,
    /// The channel's name, when the gateway knows it (the moderation model sees names, not ids).
    #[serde(default)]
    pub channel_name: Option<String>,
    /// A thread's parent channel (a thread inherits its parent's moderation exemption).
    #[serde(default)]
    pub parent_channel_id: Option<ChannelId>,
    /// How many files are attached.
    #[serde(default)]
    pub attachments: u32,
    /// An edit of an earlier message whose text changed (judged again, never answered again).
    #[serde(default)]
    pub edited: bool,
}

/// Every event Steward publishes, tagged by its detail type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "detail")]
pub enum Event {
    /// See [`AskAccepted`].
    #[serde(rename = "ask.accepted")]
    AskAccepted(AskAccepted),
    /// See [`ChannelMessage`].
    #[serde(rename = "discord.message")]
    MessageCreated(ChannelMessage),
}

impl Event {
    /// The event's type name, EventBridge's `detail-type`.
    #[must_use]
    pub const fn detail_type(&self) -> &'static str {
        match self {
            Self::AskAccepted(_) => "ask.accepted",
            Self::MessageCreated(_) => "discord.message",
        }
    }

    /// The event's payload as JSON, EventBridge's `detail`.
    ///
    /// # Errors
    /// Fails only if serialisation fails, which the types rule out in practice.
    pub fn detail_json(&self) -> Result<String, serde_json::Error> {
        match self {
            Self::AskAccepted(detail) => serde_json::to_string(detail),
            Self::MessageCreated(detail) => serde_json::to_string(detail),
        }
    }

    /// Rebuilds an event from its detail type and payload.
    ///
    /// # Errors
    /// Returns an error for an unknown type or a payload that does not match it.
    pub fn from_parts(detail_type: &str, detail: serde_json::Value) -> Result<Self, UnknownEvent> {
        match detail_type {
            "ask.accepted" => serde_json::from_value(detail)
                .map(Self::AskAccepted)
                .map_err(|e| UnknownEvent(format!("bad ask.accepted detail: {e}"))),
            "discord.message" => serde_json::from_value(detail)
                .map(Self::MessageCreated)
                .map_err(|e| UnknownEvent(format!("bad discord.message detail: {e}"))),
            other => Err(UnknownEvent(format!("unknown detail type `{other}`"))),
        }
    }
}

/// An event the worker cannot read; it is logged and dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable event: {0}")]
pub struct UnknownEvent(pub String);
