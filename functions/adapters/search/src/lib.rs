//! Knowledge-base search: BM25 (tantivy) over a guild's chunks, global and its own, fused with
//! a ranking by meaning when an embeddings model is configured (hybrid search).
//!
//! Each guild's index is built in RAM from the store's chunks and cached under the knowledge
//! base's versions, so a document added or deleted anywhere is searchable on the next question
//! without a restart, and an unchanged knowledge base is never re-indexed.
//!
//! The search is language-aware. The schema has one title/heading/text field set per language
//! Steward speaks (`text_en`, `text_es`, `text_pl` …), each analyzed with that language's
//! stemmer ([`analyzer`]). A chunk is indexed in the fields of the language its text is written
//! in ([`Language::detect`](Written::detect), else the knowledge base's dominant language, else
//! English), and only there. A query is parsed over the fields of every language the knowledge
//! base has chunks in, so tantivy analyzes it once per such language: an English question over
//! an English knowledge base is stemmed as English, a Spanish one over a Spanish knowledge base
//! as Spanish, and a mixed knowledge base is searched in each of its languages (a chunk matches
//! only through its own language's fields, so nothing is counted twice). A knowledge base in
//! one language therefore scores exactly as a single-analyzer index would.
//!
//! The relevance ("I don't know") is judged in one language: the question's, when the
//! knowledge base has chunks in it, else the language most of its chunks are in. Word rarity
//! is counted among that language's chunks. tantivy's BM25 statistics are per field over the
//! whole index, so in a mixed knowledge base a minority language's lengths and rarities are
//! measured against every chunk, a small bias across languages and none within one.

mod analyzer;
mod fields;
mod fusion;
#[cfg(test)]
mod language_tests;
mod polish;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use steward_domain::ids::GuildId;
use steward_domain::knowledge::{Chunk, Embedding, KbScope};
use steward_domain::language::{Language as Written, dominant, topic_words};
use steward_domain::model::Passage;
use steward_domain::ports::{
    Embedder, KnowledgeSearch, KnowledgeStore, MAX_PASSAGES_PER_DOCUMENT, SearchError, SearchResults, diversify,
    embed_one,
};
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, Searcher, TantivyDocument, Term, doc};

use crate::fields::Fields;

/// How many guild indexes stay cached.
const CACHED_GUILDS: usize = 256;

/// A BM25 [`KnowledgeSearch`] over a [`KnowledgeStore`], hybrid with an [`Embedder`].
pub struct TantivySearch {
    store: Arc<dyn KnowledgeStore>,
    cache: Mutex<HashMap<GuildId, Arc<GuildIndex>>>,
    embedder: Option<Arc<dyn Embedder>>,
}

/// What one search found, before it becomes [`SearchResults`].
struct Found {
    passages: Vec<Passage>,
    relevance: f32,
    /// The best kept passage's similarity to the query, when ranked by meaning too.
    similarity: Option<f32>,
}

impl std::fmt::Debug for TantivySearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivySearch").finish_non_exhaustive()
    }
}

/// One guild's index, valid for the versions it was built from.
struct GuildIndex {
    versions: [u64; 2],
    chunks: Vec<(Chunk, Option<String>)>,
    /// The language most chunks are written in.
    language: Option<Written>,
    /// How many chunks are indexed in each language's fields, in [`Written::ALL`] order.
    chunks_in: [u64; 3],
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

fn index_error(error: impl std::error::Error + Send + Sync + 'static) -> SearchError {
    SearchError::Index(Box::new(error))
}

impl GuildIndex {
    fn build(versions: [u64; 2], chunks: Vec<(Chunk, Option<String>)>) -> Result<Self, SearchError> {
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_ram(schema);
        analyzer::register(index.tokenizers());
        let language = dominant(chunks.iter().map(|(chunk, _)| chunk.text.as_str()));
        let mut chunks_in = [0_u64; 3];
        let mut writer = index.writer_with_num_threads(1, 15_000_000).map_err(index_error)?;
        for (ordinal, (chunk, _)) in chunks.iter().enumerate() {
            let written = Written::detect(&chunk.text).or(language).unwrap_or_default();
            chunks_in[written as usize] += 1;
            let own = fields.of(written);
            writer
                .add_document(doc!(
                    fields.ordinal => ordinal as u64,
                    own.title => chunk.title.as_str(),
                    own.heading => chunk.heading.as_str(),
                    own.text => chunk.text.as_str(),
                ))
                .map_err(index_error)?;
        }
        writer.commit().map_err(index_error)?;
        let reader = index.reader().map_err(index_error)?;
        Ok(Self { versions, chunks, language, chunks_in, index, reader, fields })
    }

