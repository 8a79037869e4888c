//! The gateway's relay filter (F5, F6, F14, F28): which channel messages some feature needs.
//!
//! Pure and cheap: the daemon calls it for every MESSAGE_CREATE before paying for anything.

use serde::Serialize;

use crate::ids::{ChannelId, GuildId};
use crate::settings::{GuildSettings, Silence};

/// What the daemon knows about a message before forwarding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming {
    /// The guild, or `None` for a direct message.
    pub guild: Option<GuildId>,
    /// The channel.
    pub channel: ChannelId,
    /// Written by this bot.
    pub from_self: bool,
    /// Written by any bot.
    pub from_bot: bool,
    /// Posted by a webhook.
    pub from_webhook: bool,
    /// A system message (joins, pins, boosts …), not something a member wrote.
    pub system: bool,
    /// Mentions this bot.
    pub mentions_bot: bool,
    /// Replies to one of this bot's messages.
    pub replies_to_bot: bool,
}

/// Why a message was not forwarded; labels the `dropped` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The bot's own message.
    OwnMessage,
    /// Another bot's message.
    Bot,
    /// A webhook's message.
    Webhook,
    /// A system message.
    System,
    /// A direct message (Steward serves communities, not DMs).
    DirectMessage,
    /// Steward is turned off in the guild.
    Disabled,
    /// The channel is not on the allow-list and moderation is off.
    ChannelNotAllowed,
    /// Mention mode, moderation off, and the message does not address the bot.
    NotAddressed,
    /// `/ask`-only mode with moderation off.
    AskOnly,
    /// An edit, and moderation (the only feature that reads edits) is off.
    EditNotModerated,
}

impl DropReason {
    /// Every reason, for exporting metrics with zeroes.
    pub const ALL: [Self; 10] = [
        Self::OwnMessage,
        Self::Bot,
        Self::Webhook,
        Self::System,
        Self::DirectMessage,
        Self::Disabled,
        Self::ChannelNotAllowed,
        Self::NotAddressed,
        Self::AskOnly,
        Self::EditNotModerated,
    ];

    /// The metric label.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::OwnMessage => "own_message",
            Self::Bot => "bot",
            Self::Webhook => "webhook",
            Self::System => "system",
            Self::DirectMessage => "direct_message",
            Self::Disabled => "disabled",
            Self::ChannelNotAllowed => "channel_not_allowed",
            Self::NotAddressed => "not_addressed",
            Self::AskOnly => "ask_only",
            Self::EditNotModerated => "edit_not_moderated",
        }
    }
}

/// Whether a message must be forwarded to the worker, and if not, why.
///
/// # Errors
/// Returns the [`DropReason`] when no feature needs the message.
pub fn relay(settings: &GuildSettings, message: &Incoming) -> Result<(), DropReason> {
    authored_by_a_member(message)?;
    // Moderation reads every message everywhere, whatever the response mode (F14).
    if settings.enabled && settings.moderation.enabled {
        return Ok(());
    }
    let addressed = message.mentions_bot || message.replies_to_bot;
    settings.answers_in(message.channel, addressed).map_err(DropReason::from)
}

/// Whether an edit of a message (MESSAGE_UPDATE with changed content) must be forwarded: only
/// moderation reads edits, so a message cleaned up after it was judged is judged again.
///
/// # Errors
/// Returns the [`DropReason`] when moderation does not need it.
pub fn relay_edit(settings: &GuildSettings, message: &Incoming) -> Result<(), DropReason> {
    authored_by_a_member(message)?;
    if !settings.enabled {
        return Err(DropReason::Disabled);
    }
    if settings.moderation.enabled { Ok(()) } else { Err(DropReason::EditNotModerated) }
}

/// Whether a member wrote it in a guild (not Steward, a bot, a webhook or Discord itself).
fn authored_by_a_member(message: &Incoming) -> Result<(), DropReason> {
    if message.from_self {
        return Err(DropReason::OwnMessage);
    }
    if message.from_webhook {
        return Err(DropReason::Webhook);
    }
    if message.from_bot {
        return Err(DropReason::Bot);
    }
    if message.system {
        return Err(DropReason::System);
    }
    if message.guild.is_none() {
        return Err(DropReason::DirectMessage);
    }
    Ok(())
}

