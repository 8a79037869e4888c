//! The moderation port: Discord calls that act on a message or a member, and what the hierarchy
//! checks read. Every mutating call carries the audit-log reason.

use async_trait::async_trait;

use super::DiscordError;
use crate::clock::Timestamp;
use crate::ids::{ChannelId, GuildId, MessageId, RoleId, UserId};
use crate::message::OutboundMessage;
use crate::moderation::hierarchy::GuildRoles;

/// Discord's JSON error codes moderation reads (kept in [`DiscordError::code`]).
pub mod codes {
    /// Unknown member: already gone.
    pub const UNKNOWN_MEMBER: u32 = 10_007;
    /// Unknown message: already deleted.
    pub const UNKNOWN_MESSAGE: u32 = 10_008;
    /// Unknown ban: already lifted.
    pub const UNKNOWN_BAN: u32 = 10_026;
    /// Cannot send messages to this user: their DMs are closed.
    pub const CANNOT_DM: u32 = 50_007;
    /// Missing permissions.
    pub const MISSING_PERMISSIONS: u32 = 50_013;
}

/// The calls moderation makes. `reason` is the audit-log reason (plain text; the adapter
/// percent-encodes it into `X-Audit-Log-Reason`).
#[async_trait]
pub trait ModerationRest: Send + Sync {
    /// `DELETE /channels/{channel}/messages/{message}`.
    async fn delete_message(&self, channel: ChannelId, message: MessageId, reason: &str) -> Result<(), DiscordError>;
    /// Opens a DM with `user` (`POST /users/@me/channels`) and posts `message` in it.
    async fn send_dm(&self, user: UserId, message: &OutboundMessage) -> Result<(), DiscordError>;
    /// `PATCH /guilds/{guild}/members/{user}` with `communication_disabled_until` (`None` lifts it).
    async fn timeout_member(
        &self,
        guild: GuildId,
        user: UserId,
        until: Option<Timestamp>,
        reason: &str,
    ) -> Result<(), DiscordError>;
    /// `DELETE /guilds/{guild}/members/{user}`.
    async fn kick_member(&self, guild: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError>;
    /// `PUT /guilds/{guild}/bans/{user}` with `delete_message_seconds`.
    async fn ban_member(
        &self,
        guild: GuildId,
        user: UserId,
        delete_message_seconds: u32,
        reason: &str,
    ) -> Result<(), DiscordError>;
    /// `DELETE /guilds/{guild}/bans/{user}`.
    async fn unban_member(&self, guild: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError>;
    /// The guild's owner and roles (`GET /guilds/{guild}`).
    async fn guild_roles(&self, guild: GuildId) -> Result<GuildRoles, DiscordError>;
    /// A member's roles (`GET /guilds/{guild}/members/{user}`).
    async fn member_roles(&self, guild: GuildId, user: UserId) -> Result<Vec<RoleId>, DiscordError>;
    /// The server an invite leads to (`GET /invites/{code}`); `None` when it does not resolve.
    async fn invite_guild(&self, code: &str) -> Result<Option<GuildId>, DiscordError>;
}
