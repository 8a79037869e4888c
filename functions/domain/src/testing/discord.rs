//! A Discord that records calls and fails on request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::clock::Timestamp;
use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionToken, MessageId, RoleId, UserId};
use crate::message::OutboundMessage;
use crate::moderation::hierarchy::{GuildRoles, Permissions, Role};
use crate::ports::{DiscordError, DiscordErrorKind, DiscordRest, ModerationRest};

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
    /// `delete_message`: the channel, the message and the audit-log reason.
    Delete(ChannelId, MessageId, String),
    /// `send_dm`: the member and the message.
    Dm(UserId, OutboundMessage),
    /// `timeout_member`: the member, until when (`None` lifts it) and the reason.
    Timeout(UserId, Option<Timestamp>, String),
    /// `kick_member`: the member and the reason.
    Kick(UserId, String),
    /// `ban_member`: the member, the seconds of messages deleted and the reason.
    Ban(UserId, u32, String),
    /// `unban_member`: the member and the reason.
    Unban(UserId, String),
}

impl DiscordCall {
    /// The member a moderation call acts on, if it is one.
    #[must_use]
    pub const fn member_target(&self) -> Option<UserId> {
        match self {
            Self::Dm(user, _)
            | Self::Timeout(user, ..)
            | Self::Kick(user, _)
            | Self::Ban(user, ..)
            | Self::Unban(user, _) => Some(*user),
            _ => None,
        }
    }

    /// Whether the call changes something on Discord (shadow mode makes none of these).
    #[must_use]
    pub const fn is_moderation(&self) -> bool {
        matches!(
            self,
            Self::Delete(..) | Self::Dm(..) | Self::Timeout(..) | Self::Kick(..) | Self::Ban(..) | Self::Unban(..)
        )
    }
}

/// The failures told, by method: the error kind and Discord's JSON error code, if any.
type Failures = HashMap<&'static str, (DiscordErrorKind, Option<u32>)>;

/// A Discord that records successful calls; [`RecordingDiscord::fail`] makes one method fail.
/// Messages with a nonce already posted are not posted again, as Discord does with `enforce_nonce`.
#[derive(Debug, Default, Clone)]
pub struct RecordingDiscord {
    calls: Arc<Mutex<Vec<DiscordCall>>>,
    failing: Arc<Mutex<Failures>>,
    guild: Arc<Mutex<Option<GuildRoles>>>,
    members: Arc<Mutex<HashMap<UserId, Vec<RoleId>>>>,
}

/// The bot's user id in [`RecordingDiscord::standard_guild`].
pub const FAKE_BOT: u64 = 900;
/// The owner's user id in [`RecordingDiscord::standard_guild`].
pub const FAKE_OWNER: u64 = 901;
/// The moderator role (below the bot) in [`RecordingDiscord::standard_guild`].
pub const MODERATOR_ROLE: u64 = 50;
/// A role above the bot's in [`RecordingDiscord::standard_guild`].
pub const SENIOR_ROLE: u64 = 70;
/// The administrator role in [`RecordingDiscord::standard_guild`].
pub const ADMIN_ROLE: u64 = 80;

impl RecordingDiscord {
    /// Every successful call so far.
    #[must_use]
    pub fn calls(&self) -> Vec<DiscordCall> {
        lock(&self.calls).clone()
    }

    /// Makes every later call of `method` (the port's method name, e.g. `create_message`) fail.
    pub fn fail(&self, method: &'static str, kind: DiscordErrorKind) {
        lock(&self.failing).insert(method, (kind, None));
    }

    /// Makes every later call of `method` fail with Discord's JSON error `code` (50013 …).
    pub fn fail_with_code(&self, method: &'static str, kind: DiscordErrorKind, code: u32) {
        lock(&self.failing).insert(method, (kind, Some(code)));
    }

    /// Serves this guild's roles and owner.
    pub fn set_guild(&self, guild: GuildRoles) {
        *lock(&self.guild) = Some(guild);
    }

    /// Gives `user` these roles.
    pub fn set_member_roles(&self, user: UserId, roles: &[RoleId]) {
        lock(&self.members).insert(user, roles.to_vec());
    }

    /// A guild where the bot ([`FAKE_BOT`], role 60 with every moderation permission) sits above
    /// the moderators ([`MODERATOR_ROLE`], 50) and below a senior role ([`SENIOR_ROLE`], 70) and
    /// the administrators ([`ADMIN_ROLE`], 80); [`FAKE_OWNER`] owns it.
    pub fn standard_guild(&self, guild: GuildId) {
        let id = |n: u64| RoleId::new(n).unwrap_or_else(|_| unreachable!("non-zero"));
        let bot_permissions = Permissions::SEND_MESSAGES.0
            | Permissions::MANAGE_MESSAGES.0
            | Permissions::MODERATE_MEMBERS.0
            | Permissions::KICK_MEMBERS.0
            | Permissions::BAN_MEMBERS.0;
        self.set_guild(GuildRoles {
            guild,
            owner: UserId::new(FAKE_OWNER).unwrap_or_else(|_| unreachable!("non-zero")),
            roles: vec![
                Role { id: id(guild.get()), position: 0, permissions: Permissions::SEND_MESSAGES },
                Role { id: id(MODERATOR_ROLE), position: 2, permissions: Permissions::MANAGE_MESSAGES },
                Role { id: id(60), position: 3, permissions: Permissions(bot_permissions) },
                Role { id: id(SENIOR_ROLE), position: 4, permissions: Permissions(0) },
                Role { id: id(ADMIN_ROLE), position: 5, permissions: Permissions::ADMINISTRATOR },
            ],
        });
        self.set_member_roles(UserId::new(FAKE_BOT).unwrap_or_else(|_| unreachable!("non-zero")), &[id(60)]);
    }

