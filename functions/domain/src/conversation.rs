//! Conversation turns (F10, F11): what members said and what the bot answered, per channel and user.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{ChannelId, GuildId, UserId};

/// How long turns are kept for follow-up context unless configured otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// How many earlier turns of the member's conversation the model sees.
pub const CONTEXT_TURNS: usize = 8;

/// Who spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The member.
    Member,
    /// Steward.
    Bot,
}

impl Speaker {
    /// The code stores keep for this speaker: `"member"` or `"bot"` (its serde name too).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Bot => "bot",
        }
    }

    /// The speaker stored as `code`, or `None` for a code [`Speaker::code`] never returns.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "member" => Some(Self::Member),
            "bot" => Some(Self::Bot),
            _ => None,
        }
    }
}

/// One member's conversation in one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConversationKey {
    /// The guild.
    pub guild: GuildId,
    /// The channel.
    pub channel: ChannelId,
    /// The member.
    pub user: UserId,
}

/// One message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// How many recent channel messages the model sees with channel context on (F6b).
pub const CHANNEL_CONTEXT_LINES: usize = 20;
/// The most characters of channel context put in one prompt; the oldest lines go first.
pub const CHANNEL_CONTEXT_CHARS: usize = 4_000;

/// One message of a channel's recent conversation, from any member (F6b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelLine {
    /// Who wrote it.
    pub author_id: UserId,
    /// Their display name.
    pub author: String,
    /// What they wrote.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// Keeps the newest lines whose total length fits `budget` characters, oldest dropped first.
#[must_use]
pub fn bounded_context(mut lines: Vec<ChannelLine>, budget: usize) -> Vec<ChannelLine> {
    let mut used = 0;
    let mut keep = lines.len();
    for line in lines.iter().rev() {
        let cost = line.author.chars().count() + line.text.chars().count() + 2;
        if used + cost > budget {
            break;
        }
        used += cost;
        keep -= 1;
    }
    lines.split_off(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_codes_round_trip_and_match_the_serde_names() {
        for speaker in [Speaker::Member, Speaker::Bot] {
            assert_eq!(Speaker::from_code(speaker.code()), Some(speaker));
            assert_eq!(serde_json::to_value(speaker).unwrap(), speaker.code());
        }
        assert_eq!(Speaker::Member.code(), "member");
        assert_eq!(Speaker::Bot.code(), "bot");
        assert_eq!(Speaker::from_code("Bot"), None, "codes are exact");
        assert_eq!(Speaker::from_code(""), None);
    }

    #[test]
    fn context_keeps_the_newest_lines_within_budget() {
        let line = |i: i64| ChannelLine {
            author_id: UserId::new(1).unwrap(),
            author: "a".into(),
            text: format!("line {i:02}"),
            at: Timestamp::from_secs(i),
        };
        let lines: Vec<_> = (0..10).map(line).collect();
        let kept = bounded_context(lines, 33);
        assert_eq!(kept.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["line 07", "line 08", "line 09"]);
        assert!(bounded_context(vec![line(1)], 3).is_empty());
    }
}