    /// The languages the knowledge base has chunks in, in [`Written::ALL`] order.
    fn languages(&self) -> impl Iterator<Item = Written> + '_ {
        Written::ALL.into_iter().filter(|language| self.chunks_in[*language as usize] > 0)
    }

    /// A parser that analyzes the query in each of the knowledge base's languages, over that
    /// language's fields (a heading match counts most, a title match least).
    fn parser(&self) -> QueryParser {
        let languages: Vec<_> = self.languages().map(|language| self.fields.of(language)).collect();
        let mut parser =
            QueryParser::for_index(&self.index, languages.iter().flat_map(|fields| fields.all()).collect());
        for fields in languages {
            parser.set_field_boost(fields.title, 0.6);
            parser.set_field_boost(fields.heading, 1.4);
        }
        parser
    }

    /// The language relevance is judged in: the question's when the knowledge base has chunks
    /// in it, else the one most of its chunks are in (the first of [`Written::ALL`] on a tie).
    fn judged_in(&self, question: &str) -> Written {
        let present = |language: &Written| self.chunks_in[*language as usize] > 0;
        Written::detect(question).filter(present).unwrap_or_else(|| {
            Written::ALL.into_iter().fold(Written::En, |best, language| {
                if self.chunks_in[language as usize] > self.chunks_in[best as usize] { language } else { best }
            })
        })
    }

    /// Whether any chunk carries a vector of `model`.
    fn has_vectors_of(&self, model: &str) -> bool {
        self.chunks.iter().any(|(chunk, _)| chunk.embedding.as_ref().is_some_and(|e| e.model == model))
    }

    fn search(
        &self,
        query: &str,
        question: &str,
        limit: usize,
        vector: Option<&Embedding>,
    ) -> Result<Found, SearchError> {
        // Keep words only: members type free text, not query syntax.
        let cleaned: String = query.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
        if cleaned.trim().is_empty() || self.chunks.is_empty() || limit == 0 {
            return Ok(Found { passages: Vec::new(), relevance: 0.0, similarity: None });
        }
        let (query, _ignored) = self.parser().parse_query_lenient(&cleaned);
        let searcher = self.reader.searcher();
        // Over-fetch so that, after at most two passages per document, `limit` remain.
        let fetch = limit.saturating_mul(4).max(limit + MAX_PASSAGES_PER_DOCUMENT);
        let hits = searcher.search(&query, &TopDocs::with_limit(fetch).order_by_score()).map_err(index_error)?;
        let mut by_words = Vec::with_capacity(hits.len());
        for (score, address) in hits {
            let stored: TantivyDocument = searcher.doc(address).map_err(index_error)?;
            let Some(ordinal) = stored.get_first(self.fields.ordinal).and_then(|v| v.as_u64()) else { continue };
            if let Ok(ordinal) = usize::try_from(ordinal) {
                by_words.push((ordinal, score));
            }
        }
        let by_meaning = vector.map_or_else(Vec::new, |vector| {
            fusion::by_similarity(self.chunks.iter().map(|(chunk, _)| chunk.embedding.as_ref()), vector, fetch)
        });
        let ranked = if by_meaning.is_empty() {
            by_words
        } else {
            let lists = [by_words, by_meaning].map(|list| list.into_iter().map(|(ordinal, _)| ordinal).collect());
            fusion::reciprocal_rank_fusion(&lists)
        };
        let mut hits = Vec::with_capacity(ranked.len());
        for (ordinal, score) in ranked {
            let Some((chunk, source)) = self.chunks.get(ordinal) else { continue };
            let passage = Passage {
                title: chunk.title.clone(),
                heading: chunk.heading.clone(),
                source: source.clone(),
                text: chunk.text.clone(),
                score,
            };
            let similarity = vector.zip(chunk.embedding.as_ref()).map(|(q, c)| c.similarity(&q.vector));
            hits.push((&chunk.document, (passage, similarity)));
        }
        let (passages, similarities): (Vec<Passage>, Vec<Option<f32>>) = diversify(hits, limit).into_iter().unzip();
        let similarity = similarities.into_iter().flatten().reduce(f32::max);
        // A pure follow-up ("how much is it?") is judged with the context it refers to.
        let focus = if topic_words(question).is_empty() { cleaned.as_str() } else { question };
        let relevance = self.relevance(&searcher, focus, &passages)?;
        Ok(Found { passages, relevance, similarity })
    }

