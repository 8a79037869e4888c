//! Discord's MESSAGE_CREATE (twilight's model) to the domain: the relay filter's view and the
//! forwarded event.

use steward_domain::clock::Timestamp;
use steward_domain::events::ChannelMessage;
use steward_domain::ids::{ApplicationId, ChannelId, GuildId, MessageId, RoleId, UserId};
use steward_domain::relay::Incoming;
use twilight_model::channel::Message;
use twilight_model::channel::message::MessageType;

/// What the relay filter needs to know (`None` only for ids Discord never sends: zero).
#[must_use]
pub fn incoming(message: &Message, bot: UserId) -> Option<Incoming> {
    Some(Incoming {
        guild: message.guild_id.and_then(|id| GuildId::new(id.get()).ok()),
        channel: ChannelId::new(message.channel_id.get()).ok()?,
        from_self: message.author.id.get() == bot.get(),
        from_bot: message.author.bot,
        from_webhook: message.webhook_id.is_some(),
        system: !matches!(message.kind, MessageType::Regular | MessageType::Reply),
        mentions_bot: message.mentions.iter().any(|m| m.id.get() == bot.get()),
        replies_to_bot: message.referenced_message.as_ref().is_some_and(|m| m.author.id.get() == bot.get()),
    })
}

/// The event forwarded to the worker, or `None` for a message outside a guild.
#[must_use]
pub fn channel_message(
    message: &Message,
    relay: &Incoming,
    bot: UserId,
    application: ApplicationId,
) -> Option<ChannelMessage> {
    let guild_id = relay.guild?;
    let author_name = message
        .member
        .as_ref()
        .and_then(|m| m.nick.clone())
        .or_else(|| message.author.global_name.clone())
        .unwrap_or_else(|| message.author.name.clone());
    Some(ChannelMessage {
        message_id: MessageId::new(message.id.get()).ok()?,
        application_id: application,
        bot_user_id: bot,
        guild_id,
        channel_id: relay.channel,
        author_id: UserId::new(message.author.id.get()).ok()?,
        author_name,
        content: message.content.clone(),
        mentions_bot: relay.mentions_bot,
        replies_to_bot: relay.replies_to_bot,
        sent_at: Timestamp::from_millis(message.timestamp.as_micros() / 1_000),
        author_roles: message
            .member
            .as_ref()
            .map(|m| m.roles.iter().filter_map(|r| RoleId::new(r.get()).ok()).collect())
            .unwrap_or_default(),
        channel_name: None,
        parent_channel_id: None,
        attachments: u32::try_from(message.attachments.len()).unwrap_or(u32::MAX),
        edited: false,
    })
}