impl From<Silence> for DropReason {
    fn from(silence: Silence) -> Self {
        match silence {
            Silence::Disabled => Self::Disabled,
            Silence::ChannelNotAllowed => Self::ChannelNotAllowed,
            Silence::AskOnly => Self::AskOnly,
            Silence::NotAddressed => Self::NotAddressed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ModerationSettings, ResponseMode};

    fn message() -> Incoming {
        Incoming {
            guild: Some(GuildId::new(1).unwrap()),
            channel: ChannelId::new(2).unwrap(),
            from_self: false,
            from_bot: false,
            from_webhook: false,
            system: false,
            mentions_bot: false,
            replies_to_bot: false,
        }
    }

    fn moderated(mode: ResponseMode) -> GuildSettings {
        GuildSettings {
            response_mode: mode,
            moderation: ModerationSettings { enabled: true, rules: "be kind".into(), ..ModerationSettings::default() },
            ..GuildSettings::default()
        }
    }

    #[test]
    fn authors_that_are_never_forwarded() {
        let settings = moderated(ResponseMode::AllMessages);
        assert_eq!(relay(&settings, &Incoming { from_self: true, ..message() }), Err(DropReason::OwnMessage));
        assert_eq!(relay(&settings, &Incoming { from_bot: true, ..message() }), Err(DropReason::Bot));
        assert_eq!(
            relay(&settings, &Incoming { from_webhook: true, from_bot: true, ..message() }),
            Err(DropReason::Webhook)
        );
        assert_eq!(relay(&settings, &Incoming { system: true, ..message() }), Err(DropReason::System));
        assert_eq!(relay(&settings, &Incoming { guild: None, ..message() }), Err(DropReason::DirectMessage));
    }

    #[test]
    fn mention_mode_forwards_only_what_addresses_the_bot() {
        let settings = GuildSettings::default();
        assert_eq!(relay(&settings, &message()), Err(DropReason::NotAddressed));
        assert_eq!(relay(&settings, &Incoming { mentions_bot: true, ..message() }), Ok(()));
        assert_eq!(relay(&settings, &Incoming { replies_to_bot: true, ..message() }), Ok(()));
    }

    #[test]
    fn all_messages_mode_forwards_everything_in_allowed_channels() {
        let mut settings = GuildSettings { response_mode: ResponseMode::AllMessages, ..GuildSettings::default() };
        assert_eq!(relay(&settings, &message()), Ok(()));
        settings.allowed_channels = vec![ChannelId::new(9).unwrap()];
        assert_eq!(relay(&settings, &message()), Err(DropReason::ChannelNotAllowed));
    }

    #[test]
    fn ask_only_forwards_only_for_moderation_and_moderation_sees_every_channel() {
        let plain = GuildSettings { response_mode: ResponseMode::AskOnly, ..GuildSettings::default() };
        assert_eq!(relay(&plain, &Incoming { mentions_bot: true, ..message() }), Err(DropReason::AskOnly));
        let mut settings = moderated(ResponseMode::AskOnly);
        settings.allowed_channels = vec![ChannelId::new(9).unwrap()];
        assert_eq!(relay(&settings, &message()), Ok(()));
    }

    #[test]
    fn edits_are_forwarded_only_for_moderation() {
        let settings = moderated(ResponseMode::AskOnly);
        assert_eq!(relay_edit(&settings, &message()), Ok(()));
        assert_eq!(relay_edit(&settings, &Incoming { from_bot: true, ..message() }), Err(DropReason::Bot));
        let plain = GuildSettings { response_mode: ResponseMode::AllMessages, ..GuildSettings::default() };
        assert_eq!(
            relay_edit(&plain, &Incoming { mentions_bot: true, ..message() }),
            Err(DropReason::EditNotModerated)
        );
        let off = GuildSettings { enabled: false, ..settings };
        assert_eq!(relay_edit(&off, &message()), Err(DropReason::Disabled));
    }

    #[test]
    fn a_disabled_guild_forwards_nothing() {
        let settings = GuildSettings { enabled: false, ..moderated(ResponseMode::AllMessages) };
        assert_eq!(relay(&settings, &Incoming { mentions_bot: true, ..message() }), Err(DropReason::Disabled));
    }
}
