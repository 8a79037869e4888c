//! Tests of the language-aware search: each language's knowledge base found in its own words.

use std::sync::Arc;

use steward_domain::answer::MIN_RELEVANCE;
use steward_domain::clock::Timestamp;
use steward_domain::ids::{DocumentId, GuildId};
use steward_domain::knowledge::{KbScope, NewDocument};
use steward_domain::ports::{KnowledgeSearch, KnowledgeStore, SearchResults};
use steward_domain::testing::MemoryStore;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{Index, TantivyDocument, doc};

use crate::TantivySearch;

const BILLING_ES: &str = "# Facturas\nLa facturación es mensual: enviamos cada recibo por correo electrónico.";
const PASSWORD_ES: &str = "# Contraseña\nPara cambiar tu contraseña, abre los ajustes de tu cuenta.";
const REFUNDS_PL: &str = "# Zwroty\nPłatności kartą są zwracane w ciągu 14 dni.";
const PASSWORD_PL: &str = "# Hasło\nHasło zmienisz w ustawieniach aplikacji.";
const REFUNDS_EN: &str = "# Refunds\nRefunds are issued within 14 days of purchase.";

async fn add(store: &MemoryStore, title: &str, body: &str) {
    let (doc, chunks) = NewDocument { title: title.into(), source: Some(format!("{title}.md")), body: body.into() }
        .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
        .unwrap();
    store.put_document(KbScope::Global, &doc, &chunks).await.unwrap();
}

async fn knowledge_base(documents: &[(&str, &str)]) -> TantivySearch {
    let store = MemoryStore::default();
    for (title, body) in documents {
        add(&store, title, body).await;
    }
    TantivySearch::new(Arc::new(store))
}

async fn ask(search: &TantivySearch, question: &str) -> SearchResults {
    search.search(GuildId::new(5).unwrap(), question, question, 3).await.unwrap()
}

/// The question finds the passage under `heading` first, and counts as covered.
fn found(results: &SearchResults, heading: &str) {
    assert_eq!(results.passages.first().map(|p| p.heading.as_str()), Some(heading), "{results:?}");
    assert!(results.relevance >= MIN_RELEVANCE, "covered: {results:?}");
}

#[tokio::test]
async fn a_spanish_question_finds_a_spanish_passage_in_another_inflection() {
    let search = knowledge_base(&[("Facturación", BILLING_ES), ("Cuenta", PASSWORD_ES)]).await;
    // "envían"/"enviamos" and "factura"/"facturación" meet only when stemmed as Spanish.
    let results = ask(&search, "¿Cuándo me envían la factura?").await;
    found(&results, "Facturas");
    assert!(results.relevance > 0.9, "both topic words are covered: {}", results.relevance);
    found(&ask(&search, "¿cómo cambio la contraseña?").await, "Contraseña");
}

#[tokio::test]
async fn a_polish_question_finds_a_polish_passage_in_another_inflection() {
    let search = knowledge_base(&[("Płatności", REFUNDS_PL), ("Konto", PASSWORD_PL)]).await;
    // "zwrot"/"Zwroty", "płatność"/"Płatności" and "kartami"/"kartą" meet only when stemmed as Polish.
    found(&ask(&search, "Jak długo trwa zwrot za płatność kartami?").await, "Zwroty");
    let results = ask(&search, "jak zwrócić płatność").await;
    assert_eq!(results.passages.first().map(|p| p.heading.as_str()), Some("Zwroty"), "{results:?}");
    // Typed without diacritics, as members often do.
    found(&ask(&search, "gdzie sa ustawienia hasla").await, "Hasło");
}

#[tokio::test]
async fn a_mixed_knowledge_base_is_searched_in_each_of_its_languages() {
    let search = knowledge_base(&[
        ("Billing", REFUNDS_EN),
        ("Facturación", BILLING_ES),
        ("Konto", PASSWORD_PL),
        ("Cuenta", PASSWORD_ES),
    ])
    .await;
    let results = ask(&search, "how long do refunds take?").await;
    found(&results, "Refunds");
    assert!(results.relevance > 0.9, "{}", results.relevance);
    found(&ask(&search, "¿Cuándo me envían la factura?").await, "Facturas");
    found(&ask(&search, "Gdzie są ustawienia hasła?").await, "Hasło");
    found(&ask(&search, "¿cómo cambio la contraseña?").await, "Contraseña");
}

#[tokio::test]
async fn an_english_knowledge_base_scores_exactly_as_the_single_analyzer_index() {
    let documents = [
        (
            "Billing",
            "# Refunds\nRefunds are issued within 14 days of purchase.\n\n# Invoices\nInvoices are emailed monthly.",
        ),
        ("Install", "# Linux\nInstalling on Linux uses the apt repository.\n\n# Windows\nRun the installer."),
        ("Account", "# Password\nChange your password in the app settings; refunds do not reset it."),
    ];
    let search = knowledge_base(&documents).await;
    let reference = single_analyzer_index(&documents);
    for question in
        ["How do I install it on linux?", "refund invoices", "password settings", "¿cómo lo instalo en linux?"]
    {
        let results = search.search(GuildId::new(5).unwrap(), question, question, 10).await.unwrap();
        let mut got: Vec<_> = results.passages.iter().map(|p| (p.text.clone(), p.score)).collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(!got.is_empty(), "{question}");
        assert_eq!(got, reference(question), "{question}");
    }
    assert_eq!(
        ask(&search, "how long do refunds take?").await.relevance,
        1.0,
        "English questions are judged in English"
    );
}

/// The index as it was before it knew languages: one field set, English analysis, same boosts.
/// Returns every matching (text, score) pair for a question, by text.
fn single_analyzer_index(documents: &[(&str, &str)]) -> impl Fn(&str) -> Vec<(String, f32)> {
    let indexing =
        TextFieldIndexing::default().set_tokenizer("old").set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing).set_stored();
    let mut builder = Schema::builder();
    let (title, heading, text) = (
        builder.add_text_field("title", options.clone()),
        builder.add_text_field("heading", options.clone()),
        builder.add_text_field("text", options),
    );
    let index = Index::create_in_ram(builder.build());
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build();
    index.tokenizers().register("old", analyzer);
    let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
    for (name, body) in documents {
        let (_, chunks) = NewDocument { title: (*name).into(), source: None, body: (*body).into() }
            .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
            .unwrap();
        for chunk in chunks {
            writer.add_document(doc!(title => chunk.title, heading => chunk.heading, text => chunk.text)).unwrap();
        }
    }
    writer.commit().unwrap();
    let reader = index.reader().unwrap();
    move |question| {
        let cleaned: String = question.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
        let mut parser = QueryParser::for_index(&index, vec![title, heading, text]);
        parser.set_field_boost(title, 0.6);
        parser.set_field_boost(heading, 1.4);
        let (query, _) = parser.parse_query_lenient(&cleaned);
        let searcher = reader.searcher();
        let hits = searcher.search(&query, &TopDocs::with_limit(10).order_by_score()).unwrap();
        let mut passages: Vec<_> = hits
            .into_iter()
            .map(|(score, address)| {
                let stored: TantivyDocument = searcher.doc(address).unwrap();
                (stored.get_first(text).and_then(|v| v.as_str()).unwrap().to_owned(), score)
            })
            .collect();
        passages.sort_by(|a, b| a.0.cmp(&b.0));
        passages
    }
}