    /// Only the moderation calls, in order.
    #[must_use]
    pub fn moderation_calls(&self) -> Vec<DiscordCall> {
        self.calls().into_iter().filter(DiscordCall::is_moderation).collect()
    }

    /// Lets every method succeed again.
    pub fn heal(&self) {
        lock(&self.failing).clear();
    }

    fn record(&self, method: &'static str, call: DiscordCall) -> Result<usize, DiscordError> {
        if let Some((kind, code)) = lock(&self.failing).get(method).copied() {
            return Err(DiscordError::new(kind, method).with_code(code));
        }
        let mut calls = lock(&self.calls);
        calls.push(call);
        Ok(calls.len())
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
        self.record("edit_original", DiscordCall::EditOriginal(message.clone())).map(drop)
    }

    async fn create_followup(
        &self,
        _: ApplicationId,
        _: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError> {
        self.record("create_followup", DiscordCall::Followup(message.clone())).map(drop)
    }

    async fn create_message(&self, channel: ChannelId, message: &OutboundMessage) -> Result<MessageId, DiscordError> {
        // Like Discord with `enforce_nonce`: a nonce seen before returns the earlier message.
        let earlier = message.nonce.as_ref().and_then(|nonce| {
            lock(&self.calls)
                .iter()
                .position(|call| matches!(call, DiscordCall::Message(_, m) if m.nonce.as_ref() == Some(nonce)))
        });
        let index = match earlier {
            Some(index) => index + 1,
            None => self.record("create_message", DiscordCall::Message(channel, message.clone()))?,
        };
        Ok(MessageId::new(1_000 + index as u64).unwrap_or_else(|_| unreachable!("non-zero")))
    }

    async fn react(&self, _: ChannelId, message: MessageId, emoji: &str) -> Result<(), DiscordError> {
        self.record("react", DiscordCall::React(message, emoji.to_owned())).map(drop)
    }

    async fn trigger_typing(&self, channel: ChannelId) -> Result<(), DiscordError> {
        self.record("trigger_typing", DiscordCall::Typing(channel)).map(drop)
    }

    async fn register_commands(&self, _: ApplicationId, guild: Option<GuildId>) -> Result<usize, DiscordError> {
        self.record("register_commands", DiscordCall::Register(guild)).map(|_| 1)
    }
}

#[async_trait]
impl ModerationRest for RecordingDiscord {
    async fn delete_message(&self, channel: ChannelId, message: MessageId, reason: &str) -> Result<(), DiscordError> {
        self.record("delete_message", DiscordCall::Delete(channel, message, reason.to_owned())).map(drop)
    }

    async fn send_dm(&self, user: UserId, message: &OutboundMessage) -> Result<(), DiscordError> {
        self.record("send_dm", DiscordCall::Dm(user, message.clone())).map(drop)
    }

    async fn timeout_member(
        &self,
        _: GuildId,
        user: UserId,
        until: Option<Timestamp>,
        reason: &str,
    ) -> Result<(), DiscordError> {
        self.record("timeout_member", DiscordCall::Timeout(user, until, reason.to_owned())).map(drop)
    }

    async fn kick_member(&self, _: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError> {
        self.record("kick_member", DiscordCall::Kick(user, reason.to_owned())).map(drop)
    }

    async fn ban_member(&self, _: GuildId, user: UserId, seconds: u32, reason: &str) -> Result<(), DiscordError> {
        self.record("ban_member", DiscordCall::Ban(user, seconds, reason.to_owned())).map(drop)
    }

    async fn unban_member(&self, _: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError> {
        self.record("unban_member", DiscordCall::Unban(user, reason.to_owned())).map(drop)
    }

    async fn guild_roles(&self, guild: GuildId) -> Result<GuildRoles, DiscordError> {
        if let Some((kind, code)) = lock(&self.failing).get("guild_roles").copied() {
            return Err(DiscordError::new(kind, "guild_roles").with_code(code));
        }
        lock(&self.guild)
            .clone()
            .filter(|g| g.guild == guild)
            .ok_or_else(|| DiscordError::new(DiscordErrorKind::NotFound, "guild_roles"))
    }

    async fn member_roles(&self, _: GuildId, user: UserId) -> Result<Vec<RoleId>, DiscordError> {
        if let Some((kind, code)) = lock(&self.failing).get("member_roles").copied() {
            return Err(DiscordError::new(kind, "member_roles").with_code(code));
        }
        Ok(lock(&self.members).get(&user).cloned().unwrap_or_default())
    }
}
