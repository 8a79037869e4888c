//! Every fixed text Steward posts to members, in one place so each can be reviewed and translated.

use std::time::Duration;

use crate::quota::Month;

/// `/ask` used in a direct message.
pub const ASK_IN_DM: &str = "`/ask` works inside a server, not in direct messages.";
/// `/ask` with nothing after it.
pub const ASK_EMPTY: &str = "Please type a question after `/ask`.";
/// Steward is switched off in the guild.
pub const TURNED_OFF: &str = "Steward is turned off in this server.";
/// `/ask` in a channel outside the allow-list.
pub const CHANNEL_NOT_ALLOWED: &str = "Steward doesn't answer in this channel. Try one of the help channels.";
/// Infrastructure failed before the question could be queued.
pub const NOT_QUEUED: &str = "Steward couldn't take your question just now. Please try again in a moment.";
/// The knowledge base is empty.
pub const EMPTY_KNOWLEDGE_BASE: &str = "I don't have a knowledge base to answer from yet. A server admin can add \
                                        documents (`steward kb import` or the settings API).";
/// Storage or search failed mid-answer.
pub const LOOKUP_FAILED: &str =
    "Sorry, something went wrong while I was looking that up. Please try again in a minute.";
/// The model was slow, down or rate-limited.
pub const MODEL_BUSY: &str = "Sorry, the AI service is busy or unreachable right now. Please try again in a minute.";
/// The model refused the request or answered nonsense: a configuration problem.
pub const MODEL_MISCONFIGURED: &str =
    "Sorry, I couldn't produce an answer. A server admin may need to check Steward's AI settings.";
/// A channel answer failed for a member who addressed the bot.
pub const CHANNEL_ANSWER_FAILED: &str = "Sorry, I couldn't answer that just now. Please try again in a minute.";
/// The emoji put on a message held back by the cooldown after the member was told once.
pub const COOLDOWN_REACTION: &str = "⏳";

/// A question over the length limit.
#[must_use]
pub fn question_too_long(length: usize, max: usize) -> String {
    format!("That question is {length} characters long; please keep it under {max}.")
}

/// The monthly quota is used up.
#[must_use]
pub fn quota_exhausted(limit: u64, month: Month) -> String {
    format!(
        "This server has used all {limit} AI messages of its plan for {month}. The quota resets on the 1st of next \
         month; a server admin can change the plan."
    )
}

/// A bare mention: how to ask.
#[must_use]
pub fn greeting(name: &str) -> String {
    format!(
        "Hi {name}! Ask me anything about this community: mention me with your question, for example \
         \"@Steward how do refunds work?\", or use `/ask`."
    )
}

/// A member held back by the cooldown, told once when they can ask again.
#[must_use]
pub fn cooldown(remaining: Duration) -> String {
    let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let unit = if seconds == 1 { "second" } else { "seconds" };
    format!(
        "One at a time, please: I can answer you again in {seconds} {unit}. (Replies to my answers are follow-ups and \
         skip this wait.)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cooldown_text_rounds_up_and_says_when() {
        assert!(cooldown(Duration::from_millis(6_200)).contains("in 7 seconds"));
        assert!(cooldown(Duration::from_millis(300)).contains("in 1 second."));
        assert!(cooldown(Duration::ZERO).contains("in 1 second."));
    }
}
