//! Outbound Discord messages: the 2,000-character limit, code-fence-safe splitting and sources.
//!
//! Every message Steward sends is built here, and every adapter that sends one must set
//! `allowed_mentions` to ping no one (see [`OutboundMessage`]).

use serde::{Deserialize, Serialize};

use crate::ids::{MessageId, UserId};

/// Discord's limit on a message's content.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// The most messages one answer may be split into.
pub const MAX_PARTS: usize = 5;

/// A message to post. Adapters always send it with `allowed_mentions: {"parse": []}`, so
/// no content, whatever a model writes, can ping `@everyone`, a role or a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// The text, at most [`MAX_MESSAGE_CHARS`].
    pub content: String,
    /// Post as a reply to this message.
    pub reply_to: Option<MessageId>,
    /// Visible only to the member who invoked the interaction.
    pub ephemeral: bool,
    /// A key Discord deduplicates on for a few minutes (`nonce` with `enforce_nonce`): posting
    /// the same nonce twice returns the first message, so a redelivered event cannot post twice.
    pub nonce: Option<String>,
    /// The one member the message may ping (a moderation warning mentions its author); adapters
    /// then send `allowed_mentions: {"parse": [], "users": [id]}`.
    pub ping: Option<UserId>,
}

impl OutboundMessage {
    /// A plain message; the content is truncated to the limit if needed.
    #[must_use]
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: truncate(&content.into(), MAX_MESSAGE_CHARS),
            reply_to: None,
            ephemeral: false,
            nonce: None,
            ping: None,
        }
    }

    /// A reply to `to` that pings only its author, posted at most once per `(kind, part)`: its
    /// nonce is derived from the message it answers (see [`OutboundMessage::nonce`]).
    #[must_use]
    pub fn reply(to: MessageId, kind: ReplyKind, part: usize, content: impl Into<String>) -> Self {
        // At most 1 + 16 + 20 characters would exceed Discord's 25; parts stay below MAX_PARTS.
        let nonce = format!("{}{:x}.{part}", kind.letter(), to.get());
        Self { reply_to: Some(to), nonce: Some(nonce), ..Self::text(content) }
    }

    /// An ephemeral message, seen only by the member.
    #[must_use]
    pub fn ephemeral(content: impl Into<String>) -> Self {
        Self { ephemeral: true, ..Self::text(content) }
    }
}

/// What a reply to a member's message is, so each kind is posted at most once per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// A part of an answer.
    Answer,
    /// The how-to-ask greeting.
    Greeting,
    /// The quota is used up.
    Quota,
    /// Something failed.
    Failure,
    /// The cooldown notice.
    Cooldown,
    /// "I don't know".
    DontKnow,
}

impl ReplyKind {
    const fn letter(self) -> char {
        match self {
            Self::Answer => 'a',
            Self::Greeting => 'g',
            Self::Quota => 'q',
            Self::Failure => 'f',
            Self::Cooldown => 'c',
            Self::DontKnow => 'd',
        }
    }
}

/// A knowledge-base source cited under an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// The passage number the answer cites it by (`[n]`).
    pub number: usize,
    /// The document title.
    pub title: String,
    /// The heading inside the document, if any.
    pub heading: String,
    /// Where the document came from, if known.
    pub source: Option<String>,
}

