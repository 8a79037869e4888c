//! What the gateway learns about each guild (GUILD_CREATE and the role, channel and thread
//! events that follow): channel names and thread parents for the forwarded messages, and the
//! owner and roles moderation's hierarchy checks read, so they need no REST call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use steward_domain::clock::Timestamp;
use steward_domain::ids::{ChannelId, GuildId, MessageId, RoleId, UserId};
use steward_domain::message::OutboundMessage;
use steward_domain::moderation::hierarchy::{GuildRoles, Permissions, Role};
use steward_domain::ports::{DiscordError, ModerationRest};
use twilight_gateway::Event as GatewayEvent;
use twilight_model::channel::Channel;
use twilight_model::gateway::payload::incoming::GuildCreate;

/// A channel or thread: its name and, for a thread, its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// The name members see.
    pub name: Option<String>,
    /// A thread's parent channel.
    pub parent: Option<ChannelId>,
}

#[derive(Debug, Default)]
struct Known {
    channels: HashMap<ChannelId, ChannelInfo>,
    roles: HashMap<GuildId, GuildRoles>,
}

/// The guilds the gateway has seen, shared by every shard (and, standalone, the worker).
#[derive(Debug, Default, Clone)]
pub struct Directory(Arc<Mutex<Known>>);

fn id<T>(raw: u64, make: impl Fn(u64) -> Result<T, steward_domain::ids::ParseIdError>) -> Option<T> {
    make(raw).ok()
}

fn role(role: &twilight_model::guild::Role) -> Option<Role> {
    Some(Role {
        id: id(role.id.get(), RoleId::new)?,
        position: role.position,
        permissions: Permissions(role.permissions.bits()),
    })
}

impl Directory {
    fn known(&self) -> MutexGuard<'_, Known> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A channel's name and parent, if the gateway has seen it.
    #[must_use]
    pub fn channel(&self, channel: ChannelId) -> Option<ChannelInfo> {
        self.known().channels.get(&channel).cloned()
    }

    /// A guild's owner and roles, if the gateway has seen it.
    #[must_use]
    pub fn roles(&self, guild: GuildId) -> Option<GuildRoles> {
        self.known().roles.get(&guild).cloned()
    }

    fn put_channel(known: &mut Known, channel: &Channel) {
        if let Some(channel_id) = id(channel.id.get(), ChannelId::new) {
            let parent = channel.parent_id.and_then(|p| id(p.get(), ChannelId::new));
            known.channels.insert(channel_id, ChannelInfo { name: channel.name.clone(), parent });
        }
    }

    fn put_role(known: &mut Known, guild: u64, changed: &twilight_model::guild::Role) {
        if let (Some(guild_id), Some(new)) = (id(guild, GuildId::new), role(changed))
            && let Some(guild) = known.roles.get_mut(&guild_id)
        {
            guild.roles.retain(|r| r.id != new.id);
            guild.roles.push(new);
        }
    }

