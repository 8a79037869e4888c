//! Answering in the channel (F5, F6, F6a, F6b, F10, F21): forwarded gateway messages in, replies out.

mod cooldown;
mod responder;

use crate::ids::UserId;
use crate::settings::Silence;

pub use self::cooldown::FOLLOW_UP_WINDOW;
pub use self::responder::MessageResponder;

/// Why a message got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Steward is off in the guild.
    Disabled,
    /// The channel is not on the allow-list.
    ChannelNotAllowed,
    /// Mention mode and the message does not address the bot.
    NotAddressed,
    /// `/ask`-only mode.
    AskOnly,
    /// Smart mode judged it casual chat or not covered by the knowledge base.
    NotAnswerable,
    /// The member asked again within the cooldown; they were told when to ask again (or, if
    /// already told in this window, their message got a ⏳ reaction).
    Cooldown,
    /// The quota is used up and the message did not address the bot, so nothing is said.
    QuotaExhausted,
    /// Something failed on a message that did not address the bot; nothing is said.
    Failed,
}

impl From<Silence> for SkipReason {
    fn from(silence: Silence) -> Self {
        match silence {
            Silence::Disabled => Self::Disabled,
            Silence::ChannelNotAllowed => Self::ChannelNotAllowed,
            Silence::AskOnly => Self::AskOnly,
            Silence::NotAddressed => Self::NotAddressed,
        }
    }
}

/// How one forwarded message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespondOutcome {
    /// Answered in `parts` messages.
    Answered {
        /// How many messages the answer took.
        parts: usize,
    },
    /// A bare mention got the how-to-ask greeting.
    Greeted,
    /// Handled, or being handled, by another delivery.
    Duplicate,
    /// No answer, on purpose.
    Skipped(SkipReason),
    /// The member was told the quota is used up.
    QuotaExhausted,
    /// The knowledge base does not cover the question: the member who asked was told "I don't
    /// know" (nothing charged, no model call) and the question was recorded as a gap.
    NotCovered,
    /// Something failed; the member who addressed the bot was told so.
    Failed {
        /// A short reason for logs.
        reason: String,
    },
}

/// Removes the bot's mentions (`<@id>`, `<@!id>`) and tidies the space they leave.
#[must_use]
pub fn strip_mention(content: &str, bot: UserId) -> String {
    let text = content.replace(&format!("<@{bot}>"), " ").replace(&format!("<@!{bot}>"), " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ").trim_start_matches([',', ':']).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_stripped_in_both_forms() {
        let bot = UserId::new(99).unwrap();
        assert_eq!(strip_mention("<@99> how do refunds work?", bot), "how do refunds work?");
        assert_eq!(strip_mention("hey <@!99>, refunds?", bot), "hey , refunds?");
        assert_eq!(strip_mention("<@99>, refunds?", bot), "refunds?");
        assert_eq!(strip_mention("<@99>", bot), "");
        assert_eq!(strip_mention("<@12> hi", bot), "<@12> hi", "other members' mentions stay");
    }
}