    /// The share of the query's words the passages contain, each weighted by its inverse
    /// document frequency, so "how do I" counts little and a rare topic word counts a lot; a
    /// word the knowledge base never uses weighs the most. Words are analyzed, and counted
    /// among the chunks, in the language the question is [judged in](Self::judged_in).
    fn relevance(&self, searcher: &Searcher, query: &str, passages: &[Passage]) -> Result<f32, SearchError> {
        let language = self.judged_in(query);
        let Some(mut analyzer) = self.index.tokenizers().get(analyzer::name(language)) else { return Ok(0.0) };
        // Only topic words count: a small knowledge base that never says "how" or "do" must not
        // make every question look uncovered.
        let topic = topic_words(query);
        let words = analyzer::terms(&mut analyzer, &topic.join(" "));
        let mut found = std::collections::HashSet::new();
        for passage in passages {
            let text = format!("{} {} {}", passage.title, passage.heading, passage.text);
            found.extend(analyzer::terms(&mut analyzer, &text));
        }
        #[allow(clippy::cast_precision_loss)]
        let chunks = self.chunks_in[language as usize] as f32;
        let (mut total, mut covered) = (0.0_f32, 0.0_f32);
        for word in &words {
            let mut frequency = 0;
            for field in self.fields.of(language).all() {
                frequency = frequency.max(searcher.doc_freq(&Term::from_field_text(field, word)).map_err(index_error)?);
            }
            #[allow(clippy::cast_precision_loss)]
            let frequency = frequency as f32;
            let idf = (1.0 + (chunks - frequency + 0.5) / (frequency + 0.5)).ln();
            total += idf;
            if found.contains(word) {
                covered += idf;
            }
        }
        Ok(if total > 0.0 { covered / total } else { 0.0 })
    }
}

impl TantivySearch {
    /// A search over `store`'s chunks.
    #[must_use]
    pub fn new(store: Arc<dyn KnowledgeStore>) -> Self {
        Self { store, cache: Mutex::new(HashMap::new()), embedder: None }
    }

