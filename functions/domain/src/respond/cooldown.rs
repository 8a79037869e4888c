//! The per-member cooldown between channel answers, and what a held-back member sees: once per
//! window a short reply saying when to ask again, then a ⏳ reaction on further messages; never
//! silence. A reply to one of Steward's messages is a follow-up, with its own short window.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::clock::Timestamp;
use crate::events::ChannelMessage;
use crate::language::Language;
use crate::message::{OutboundMessage, ReplyKind};
use crate::ports::{Claim, ClaimStore, DiscordRest};
use crate::texts;

/// The cooldown of follow-ups (replies to Steward's messages): short, so a conversation flows,
/// while a member still cannot fire replies faster than Steward answers them.
pub const FOLLOW_UP_WINDOW: Duration = Duration::from_secs(2);

/// Whether a member may be answered now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Go ahead; the window starts now.
    Open,
    /// Held back; the member has been told when to ask again.
    Held,
}

/// Starts the member's window, or holds the message back and tells the member.
pub(crate) async fn pass(
    claims: &Arc<dyn ClaimStore>,
    discord: &Arc<dyn DiscordRest>,
    message: &ChannelMessage,
    language: Language,
    seconds: u32,
    now: Timestamp,
) -> Gate {
    if seconds == 0 {
        return Gate::Open;
    }
    let window = Duration::from_secs(u64::from(seconds));
    let (key, window) = if message.replies_to_bot {
        (format!("cooldown-followup:{}:{}", message.guild_id, message.author_id), window.min(FOLLOW_UP_WINDOW))
    } else {
        (format!("cooldown:{}:{}", message.guild_id, message.author_id), window)
    };
    let until = match claims.claim(&key, now, now.plus(window)).await {
        Ok(Claim::Held { until }) => until,
        Ok(Claim::Acquired | Claim::Done) => return Gate::Open,
        Err(error) => {
            // The cooldown protects the quota; a store hiccup should not cost the member an answer.
            warn!(error = &error as &dyn std::error::Error, "could not check the cooldown");
            return Gate::Open;
        }
    };
    info!(%until, "member in cooldown");
    let notice = format!("cooldown-notice:{}:{}", message.guild_id, message.author_id);
    let first = matches!(claims.claim(&notice, now, until).await, Ok(Claim::Acquired));
    let told = if first {
        let reply = OutboundMessage::reply(
            message.message_id,
            ReplyKind::Cooldown,
            0,
            texts::cooldown(language, until.distance(now)),
        );
        discord.create_message(message.channel_id, &reply).await.map(drop)
    } else {
        discord.react(message.channel_id, message.message_id, texts::COOLDOWN_REACTION).await
    };
    if let Err(error) = told {
        warn!(error = &error as &dyn std::error::Error, "could not tell the member about the cooldown");
    }
    Gate::Held
}
