//! A word-overlap search, enough to test services without an index.

use std::sync::Arc;

use async_trait::async_trait;

use crate::ids::GuildId;
use crate::knowledge::KbScope;
use crate::model::Passage;
use crate::ports::{KnowledgeSearch, KnowledgeStore, SearchError, SearchResults, diversify};

/// A word-overlap search over a [`KnowledgeStore`]; enough to test services without an index.
#[derive(Clone)]
pub struct NaiveSearch(pub Arc<dyn KnowledgeStore>);

#[async_trait]
impl KnowledgeSearch for NaiveSearch {
    async fn search(
        &self,
        guild: GuildId,
        query: &str,
        question: &str,
        limit: usize,
    ) -> Result<SearchResults, SearchError> {
        let words: Vec<String> =
            query.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).map(str::to_lowercase).collect();
        let mut scored = Vec::new();
        let mut corpus = 0;
        let mut texts = Vec::new();
        for scope in KbScope::for_guild(guild) {
            for chunk in self.0.chunks(scope).await? {
                corpus += 1;
                if texts.len() < 32 {
                    texts.push(chunk.text.clone());
                }
                let text = chunk.text.to_lowercase();
                let score = words.iter().filter(|w| text.contains(w.as_str())).count();
                if score > 0 {
                    #[allow(clippy::cast_precision_loss)]
                    let score = score as f32;
                    let passage =
                        Passage { title: chunk.title, heading: chunk.heading, source: None, text: chunk.text, score };
                    scored.push((chunk.document, passage));
                }
            }
        }
        scored.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        let passages = diversify(scored, limit);
        // The offline smart-mode measure: the share of the query's topic words in a passage.
        let focus = if crate::language::topic_words(question).is_empty() { query } else { question };
        let relevance = passages.iter().map(|p| crate::smart::coverage(focus, &p.text)).fold(0.0, f32::max);
        let language = crate::language::dominant(texts.iter().map(String::as_str));
        Ok(SearchResults { passages, corpus_chunks: corpus, relevance, language, semantic: false, similarity: None })
    }
}