    /// Hybrid search: questions are embedded with `embedder` and chunks that carry its vectors
    /// are ranked by meaning too. Chunks imported without (or with another model) are found by
    /// their words only; if the model fails, search falls back to words alone.
    #[must_use]
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// The query's vector, when the knowledge base has vectors of the configured model.
    async fn query_vector(&self, index: &GuildIndex, query: &str) -> Option<Embedding> {
        let embedder = self.embedder.as_deref()?;
        if !index.has_vectors_of(embedder.model()) {
            return None;
        }
        match embed_one(embedder, query).await {
            Ok(vector) => Some(vector),
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "embedding the question failed; searching by words"
                );
                None
            }
        }
    }

    async fn index_for(&self, guild: GuildId) -> Result<Arc<GuildIndex>, SearchError> {
        let scopes = KbScope::for_guild(guild);
        let versions = [self.store.version(scopes[0]).await?, self.store.version(scopes[1]).await?];
        if let Some(cached) = self.lock().get(&guild).filter(|index| index.versions == versions) {
            return Ok(Arc::clone(cached));
        }
        let mut chunks = Vec::new();
        for scope in scopes {
            let sources: HashMap<_, _> =
                self.store.list_documents(scope).await?.into_iter().map(|d| (d.id, d.source)).collect();
            for chunk in self.store.chunks(scope).await? {
                let source = sources.get(&chunk.document).cloned().flatten();
                chunks.push((chunk, source));
            }
        }
        let built =
            tokio::task::spawn_blocking(move || GuildIndex::build(versions, chunks)).await.map_err(index_error)??;
        let built = Arc::new(built);
        let mut cache = self.lock();
        if cache.len() >= CACHED_GUILDS
            && !cache.contains_key(&guild)
            && let Some(evict) = cache.keys().next().copied()
        {
            cache.remove(&evict);
        }
        cache.insert(guild, Arc::clone(&built));
        tracing::debug!(%guild, chunks = built.chunks.len(), "knowledge index built");
        Ok(built)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<GuildId, Arc<GuildIndex>>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl KnowledgeSearch for TantivySearch {
    async fn search(
        &self,
        guild: GuildId,
        query: &str,
        question: &str,
        limit: usize,
    ) -> Result<SearchResults, SearchError> {
        let index = self.index_for(guild).await?;
        let vector = self.query_vector(&index, query).await;
        let semantic = vector.is_some();
        let (query, question) = (query.to_owned(), question.to_owned());
        let corpus_chunks = index.chunks.len();
        let language = index.language;
        let found = tokio::task::spawn_blocking(move || index.search(&query, &question, limit, vector.as_ref()))
            .await
            .map_err(index_error)??;
        Ok(SearchResults {
            passages: found.passages,
            corpus_chunks,
            relevance: found.relevance,
            language,
            semantic,
            similarity: found.similarity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::clock::Timestamp;
    use steward_domain::ids::DocumentId;
    use steward_domain::knowledge::NewDocument;
    use steward_domain::testing::MemoryStore;

    async fn add(store: &MemoryStore, scope: KbScope, title: &str, body: &str) -> DocumentId {
        let id = DocumentId::generate();
        let (doc, chunks) = NewDocument { title: title.into(), source: Some(format!("{title}.md")), body: body.into() }
            .into_parts(id.clone(), Timestamp::from_secs(1))
            .unwrap();
        store.put_document(scope, &doc, &chunks).await.unwrap();
        id
    }

    fn guild() -> GuildId {
        GuildId::new(5).unwrap()
    }

    #[tokio::test]
    async fn ranks_the_relevant_passage_first_with_stemming() {
        let store = MemoryStore::default();
        add(
            &store,
            KbScope::Global,
            "Billing",
            "# Refunds\nRefunds are issued within 14 days of purchase.\n\n# Invoices\nInvoices are emailed monthly.",
        )
        .await;
        add(&store, KbScope::Guild(guild()), "Install", "# Linux\nInstalling on Linux uses the apt repository.").await;
        let search = TantivySearch::new(Arc::new(store));
        let results =
            search.search(guild(), "How do I install it on linux?", "How do I install it on linux?", 3).await.unwrap();
        assert_eq!(results.corpus_chunks, 3);
        assert_eq!(results.passages[0].heading, "Linux", "{results:?}");
        assert_eq!(results.passages[0].source.as_deref(), Some("Install.md"));
        let results = search.search(guild(), "refund?", "refund?", 3).await.unwrap();
        assert_eq!(results.passages[0].heading, "Refunds");
        assert!(results.passages.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[tokio::test]
    async fn one_document_never_fills_every_passage() {
        let store = MemoryStore::default();
        let long = (1..=8)
            .map(|i| format!("# Refunds {i}\n{}", "Refunds refunds refund policy. ".repeat(20)))
            .collect::<Vec<_>>();
        add(&store, KbScope::Global, "Refund policy", &long.join("\n\n")).await;
        add(&store, KbScope::Global, "Billing", "# Money back\nA refund reaches your card in 14 days.").await;
        let search = TantivySearch::new(Arc::new(store));
        let results = search.search(guild(), "refund", "refund", 4).await.unwrap();
        let from_policy = results.passages.iter().filter(|p| p.title == "Refund policy").count();
        assert_eq!(from_policy, 2, "{results:?}");
        assert!(results.passages.iter().any(|p| p.title == "Billing"), "the other document reaches the model");
    }

    #[tokio::test]
    async fn relevance_counts_topic_words_weighted_by_rarity() {
        let store = MemoryStore::default();
        add(&store, KbScope::Global, "Billing", "# Refunds\nRefunds are issued within 14 days of purchase.").await;
        let search = TantivySearch::new(Arc::new(store));
        let covered =
            search.search(guild(), "how long do refunds take?", "how long do refunds take?", 3).await.unwrap();
        assert!(covered.relevance > 0.9, "function words the KB never uses do not count: {}", covered.relevance);
        let uncovered = search
            .search(
                guild(),
                "how do I export my refunds to a spreadsheet?",
                "how do I export my refunds to a spreadsheet?",
                3,
            )
            .await
            .unwrap();
        assert!(uncovered.relevance < 0.2, "{}", uncovered.relevance);
        let nothing =
            search.search(guild(), "what is the weather on mars?", "what is the weather on mars?", 3).await.unwrap();
        assert!(nothing.passages.is_empty() && nothing.relevance == 0.0);
    }

    #[tokio::test]
    async fn relevance_is_the_questions_even_when_the_query_carries_context() {
        let store = MemoryStore::default();
        add(&store, KbScope::Global, "Billing", "# Refunds\nRefunds are issued within 14 days of purchase.").await;
        let search = TantivySearch::new(Arc::new(store));
        let query = "what is the capital of australia?\nhow long do refunds take?";
        let results = search.search(guild(), query, "what is the capital of australia?", 3).await.unwrap();
        assert!(!results.passages.is_empty(), "the context still retrieves");
        assert!(results.relevance < 0.2, "but the new question is not covered: {}", results.relevance);
    }

    #[tokio::test]
    async fn other_guilds_documents_are_not_searched() {
        let store = MemoryStore::default();
        add(&store, KbScope::Guild(GuildId::new(6).unwrap()), "Secret", "The secret password is hunter2.").await;
        let search = TantivySearch::new(Arc::new(store));
        let results = search.search(guild(), "secret password", "secret password", 3).await.unwrap();
        assert!(results.passages.is_empty());
        assert_eq!(results.corpus_chunks, 0);
    }

    #[tokio::test]
    async fn changes_are_picked_up_through_the_version() {
        let store = MemoryStore::default();
        let search = TantivySearch::new(Arc::new(store.clone()));
        assert!(search.search(guild(), "pricing", "pricing", 3).await.unwrap().passages.is_empty());
        let id = add(&store, KbScope::Guild(guild()), "Pricing", "Pricing starts at 5 euros.").await;
        assert_eq!(search.search(guild(), "pricing", "pricing", 3).await.unwrap().passages.len(), 1);
        store.delete_document(KbScope::Guild(guild()), &id).await.unwrap();
        assert!(search.search(guild(), "pricing", "pricing", 3).await.unwrap().passages.is_empty());
    }

    #[tokio::test]
    async fn query_syntax_in_member_text_is_harmless() {
        let store = MemoryStore::default();
        add(&store, KbScope::Global, "FAQ", "Colons and quotes are fine.").await;
        let search = TantivySearch::new(Arc::new(store));
        for query in ["title:\"x", "AND OR NOT", "(((", "", "+-*~^"] {
            search.search(guild(), query, query, 3).await.unwrap();
        }
    }
}
