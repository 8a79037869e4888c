//! The retrieval evaluation: imports `tests/eval/corpus` through `steward kb import`'s code,
//! asks every question of `tests/eval/questions.jsonl` through Steward's search, and reports
//! hit@1, hit@3 and MRR per language, and "I don't know" at each threshold: thresholds are
//! chosen on the odd-numbered questions and reported on the even-numbered ones.
//!
//! Three set-ups, each as the answering pipeline runs it:
//! - **BM25**: words alone;
//! - **BM25 + rewrite**: a question in another language than the knowledge base is searched
//!   with search terms in its language, as a configured chat model writes them. Offline, the
//!   English original of each translated question stands in for the model's terms: the figure
//!   is what a rewrite as good as the set's own translation reaches;
//! - **hybrid**: BM25 fused with embeddings. With `EMBEDDINGS_MODEL` (and `OPENAI_BASE_URL`,
//!   `OPENAI_API_KEY` or the `EMBEDDINGS_*` variables) it measures that model and chooses its
//!   `EMBEDDINGS_MIN_SIMILARITY`; without, a word-hashing stand-in shows the plumbing, not a
//!   real model's quality.
//!
//! `cargo run --release -p steward-tests --bin eval` (from the workspace root).

#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;
use steward_daemon::kb_import::{self, Origin};
use steward_domain::answer::{Coverage, MIN_RELEVANCE, Thresholds, coverage};
use steward_domain::clock::Timestamp;
use steward_domain::ids::GuildId;
use steward_domain::knowledge::KbScope;
use steward_domain::ports::{Embedder, KnowledgeSearch, SearchResults};
use steward_domain::testing::{ManualClock, MemoryStore, WordEmbedder};
use steward_search::TantivySearch;

/// How many passages a question retrieves (as the answering pipeline does).
const PASSAGES: usize = 4;
/// The most false "I don't know"s on answerable questions a threshold may cause.
const MAX_FALSE_ABSTENTIONS: f64 = 0.05;

struct Question {
    id: String,
    lang: String,
    text: String,
    answerable: bool,
    expected: Vec<String>,
}

struct Outcome<'a> {
    question: &'a Question,
    /// The 1-based rank of the first passage from an expected page, if any.
    rank: Option<usize>,
    results: SearchResults,
    /// What the relevance was judged on: the question, or its rewritten terms.
    judged_on: String,
}

fn questions(path: &std::path::Path) -> anyhow::Result<Vec<Question>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line)?;
            Ok(Question {
                id: v["id"].as_str().unwrap_or_default().to_owned(),
                lang: v["lang"].as_str().unwrap_or_default().to_owned(),
                text: v["question"].as_str().unwrap_or_default().to_owned(),
                answerable: v["answerable"].as_bool().unwrap_or(false),
                expected: v["expected"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Odd-numbered questions (q001, q003 …, and their translations) choose; even ones report.
fn is_dev(id: &str) -> bool {
    id.trim_start_matches('q').split('-').next().and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n % 2 == 1)
}

/// The id of the English question a translation was made from (`q001-es` → `q001`).
fn original(id: &str) -> &str {
    id.split('-').next().unwrap_or(id)
}

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(std::env::var("STEWARD_EVAL_DIR").unwrap_or_else(|_| "tests/eval".into()));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(&root))
}

/// The embeddings model to measure: the configured one, else the stand-in.
fn embedder() -> anyhow::Result<(Arc<dyn Embedder>, String)> {
    let config = steward_config::Config::from_env()?;
    Ok(match steward_openai::embedder_from_config(config.embeddings.as_ref())? {
        Some(embedder) => {
            let name = format!("`{}`", embedder.model());
            (embedder, name)
        }
        None => (Arc::new(WordEmbedder::default()), "the word-hashing stand-in (no EMBEDDINGS_MODEL)".to_owned()),
    })
}