/// Discord's length: it counts UTF-16 code units, which is never fewer than `chars()`.
#[must_use]
pub fn discord_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn truncate(text: &str, max: usize) -> String {
    if discord_len(text) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for ch in text.chars() {
        if discord_len(&out) + ch.len_utf16() > max - 1 {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

/// Defuses mass mentions in model output so they do not even look like pings; the real
/// guarantee is `allowed_mentions`, this is belt and braces.
#[must_use]
pub fn defuse_mentions(text: &str) -> String {
    text.replace("@everyone", "@\u{200B}everyone").replace("@here", "@\u{200B}here")
}

/// Renders an answer with its sources as one or more messages of at most [`MAX_MESSAGE_CHARS`].
#[must_use]
pub fn render_answer(answer: &str, sources: &[SourceRef]) -> Vec<String> {
    let mut text = defuse_mentions(answer.trim());
    if !sources.is_empty() {
        let mut seen = Vec::new();
        for source in sources {
            let heading = if source.heading.is_empty() { String::new() } else { format!(" › {}", source.heading) };
            let from = source.source.as_ref().map(|from| format!(" ({from})")).unwrap_or_default();
            let label = format!("[{}] {}{heading}{from}", source.number, source.title);
            if !seen.contains(&label) {
                seen.push(label);
            }
        }
        text.push_str("\n\n-# Sources: ");
        text.push_str(&defuse_mentions(&seen.join(" · ")));
    }
    split_message(&text, MAX_MESSAGE_CHARS)
}

/// Splits text into messages of at most `max` characters, preferring line boundaries, and
/// closing and reopening fenced code blocks that straddle a split so each part renders.
#[must_use]
pub fn split_message(text: &str, max: usize) -> Vec<String> {
    const CLOSE: &str = "\n```";
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut fence: Option<String> = None; // the opening line of the fence we are inside

    let push_line = |line: &str, current: &mut String, fence: &mut Option<String>, parts: &mut Vec<String>| {
        let reserve = if fence.is_some() { discord_len(CLOSE) } else { 0 };
        let sep = usize::from(!current.is_empty());
        if discord_len(current) + sep + discord_len(line) + reserve > max && !current.is_empty() {
            if fence.is_some() {
                current.push_str(CLOSE);
            }
            parts.push(std::mem::take(current));
            if let Some(open) = fence.as_ref() {
                current.push_str(open);
            }
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    };

    for raw_line in text.split('\n') {
        let reserve = discord_len(CLOSE) + fence.as_ref().map_or(0, |f| discord_len(f) + 1);
        let room = max.saturating_sub(reserve).max(1);
        let pieces = if discord_len(raw_line) > room { hard_wrap(raw_line, room) } else { vec![raw_line.to_owned()] };
        for line in pieces {
            push_line(&line, &mut current, &mut fence, &mut parts);
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") {
                fence = if fence.is_some() { None } else { Some(trimmed.to_owned()) };
            }
        }
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

fn hard_wrap(line: &str, room: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in line.split_inclusive(' ') {
        if discord_len(&current) + discord_len(word) > room && !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        if discord_len(word) > room {
            for ch in word.chars() {
                if discord_len(&current) + ch.len_utf16() > room {
                    pieces.push(std::mem::take(&mut current));
                }
                current.push(ch);
            }
        } else {
            current.push_str(word);
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_nonces_fit_discord_and_differ_by_kind_and_part() {
        let to = MessageId::new(u64::MAX).unwrap();
        let a0 = OutboundMessage::reply(to, ReplyKind::Answer, 0, "x").nonce.unwrap();
        let a4 = OutboundMessage::reply(to, ReplyKind::Answer, MAX_PARTS - 1, "x").nonce.unwrap();
        let g0 = OutboundMessage::reply(to, ReplyKind::Greeting, 0, "x").nonce.unwrap();
        assert!(a0.len() <= 25 && a4.len() <= 25, "{a0} {a4}");
        assert_ne!(a0, a4);
        assert_ne!(a0, g0);
        assert_eq!(OutboundMessage::reply(to, ReplyKind::Answer, 0, "y").nonce.unwrap(), a0, "stable");
    }

    fn fences_balanced(part: &str) -> bool {
        part.lines().filter(|l| l.trim_start().starts_with("```")).count() % 2 == 0
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_message("hello", 2000), vec!["hello".to_owned()]);
    }

    #[test]
    fn long_text_splits_under_the_limit_without_losing_words() {
        let text = (0..600).map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ");
        let parts = split_message(&text, 2000);
        assert!(parts.len() >= 3);
        assert!(parts.iter().all(|p| discord_len(p) <= 2000));
        let words: usize = parts.iter().map(|p| p.split_whitespace().count()).sum();
        assert_eq!(words, 600);
    }

    #[test]
    fn code_blocks_are_closed_and_reopened_across_parts() {
        let code: String = (0..300).map(|i| format!("let x{i} = {i};\n")).collect();
        let text = format!("Here is the code:\n```rust\n{code}```\nDone.");
        let parts = split_message(&text, 2000);
        assert!(parts.len() >= 2);
        for part in &parts {
            assert!(discord_len(part) <= 2000, "{} chars", discord_len(part));
            assert!(fences_balanced(part), "unbalanced part: {part}");
        }
        assert!(parts[1].starts_with("```rust"));
        let lines: usize = parts.iter().map(|p| p.lines().filter(|l| l.starts_with("let ")).count()).sum();
        assert_eq!(lines, 300);
    }

    #[test]
    fn sources_are_listed_once_and_mass_mentions_are_defused() {
        let sources = vec![
            SourceRef { number: 1, title: "FAQ".into(), heading: "Billing".into(), source: Some("faq.md".into()) },
            SourceRef { number: 1, title: "FAQ".into(), heading: "Billing".into(), source: Some("faq.md".into()) },
            SourceRef { number: 2, title: "Guide".into(), heading: String::new(), source: None },
        ];
        let parts = render_answer("Hi @everyone, pay monthly [1].", &sources);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].ends_with("-# Sources: [1] FAQ › Billing (faq.md) · [2] Guide"), "{}", parts[0]);
        assert!(!parts[0].contains("@everyone"));
    }

    #[test]
    fn messages_are_truncated_to_the_limit() {
        let msg = OutboundMessage::text("é".repeat(3000));
        assert_eq!(discord_len(&msg.content), 2000);
        assert!(OutboundMessage::ephemeral("x").ephemeral);
    }
}
