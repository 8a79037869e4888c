//! Whether the knowledge base covers a question, judged from the search results alone, so a
//! question it does not cover gets "I don't know" instead of confident quotes of unrelated text.

use crate::language::Language;
use crate::ports::SearchResults;

/// The relevance below which Steward says "I don't know". Chosen on the team's evaluation set
/// (`tests/eval`, `cargo run --release -p steward-tests --bin eval`): the most correct
/// abstentions on the English dev half with at most 5 % false ones; see the README for figures.
pub const MIN_RELEVANCE: f32 = 0.20;

/// The cosine similarity at or above which a passage found by meaning covers a question its
/// words do not (hybrid search only). Embedding models differ in scale: calibrate it for yours
/// with the evaluation runner (`EMBEDDINGS_MODEL=… cargo run --release -p steward-tests --bin
/// eval`) and set `EMBEDDINGS_MIN_SIMILARITY`.
pub const DEFAULT_MIN_SIMILARITY: f32 = 0.5;

/// The thresholds below which Steward says "I don't know".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// The least word relevance ([`MIN_RELEVANCE`]).
    pub relevance: f32,
    /// The least similarity of meaning ([`DEFAULT_MIN_SIMILARITY`]).
    pub similarity: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { relevance: MIN_RELEVANCE, similarity: DEFAULT_MIN_SIMILARITY }
    }
}

/// What the search results say about a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The passages cover it: answer.
    Covered,
    /// Nothing relevant was found: say "I don't know".
    Uncovered,
    /// The question is in another language than the knowledge base, where word overlap says
    /// little: answer from the best passages anyway (the threshold was chosen on questions in
    /// the knowledge base's language).
    OtherLanguage,
}

/// Judges `results` for `question`: covered when its words are ([`Thresholds::relevance`]) or,
/// with hybrid search, its meaning is ([`Thresholds::similarity`]).
#[must_use]
pub fn coverage(question: &str, results: &SearchResults, thresholds: Thresholds) -> Coverage {
    let Some(best) = results.passages.first() else { return Coverage::Uncovered };
    if results.relevance >= thresholds.relevance || results.similarity.is_some_and(|s| s >= thresholds.similarity) {
        return Coverage::Covered;
    }
    match (Language::detect(question), Language::detect(&best.text)) {
        (Some(asked), Some(written)) if asked != written => Coverage::OtherLanguage,
        // A short passage may not tell its language; a question not in English gets the doubt.
        (Some(asked), None) if asked != Language::En => Coverage::OtherLanguage,
        _ => Coverage::Uncovered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Passage;

    fn results(relevance: f32, text: &str) -> SearchResults {
        let passage =
            Passage { title: "T".into(), heading: String::new(), source: None, text: text.into(), score: 1.0 };
        SearchResults {
            passages: vec![passage],
            corpus_chunks: 10,
            relevance,
            language: None,
            semantic: false,
            similarity: None,
        }
    }

    #[test]
    fn relevance_decides_within_one_language() {
        let kb = "Refunds are issued within 14 days of the purchase, to the card you paid with.";
        assert_eq!(coverage("how long do refunds take?", &results(0.9, kb), Thresholds::default()), Coverage::Covered);
        assert_eq!(
            coverage("what is the weather on mars?", &results(0.1, kb), Thresholds::default()),
            Coverage::Uncovered
        );
        let empty = SearchResults {
            passages: vec![],
            corpus_chunks: 10,
            relevance: 0.0,
            language: None,
            semantic: false,
            similarity: None,
        };
        assert_eq!(coverage("anything", &empty, Thresholds::default()), Coverage::Uncovered);
    }

    #[test]
    fn a_passage_close_in_meaning_covers_a_question_in_other_words() {
        let kb = "Refunds are issued within 14 days of the purchase, to the card you paid with.";
        let mut found = results(0.05, kb);
        found.semantic = true;
        found.similarity = Some(0.62);
        assert_eq!(coverage("how do I get my money back?", &found, Thresholds::default()), Coverage::Covered);
        found.similarity = Some(0.31);
        assert_eq!(coverage("how do I get my money back?", &found, Thresholds::default()), Coverage::Uncovered);
    }

    #[test]
    fn another_language_than_the_knowledge_base_is_not_judged_by_word_overlap() {
        let kb = "Refunds are issued within 14 days of the purchase, to the card you paid with.";
        let asked = "¿Cuánto tardan los reembolsos?";
        assert_eq!(coverage(asked, &results(0.1, kb), Thresholds::default()), Coverage::OtherLanguage);
    }
}
