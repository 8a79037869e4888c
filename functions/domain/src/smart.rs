//! Offline smart-mode heuristics (F6a): is this a question, and does the knowledge base cover it?

use crate::language::topic_words;
use crate::model::Passage;

/// Words that open a question, in the languages of the product's seeds (English, Spanish,
/// Polish) and a few neighbours. Lowercase, accents kept.
const INTERROGATIVES: &[&str] = &[
    "how", "what", "why", "when", "where", "who", "which", "can", "could", "does", "do", "is", "are", "should",
    "would", "will", "anyone", "anybody", "cómo", "como", "qué", "que", "por", "cuándo", "cuando", "dónde", "donde",
    "quién", "cuál", "puedo", "hay", "jak", "co", "dlaczego", "kiedy", "gdzie", "kto", "czy", "który", "ile",
    "comment", "pourquoi", "quand", "où", "wie", "was", "warum", "wann", "wo",
];

/// Phrases that ask for help without a question mark.
const HELP: &[&str] = &[
    "help",
    "ayuda",
    "pomoc",
    "problem",
    "error",
    "issue",
    "doesn't work",
    "not working",
    "no funciona",
    "nie działa",
];

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// Whether the message reads as a question or a request for help.
#[must_use]
pub fn is_question(text: &str) -> bool {
    let trimmed = text.trim();
    if trimmed.contains('?') || trimmed.starts_with('¿') {
        return true;
    }
    let lower = trimmed.to_lowercase();
    if HELP.iter().any(|h| lower.contains(h)) {
        return true;
    }
    words(trimmed).next().is_some_and(|first| INTERROGATIVES.contains(&first.as_str()))
}

/// The share of the message's topic words (see [`topic_words`]) found in `passage`.
#[must_use]
pub fn coverage(message: &str, passage: &str) -> f32 {
    let topic = topic_words(message);
    if topic.is_empty() {
        return 0.0;
    }
    let passage = passage.to_lowercase();
    // A prefix match tolerates plurals and simple inflections ("refunds" ~ "refund").
    let hits = topic.iter().filter(|w| {
        let stem: String = w.chars().take(w.chars().count().clamp(3, 5)).collect();
        passage.contains(&stem)
    });
    #[allow(clippy::cast_precision_loss)]
    let share = hits.count() as f32 / topic.len() as f32;
    share
}

/// The offline decision: answer only a question whose topic the best passage covers well.
#[must_use]
pub fn looks_answerable(message: &str, passages: &[Passage]) -> bool {
    is_question(message)
        && passages
            .first()
            .is_some_and(|best| coverage(message, &format!("{} {} {}", best.title, best.heading, best.text)) >= 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(text: &str) -> Passage {
        Passage { title: "FAQ".into(), heading: "Refunds".into(), source: None, text: text.into(), score: 1.0 }
    }

    #[test]
    fn questions_in_several_languages() {
        for q in [
            "How do refunds work",
            "refunds?",
            "¿Cómo pido un reembolso",
            "Jak zwrócić zakup",
            "czy mogę",
            "I need help with billing",
        ] {
            assert!(is_question(q), "{q}");
        }
        for chat in ["lol nice", "good morning everyone", "haha same", "gg"] {
            assert!(!is_question(chat), "{chat}");
        }
    }

    #[test]
    fn casual_chat_and_uncovered_questions_are_skipped() {
        let kb = [passage("Refunds are issued within 14 days of purchase.")];
        assert!(looks_answerable("How long do refunds take?", &kb));
        assert!(!looks_answerable("lol nice", &kb));
        assert!(!looks_answerable("What is the weather on Mars?", &kb));
        assert!(!looks_answerable("How long do refunds take?", &[]));
    }
}