async fn run(root: &std::path::Path) -> anyhow::Result<()> {
    let questions = questions(&root.join("questions.jsonl"))?;
    let english: HashMap<&str, &str> =
        questions.iter().filter(|q| q.lang == "en").map(|q| (q.id.as_str(), q.text.as_str())).collect();
    let origin = Origin::Paths(vec![root.join("corpus/help")]);
    let clock = ManualClock::at(Timestamp::from_secs(1_795_000_000));
    let guild = GuildId::new(1)?;

    // Words alone, and with the rewrite.
    let store = MemoryStore::default();
    let started = Instant::now();
    let report = kb_import::import(&store, KbScope::Global, &origin, &clock, false).await?;
    println!(
        "Imported {} pages ({} chunks, {} skipped) in {:.0} ms.\n",
        report.imported,
        report.chunks,
        report.skipped.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let search = TantivySearch::new(Arc::new(store));
    let (bm25, latencies) = ask_all(&search, guild, &questions, |_| None).await?;
    let rewritten = ask_all(&search, guild, &questions, |q| {
        (q.lang != "en").then(|| english.get(original(&q.id)).copied()).flatten()
    })
    .await?
    .0;

    // Hybrid.
    let (embedder, embedder_name) = embedder()?;
    let store = MemoryStore::default();
    let started = Instant::now();
    kb_import::import_with(&store, Some(embedder.as_ref()), KbScope::Global, &origin, &clock, false).await?;
    let embed_time = started.elapsed();
    let hybrid_search = TantivySearch::new(Arc::new(store)).with_embedder(embedder);
    let (hybrid, hybrid_latencies) = ask_all(&hybrid_search, guild, &questions, |_| None).await?;

    println!("## Retrieval: the right page among the {PASSAGES} passages sent to the model (answerable questions)\n");
    println!("| set-up | language | questions | hit@1 | hit@3 | MRR |");
    println!("|---|---|---|---|---|---|");
    retrieval_rows("BM25", &bm25);
    retrieval_rows("BM25 + rewrite (stand-in: the English original)", &rewritten);
    retrieval_rows(&format!("hybrid, {embedder_name}"), &hybrid);

    println!("\n## \"I don't know\"\n");
    let relevance = choose("word relevance (BM25)", &bm25, |t| Thresholds { relevance: t, similarity: f32::INFINITY });
    abstention_rows("BM25", &bm25, Thresholds { relevance, similarity: f32::INFINITY });
    abstention_rows("BM25 + rewrite", &rewritten, Thresholds { relevance, similarity: f32::INFINITY });
    let similarity = choose(
        &format!("similarity of meaning (hybrid, {embedder_name}), relevance at {MIN_RELEVANCE:.2}"),
        &hybrid,
        |t| Thresholds { relevance: MIN_RELEVANCE, similarity: t },
    );
    abstention_rows("hybrid", &hybrid, Thresholds { relevance: MIN_RELEVANCE, similarity });
    println!(
        "\nShipped: relevance {MIN_RELEVANCE:.2}; similarity {:.2} by default (EMBEDDINGS_MIN_SIMILARITY).",
        Thresholds::default().similarity
    );

    let p = |latencies: &[Duration], q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "\nSearch latency over {} questions ({} chunks): BM25 p50 {:?}, p99 {:?}; hybrid (question embedded each time) p50 {:?}, p99 {:?}. Import with embeddings: {:.0} ms.",
        latencies.len(),
        report.chunks,
        p(&latencies, 0.5),
        p(&latencies, 0.99),
        p(&hybrid_latencies, 0.5),
        p(&hybrid_latencies, 0.99),
        embed_time.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Asks every question as the answering pipeline would: with the rewrite's terms first when
/// `rewrite` gives some, the relevance then judged on them. Returns the outcomes and the
/// search latencies, sorted.
async fn ask_all<'a>(
    search: &TantivySearch,
    guild: GuildId,
    questions: &'a [Question],
    rewrite: impl Fn(&Question) -> Option<&'a str>,
) -> anyhow::Result<(Vec<Outcome<'a>>, Vec<Duration>)> {
    search.search(guild, "warm up", "warm up", PASSAGES).await?;
    let mut outcomes = Vec::new();
    let mut latencies = Vec::new();
    for question in questions {
        let (query, judged_on) = match rewrite(question) {
            Some(terms) => (format!("{terms}\n{}", question.text), terms.to_owned()),
            None => (question.text.clone(), question.text.clone()),
        };
        let started = Instant::now();
        let results = search.search(guild, &query, &judged_on, PASSAGES).await?;
        latencies.push(started.elapsed());
        let rank = results.passages.iter().position(|p| {
            // Sources are paths inside the imported folder (`zulip-cloud-billing.md`); the set
            // names them from the corpus root (`help/zulip-cloud-billing.md`).
            p.source.as_deref().is_some_and(|s| question.expected.iter().any(|e| std::path::Path::new(e).ends_with(s)))
        });
        outcomes.push(Outcome { question, rank: rank.map(|r| r + 1), results, judged_on });
    }
    latencies.sort();
    Ok((outcomes, latencies))
}

fn retrieval_rows(setup: &str, outcomes: &[Outcome<'_>]) {
    let mut by_lang: BTreeMap<&str, Vec<&Outcome<'_>>> = BTreeMap::new();
    for outcome in outcomes.iter().filter(|o| o.question.answerable) {
        by_lang.entry(outcome.question.lang.as_str()).or_default().push(outcome);
    }
    for (lang, items) in &by_lang {
        let n = items.len() as f64;
        let hit = |k: usize| items.iter().filter(|o| o.rank.is_some_and(|r| r <= k)).count() as f64 / n;
        let mrr = items.iter().map(|o| o.rank.map_or(0.0, |r| 1.0 / r as f64)).sum::<f64>() / n;
        println!("| {setup} | {lang} | {} | {:.2} | {:.2} | {mrr:.2} |", items.len(), hit(1), hit(3));
    }
}

/// (abstained on unanswerable, abstained on answerable) at `thresholds` over `items`, exactly as
/// the answering pipeline decides ([`coverage`]).
fn rates(items: &[&Outcome<'_>], thresholds: Thresholds) -> (f64, f64) {
    let share = |answerable: bool| {
        let group: Vec<_> = items.iter().filter(|o| o.question.answerable == answerable).collect();
        if group.is_empty() {
            return 0.0;
        }
        let abstains = |o: &&&&Outcome<'_>| coverage(&o.judged_on, &o.results, thresholds) == Coverage::Uncovered;
        group.iter().filter(abstains).count() as f64 / group.len() as f64
    };
    (share(false), share(true))
}

/// The threshold with the most correct "I don't know"s on English dev questions while false
/// ones stay within [`MAX_FALSE_ABSTENTIONS`].
fn choose(what: &str, outcomes: &[Outcome<'_>], thresholds: impl Fn(f32) -> Thresholds) -> f32 {
    let dev: Vec<&Outcome<'_>> =
        outcomes.iter().filter(|o| o.question.lang == "en" && is_dev(&o.question.id)).collect();
    println!("Sweep of the {what} threshold on the English dev half ({} questions):\n", dev.len());
    println!("| threshold | unanswerable → \"I don't know\" | answerable → false \"I don't know\" |");
    println!("|---|---|---|");
    let mut best = (0.0_f32, -1.0_f64);
    for step in 0..=19 {
        let threshold = step as f32 * 0.05;
        let (right, wrong) = rates(&dev, thresholds(threshold));
        println!("| {threshold:.2} | {right:.2} | {wrong:.2} |");
        if wrong <= MAX_FALSE_ABSTENTIONS && right > best.1 {
            best = (threshold, right);
        }
    }
    println!("\nChosen: {:.2} (most abstentions with at most {MAX_FALSE_ABSTENTIONS} false).\n", best.0);
    best.0
}

fn abstention_rows(setup: &str, outcomes: &[Outcome<'_>], thresholds: Thresholds) {
    println!(
        "{setup}, on the held-out (even-numbered) questions (relevance {:.2}, similarity {:.2}; a question in another language than the knowledge base is answered from the best passages unless covered):\n",
        thresholds.relevance, thresholds.similarity
    );
    println!("| language | unanswerable → \"I don't know\" | answerable → false \"I don't know\" |");
    println!("|---|---|---|");
    for lang in ["en", "es", "pl"] {
        let items: Vec<&Outcome<'_>> =
            outcomes.iter().filter(|o| o.question.lang == lang && !is_dev(&o.question.id)).collect();
        let (right, wrong) = rates(&items, thresholds);
        println!("| {lang} | {right:.2} | {wrong:.2} |");
    }
    println!();
}
