//! Hybrid search: chunks imported with vectors are found by meaning as well as by words.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use steward_domain::answer::{Coverage, Thresholds, coverage};
use steward_domain::clock::Timestamp;
use steward_domain::ids::{DocumentId, GuildId};
use steward_domain::knowledge::{KbScope, NewDocument, add_document};
use steward_domain::ports::{Embedder, KnowledgeSearch, SearchResults};
use steward_domain::testing::{MemoryStore, WordEmbedder};
use steward_search::TantivySearch;

const PAGES: [(&str, &str); 3] = [
    ("Billing", "# Refunds\nRefunds are issued within 14 days of the purchase, to the card you paid with."),
    ("Install", "# Linux\nInstalling on Linux uses the apt repository and a signing key."),
    ("Account", "# Password\nReset your password from the login page with the emailed link."),
];

/// "money back" and "reembolso" mean refunds; word search cannot know that.
fn embedder() -> WordEmbedder {
    WordEmbedder::with_synonyms(&[&["refunds", "refund", "money", "reembolso", "devolución"]])
}

async fn knowledge_base(embedder: Option<&dyn Embedder>) -> MemoryStore {
    let store = MemoryStore::default();
    for (title, body) in PAGES {
        let page = NewDocument { title: title.into(), source: Some(format!("{title}.md")), body: body.into() };
        add_document(&store, embedder, KbScope::Global, page, DocumentId::generate(), Timestamp::from_secs(1))
            .await
            .unwrap();
    }
    store
}

async fn ask(search: &TantivySearch, question: &str) -> SearchResults {
    search.search(GuildId::new(5).unwrap(), question, question, 3).await.unwrap()
}

#[tokio::test]
async fn a_question_in_other_words_is_found_by_meaning_and_counts_as_covered() {
    let embedder = embedder();
    let store = Arc::new(knowledge_base(Some(&embedder)).await);
    let question = "how do I get my money back?";

    let words = ask(&TantivySearch::new(store.clone()), question).await;
    assert!(!words.semantic);
    assert_ne!(coverage(question, &words, Thresholds::default()), Coverage::Covered, "words alone miss it: {words:?}");

    let hybrid = ask(&TantivySearch::new(store).with_embedder(Arc::new(embedder.clone())), question).await;
    assert!(hybrid.semantic);
    assert_eq!(hybrid.passages[0].title, "Billing", "{hybrid:?}");
    // The stand-in embedder's scale is not a real model's: judge with a threshold fitted to it.
    let thresholds = Thresholds { similarity: 0.4, ..Thresholds::default() };
    assert!(hybrid.similarity.is_some_and(|s| s > thresholds.similarity), "{:?}", hybrid.similarity);
    assert_eq!(coverage(question, &hybrid, thresholds), Coverage::Covered);
    assert_ne!(coverage(question, &words, thresholds), Coverage::Covered);
}

#[tokio::test]
async fn a_question_in_another_language_is_found_by_meaning() {
    let embedder = embedder();
    let store = Arc::new(knowledge_base(Some(&embedder)).await);
    let search = TantivySearch::new(store).with_embedder(Arc::new(embedder));
    let results = ask(&search, "¿cuánto tarda un reembolso?").await;
    assert_eq!(results.passages[0].title, "Billing", "{results:?}");
}

#[tokio::test]
async fn a_passage_both_rankings_agree_on_comes_first() {
    let embedder = embedder();
    let store = Arc::new(knowledge_base(Some(&embedder)).await);
    let search = TantivySearch::new(store).with_embedder(Arc::new(embedder));
    let results = ask(&search, "reset the password link").await;
    assert_eq!(results.passages[0].title, "Account", "{results:?}");
    assert!(results.passages.windows(2).all(|w| w[0].score >= w[1].score), "fused scores are in order");
}

#[tokio::test]
async fn a_knowledge_base_without_vectors_is_searched_by_words_without_a_call() {
    let store = Arc::new(knowledge_base(None).await);
    let embedder = embedder();
    let search = TantivySearch::new(store).with_embedder(Arc::new(embedder.clone()));
    let results = ask(&search, "how long do refunds take?").await;
    assert_eq!(results.passages[0].title, "Billing");
    assert!(!results.semantic && results.similarity.is_none());
    assert_eq!(embedder.calls(), 0, "no question is embedded for nothing");
}

#[tokio::test]
async fn vectors_of_another_model_are_not_compared() {
    let store = Arc::new(knowledge_base(Some(&embedder())).await);
    struct Other(WordEmbedder);
    #[async_trait::async_trait]
    impl Embedder for Other {
        fn model(&self) -> &str {
            "another-model"
        }
        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, steward_domain::model::ModelError> {
            self.0.embed(texts).await
        }
    }
    let other = WordEmbedder::default();
    let search = TantivySearch::new(store).with_embedder(Arc::new(Other(other.clone())));
    let results = ask(&search, "how long do refunds take?").await;
    assert!(!results.semantic, "the knowledge base must be re-imported for a new model");
    assert_eq!(other.calls(), 0);
}

#[tokio::test]
async fn when_the_embeddings_model_fails_search_falls_back_to_words() {
    let embedder = embedder();
    let store = Arc::new(knowledge_base(Some(&embedder)).await);
    embedder.fail(true);
    let search = TantivySearch::new(store).with_embedder(Arc::new(embedder.clone()));
    let results = ask(&search, "how long do refunds take?").await;
    assert_eq!(results.passages[0].title, "Billing");
    assert!(!results.semantic);
}