    /// Learns from a gateway event; every other event is ignored.
    pub fn observe(&self, event: &GatewayEvent) {
        let mut known = self.known();
        match event {
            GatewayEvent::GuildCreate(create) => {
                let GuildCreate::Available(guild) = &**create else { return };
                for channel in guild.channels.iter().chain(&guild.threads) {
                    Self::put_channel(&mut known, channel);
                }
                if let (Some(guild_id), Some(owner)) =
                    (id(guild.id.get(), GuildId::new), id(guild.owner_id.get(), UserId::new))
                {
                    let roles = guild.roles.iter().filter_map(role).collect();
                    known.roles.insert(guild_id, GuildRoles { guild: guild_id, owner, roles });
                }
            }
            GatewayEvent::GuildUpdate(update) => {
                if let (Some(guild_id), Some(owner)) =
                    (id(update.id.get(), GuildId::new), id(update.owner_id.get(), UserId::new))
                {
                    let roles = update.roles.iter().filter_map(role).collect();
                    known.roles.insert(guild_id, GuildRoles { guild: guild_id, owner, roles });
                }
            }
            GatewayEvent::RoleCreate(change) => Self::put_role(&mut known, change.guild_id.get(), &change.role),
            GatewayEvent::RoleUpdate(change) => Self::put_role(&mut known, change.guild_id.get(), &change.role),
            GatewayEvent::RoleDelete(delete) => {
                if let (Some(guild_id), Some(role_id)) =
                    (id(delete.guild_id.get(), GuildId::new), id(delete.role_id.get(), RoleId::new))
                    && let Some(guild) = known.roles.get_mut(&guild_id)
                {
                    guild.roles.retain(|r| r.id != role_id);
                }
            }
            GatewayEvent::ChannelCreate(channel) => Self::put_channel(&mut known, channel),
            GatewayEvent::ChannelUpdate(channel) => Self::put_channel(&mut known, channel),
            GatewayEvent::ThreadCreate(thread) => Self::put_channel(&mut known, thread),
            GatewayEvent::ThreadUpdate(thread) => Self::put_channel(&mut known, thread),
            GatewayEvent::ChannelDelete(channel) => {
                if let Some(channel_id) = id(channel.id.get(), ChannelId::new) {
                    known.channels.remove(&channel_id);
                }
            }
            GatewayEvent::ThreadDelete(thread) => {
                if let Some(channel_id) = id(thread.id.get(), ChannelId::new) {
                    known.channels.remove(&channel_id);
                }
            }
            GatewayEvent::GuildDelete(gone) => {
                if let Some(guild_id) = id(gone.id.get(), GuildId::new) {
                    known.roles.remove(&guild_id);
                }
            }
            _ => {}
        }
    }
}

/// Moderation's Discord calls, with the guild's roles served from what the gateway saw
/// (REST only for a guild it has not seen yet).
pub struct CachedRoles<R> {
    inner: Arc<R>,
    directory: Directory,
}

impl<R> CachedRoles<R> {
    /// `inner`'s calls, roles from `directory` first.
    pub const fn new(inner: Arc<R>, directory: Directory) -> Self {
        Self { inner, directory }
    }
}

#[async_trait]
impl<R: ModerationRest> ModerationRest for CachedRoles<R> {
    async fn delete_message(&self, channel: ChannelId, message: MessageId, reason: &str) -> Result<(), DiscordError> {
        self.inner.delete_message(channel, message, reason).await
    }

    async fn send_dm(&self, user: UserId, message: &OutboundMessage) -> Result<(), DiscordError> {
        self.inner.send_dm(user, message).await
    }

    async fn timeout_member(
        &self,
        guild: GuildId,
        user: UserId,
        until: Option<Timestamp>,
        reason: &str,
    ) -> Result<(), DiscordError> {
        self.inner.timeout_member(guild, user, until, reason).await
    }

    async fn kick_member(&self, guild: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError> {
        self.inner.kick_member(guild, user, reason).await
    }

    async fn ban_member(&self, guild: GuildId, user: UserId, seconds: u32, reason: &str) -> Result<(), DiscordError> {
        self.inner.ban_member(guild, user, seconds, reason).await
    }

    async fn unban_member(&self, guild: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError> {
        self.inner.unban_member(guild, user, reason).await
    }

    async fn guild_roles(&self, guild: GuildId) -> Result<GuildRoles, DiscordError> {
        match self.directory.roles(guild) {
            Some(roles) => Ok(roles),
            None => self.inner.guild_roles(guild).await,
        }
    }

    async fn member_roles(&self, guild: GuildId, user: UserId) -> Result<Vec<RoleId>, DiscordError> {
        self.inner.member_roles(guild, user).await
    }

    async fn invite_guild(&self, code: &str) -> Result<Option<GuildId>, DiscordError> {
        self.inner.invite_guild(code).await
    }
}
