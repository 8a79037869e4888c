//! The OAuth2 "Add to Discord" link (F1), with the permissions Steward's features need.

use steward_domain::ids::ApplicationId;

/// View Channel.
pub const VIEW_CHANNEL: u64 = 1 << 10;
/// Send Messages.
pub const SEND_MESSAGES: u64 = 1 << 11;
/// Send Messages in Threads.
pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
/// Read Message History (replies and channel context).
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
/// Add Reactions (the ⏳ on a message held back by the cooldown).
pub const ADD_REACTIONS: u64 = 1 << 6;
/// Manage Messages (moderation: delete).
pub const MANAGE_MESSAGES: u64 = 1 << 13;
/// Kick Members (moderation).
pub const KICK_MEMBERS: u64 = 1 << 1;
/// Ban Members (moderation).
pub const BAN_MEMBERS: u64 = 1 << 2;
/// Moderate Members (timeouts).
pub const MODERATE_MEMBERS: u64 = 1 << 40;

/// Every permission Steward can use with all features on.
pub const ALL_FEATURES: u64 = VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | MANAGE_MESSAGES
    | KICK_MEMBERS
    | BAN_MEMBERS
    | MODERATE_MEMBERS;

/// Only what answering needs (no moderation).
pub const ANSWER_ONLY: u64 =
    VIEW_CHANNEL | SEND_MESSAGES | SEND_MESSAGES_IN_THREADS | READ_MESSAGE_HISTORY | ADD_REACTIONS;

/// The invite link for `app` with `permissions`.
#[must_use]
pub fn invite_url(app: ApplicationId, permissions: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={app}&scope=bot+applications.commands&permissions={permissions}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invite_has_both_scopes_and_the_feature_permissions() {
        let url = invite_url(ApplicationId::new(123).unwrap(), ALL_FEATURES);
        assert!(url.starts_with("https://discord.com/oauth2/authorize?client_id=123&scope=bot+applications.commands"));
        let permissions: u64 = url.rsplit('=').next().unwrap().parse().unwrap();
        for bit in [VIEW_CHANNEL, SEND_MESSAGES, READ_MESSAGE_HISTORY, ADD_REACTIONS, MANAGE_MESSAGES, KICK_MEMBERS] {
            assert_ne!(permissions & bit, 0);
        }
        assert_eq!(permissions & (1 << 3), 0, "never Administrator");
        assert_ne!(permissions & BAN_MEMBERS, 0);
        assert_ne!(ANSWER_ONLY & ADD_REACTIONS, 0, "the cooldown's reaction needs it");
        assert_eq!(ANSWER_ONLY & (KICK_MEMBERS | BAN_MEMBERS | MANAGE_MESSAGES), 0);
    }
}
