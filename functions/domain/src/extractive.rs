//! The offline model: answers with the best-matching passages, quoted with their sources, so
//! Steward works with no API key at all.

use async_trait::async_trait;

use crate::model::{AnswerRequest, ChatModel, DecideRequest, ModelError};
use crate::texts;

/// How many passages the extractive answer quotes.
const QUOTED: usize = 2;
/// The longest quote per passage, in characters.
const QUOTE_CHARS: usize = 700;
/// A passage scoring below this fraction of the best one is not quoted.
const RELATIVE_FLOOR: f32 = 0.5;

/// A [`ChatModel`] that quotes the knowledge base instead of generating text.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExtractiveModel;

#[async_trait]
impl ChatModel for ExtractiveModel {
    async fn answer(&self, request: &AnswerRequest) -> Result<String, ModelError> {
        let Some(best) = request.passages.first() else {
            return Ok(texts::not_in_knowledge_base(request.language).into());
        };
        let mut text = format!("{}\n", texts::knowledge_base_says(request.language));
        for (i, passage) in request.passages.iter().enumerate().take(QUOTED) {
            if i > 0 && passage.score < best.score * RELATIVE_FLOOR {
                break;
            }
            let mut quote: String = passage.text.trim().chars().take(QUOTE_CHARS).collect();
            if passage.text.trim().chars().count() > QUOTE_CHARS {
                quote.push('…');
            }
            text.push('\n');
            for line in quote.lines() {
                text.push_str("> ");
                text.push_str(line);
                text.push('\n');
            }
            text.push_str(&format!("[{}]\n", i + 1));
        }
        Ok(text.trim_end().to_owned())
    }

    async fn should_answer(&self, request: &DecideRequest) -> Result<bool, ModelError> {
        Ok(crate::smart::looks_answerable(&request.message, &request.passages))
    }

    fn name(&self) -> String {
        "extractive".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::Language;
    use crate::model::Passage;

    fn passage(text: &str, score: f32) -> Passage {
        Passage { title: "T".into(), heading: String::new(), source: None, text: text.into(), score }
    }

    #[tokio::test]
    async fn quotes_the_best_passages_and_cites_them() {
        let request = AnswerRequest {
            question: "q".into(),
            asker: "a".into(),
            history: vec![],
            passages: vec![passage("Best line.\nSecond line.", 4.0), passage("Also good.", 3.0), passage("Weak.", 1.0)],
            locale: None,
            language: Language::En,
            channel_context: vec![],
        };
        let answer = crate::prompt::finish_answer(&ExtractiveModel.answer(&request).await.unwrap(), 3);
        assert!(answer.text.contains("> Best line.\n> Second line.\n[1]"));
        assert!(answer.text.contains("> Also good."));
        assert!(!answer.text.contains("Weak."));
        assert_eq!(answer.cited, vec![1, 2]);
    }

    #[tokio::test]
    async fn says_plainly_when_nothing_matches() {
        let request = AnswerRequest {
            question: "q".into(),
            asker: "a".into(),
            history: vec![],
            passages: vec![],
            locale: None,
            language: Language::En,
            channel_context: vec![],
        };
        let answer = crate::prompt::finish_answer(&ExtractiveModel.answer(&request).await.unwrap(), 0);
        assert!(answer.text.contains("couldn't find"));
        assert!(answer.cited.is_empty());
    }

    #[tokio::test]
    async fn frames_the_quotes_in_the_members_language() {
        let request = AnswerRequest {
            question: "¿cuánto tarda?".into(),
            asker: "a".into(),
            history: vec![],
            passages: vec![passage("Refunds take 14 days.", 1.0)],
            locale: None,
            language: Language::Es,
            channel_context: vec![],
        };
        let answer = ExtractiveModel.answer(&request).await.unwrap();
        assert!(answer.starts_with("Esto es lo que dice la base de conocimiento:"), "{answer}");
        let nothing = AnswerRequest { passages: vec![], language: Language::Pl, ..request };
        assert!(ExtractiveModel.answer(&nothing).await.unwrap().starts_with("Nie znalazłem"));
    }
}
