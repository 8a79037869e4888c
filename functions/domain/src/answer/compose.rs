//! Turning a question into a retrieval query, a model's text into messages with sources, and
//! an exchange into turns for follow-ups.

use std::time::Duration;

use tracing::warn;

use crate::clock::Timestamp;
use crate::conversation::{ConversationKey, Speaker, Turn};
use crate::message::{SourceRef, render_answer};
use crate::model::{ModelError, ModelErrorKind, Passage};
use crate::ports::ConversationStore;
use crate::prompt::finish_answer;

/// The search query: the question, plus the member's previous question, so a follow-up
/// ("and how much is it?") retrieves what the conversation is about.
pub(crate) fn retrieval_query(question: &str, history: &[Turn]) -> String {
    let mut query = question.to_owned();
    if let Some(previous) = history.iter().rev().find(|t| t.speaker == Speaker::Member) {
        query.push('\n');
        query.push_str(&previous.text);
    }
    query
}

/// An answer ready to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Composed {
    /// Discord-sized messages, sources under the last.
    pub(crate) parts: Vec<String>,
    /// The answer text to log (without sources).
    pub(crate) text: String,
}

/// A model's text made postable: Steward's checks (instruction leaks, citations), the cited
/// sources, split into Discord-sized parts.
///
/// # Errors
/// Returns a [`ModelErrorKind::Malformed`] error for an empty answer.
pub(crate) fn compose(text: &str, passages: &[Passage]) -> Result<Composed, ModelError> {
    let answer = finish_answer(text, passages.len());
    if answer.text.is_empty() {
        return Err(ModelError::new(ModelErrorKind::Malformed, "empty answer"));
    }
    let sources: Vec<SourceRef> = answer
        .cited
        .iter()
        .filter_map(|&number| passages.get(number - 1).map(|p| (number, p)))
        .map(|(number, p)| SourceRef {
            number,
            title: p.title.clone(),
            heading: p.heading.clone(),
            source: p.source.clone(),
        })
        .collect();
    Ok(Composed { parts: render_answer(&answer.text, &sources), text: answer.text })
}

/// Logs the member's question and the answer, kept until `now + retention`. Failures are logged,
/// not returned: the member already has the answer.
pub(crate) async fn log_exchange(
    store: &dyn ConversationStore,
    key: ConversationKey,
    question: &str,
    answer: &str,
    now: Timestamp,
    retention: Duration,
) {
    let expires = now.plus(retention);
    let turns = [
        Turn { speaker: Speaker::Member, text: question.to_owned(), at: now },
        Turn { speaker: Speaker::Bot, text: answer.to_owned(), at: now.plus(Duration::from_millis(1)) },
    ];
    for turn in &turns {
        if let Err(error) = store.append_turn(key, turn, expires).await {
            warn!(error = &error as &dyn std::error::Error, "could not log the conversation turn");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(title: &str) -> Passage {
        Passage { title: title.into(), heading: String::new(), source: None, text: "t".into(), score: 1.0 }
    }

    #[test]
    fn follow_ups_retrieve_with_the_previous_question() {
        let history = vec![
            Turn { speaker: Speaker::Member, text: "tell me about pro".into(), at: Timestamp::from_secs(1) },
            Turn { speaker: Speaker::Bot, text: "Pro is a plan.".into(), at: Timestamp::from_secs(2) },
        ];
        assert_eq!(retrieval_query("how much?", &history), "how much?\ntell me about pro");
        assert_eq!(retrieval_query("how much?", &[]), "how much?");
    }

    #[test]
    fn composed_answers_list_only_cited_sources_and_refuse_empty_text() {
        let composed = compose("See [2].", &[passage("A"), passage("B")]).unwrap();
        assert_eq!(composed.text, "See [2].");
        assert_eq!(composed.parts, ["See [2].\n\n-# Sources: [2] B"]);
        assert_eq!(compose("  ", &[]).unwrap_err().kind, ModelErrorKind::Malformed);
    }
}
