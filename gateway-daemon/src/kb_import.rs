//! `steward kb import`: files, folders or a whole website into the knowledge base.
//!
//! Reading is `steward-ingest`'s (Markdown, text, HTML, PDF; a same-host crawl for a URL);
//! storing is the domain's [`add_document`], so a source imported again replaces its document.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use steward_domain::clock::Clock;
use steward_domain::ids::DocumentId;
use steward_domain::knowledge::{AddError, KbScope, NewDocument, add_document, markdown};
use steward_domain::model::ModelError;
use steward_domain::ports::{Embedder, KnowledgeStore, StoreError};
use steward_ingest::{CrawlEvent, CrawlOptions, IngestError, IngestedDocument};
use url::Url;

/// What to import: files and folders, or a website.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Files as given, folders walked.
    Paths(Vec<PathBuf>),
    /// Every page of a site reachable from this URL (same host).
    Site(Url),
}

impl Origin {
    /// Reads the command line's arguments: one `http(s)://` URL, or paths.
    ///
    /// # Errors
    /// Returns a message when a URL is mixed with other arguments.
    pub fn parse(arguments: &[String]) -> Result<Self, String> {
        let urls: Vec<Url> = arguments
            .iter()
            .filter(|a| a.starts_with("http://") || a.starts_with("https://"))
            .filter_map(|a| Url::parse(a).ok())
            .collect();
        match (urls.as_slice(), arguments.len()) {
            ([], _) => Ok(Self::Paths(arguments.iter().map(PathBuf::from).collect())),
            ([url], 1) => Ok(Self::Site(url.clone())),
            _ => Err("import one website URL at a time, or files and folders".into()),
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Documents stored.
    pub imported: usize,
    /// Of those, how many replaced an earlier import of the same source.
    pub replaced: usize,
    /// Chunks stored.
    pub chunks: usize,
    /// Files or pages skipped, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The files or the site could not be read at all.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embeddings model failed; documents imported before it are kept.
    #[error(
        "the embeddings model failed, so `{source}` was not imported; check EMBEDDINGS_BASE_URL, EMBEDDINGS_API_KEY and EMBEDDINGS_MODEL, or unset EMBEDDINGS_MODEL to import for word search only"
    )]
    Embed {
        /// The document that could not be embedded.
        source: String,
        /// The model's error.
        #[source]
        error: ModelError,
    },
}

/// A progress bar on a terminal, hidden otherwise.
fn bar(show: bool, len: u64) -> ProgressBar {
    let bar = if show { ProgressBar::new(len) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

/// Reads `origin` and stores every document in `scope`, showing progress on a terminal.
///
/// # Errors
/// Returns an error when nothing can be read (a missing path, an unreachable site) or the store
/// fails; single unreadable files or pages are skipped and reported instead.
pub async fn import(
    store: &dyn KnowledgeStore,
    scope: KbScope,
    origin: &Origin,
    clock: &dyn Clock,
    show_progress: bool,
) -> Result<ImportReport, ImportError> {
    import_with(store, None, scope, origin, clock, show_progress).await
}

/// [`import`], giving every chunk its vector from `embedder` when one is configured.
///
/// # Errors
/// As [`import`], and [`ImportError::Embed`] when the embeddings model fails.
pub async fn import_with(
    store: &dyn KnowledgeStore,
    embedder: Option<&dyn Embedder>,
    scope: KbScope,
    origin: &Origin,
    clock: &dyn Clock,
    show_progress: bool,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let documents = match origin {
        Origin::Paths(paths) => {
            let mut files = Vec::new();
            for path in paths {
                // A file's source is its path inside the folder imported (or its name), so
                // `docs`, `./docs` and `/home/me/docs` match on re-import, and answers cite
                // `guides/install.md`, never the operator's own directories.
                let root =
                    if path.is_dir() { path.clone() } else { path.parent().map(Path::to_path_buf).unwrap_or_default() };
                for file in steward_ingest::collect(std::slice::from_ref(path))? {
                    let source = file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().replace('\\', "/");
                    files.push((file, source));
                }
            }
            let bar = bar(show_progress, files.len() as u64);
            let mut documents = Vec::with_capacity(files.len());
            for (path, source) in files {
                bar.set_message(source.clone());
                match steward_ingest::read(&path) {
                    Ok(document) => documents.push(IngestedDocument { source, ..document }),
                    Err(error) => report.skipped.push((path.display().to_string(), error.to_string())),
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            documents
        }
        Origin::Site(url) => {
            let bar = bar(show_progress, 1);
            let progress = |event: CrawlEvent| match event {
                CrawlEvent::Fetched { url, done, queued } => {
                    bar.set_length((done + queued) as u64);
                    bar.set_position(done as u64);
                    bar.set_message(url.to_string());
                }
                CrawlEvent::Skipped { .. } => {}
            };
            let crawled = steward_ingest::crawl(url, &CrawlOptions::default(), &progress).await?;
            bar.finish_and_clear();
            report.skipped.extend(crawled.skipped.into_iter().map(|(url, why)| (url.to_string(), why)));
            crawled.documents
        }
    };
    for document in documents {
        let source = document.source.clone();
        match add_document(store, embedder, scope, new_document(document), DocumentId::generate(), clock.now()).await {
            Ok(added) => {
                report.imported += 1;
                report.replaced += added.replaced;
                report.chunks += added.chunks;
            }
            Err(AddError::Invalid(error)) => report.skipped.push((source, error.to_string())),
            Err(AddError::Store(error)) => return Err(error.into()),
            Err(AddError::Embed(error)) => return Err(ImportError::Embed { source, error }),
        }
    }
    Ok(report)
}

/// The document to store: titled by its front matter or first heading when it has one.
fn new_document(document: IngestedDocument) -> NewDocument {
    let title = markdown::parse(&document.body).title.unwrap_or(document.title);
    NewDocument { title, source: Some(document.source), body: document.body }
}

#[cfg(test)]
mod tests {
    use steward_domain::clock::Timestamp;
    use steward_domain::testing::{ManualClock, MemoryStore};

    use super::*;

    #[test]
    fn arguments_are_paths_or_one_site() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(Origin::parse(&args(&["docs", "faq.md"])), Ok(Origin::Paths(vec!["docs".into(), "faq.md".into()])));
        assert!(matches!(Origin::parse(&args(&["https://docs.example.com"])), Ok(Origin::Site(_))));
        assert!(Origin::parse(&args(&["https://a.example", "docs"])).is_err());
    }

    #[tokio::test]
    async fn imports_a_folder_titles_by_front_matter_and_replaces_on_reimport() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("faq.md"), "---\ntitle: Frequently asked\n---\n\nRefunds take 14 days.")
            .unwrap();
        std::fs::create_dir(dir.path().join("guides")).unwrap();
        std::fs::write(dir.path().join("guides/install-linux.txt"), "Use apt.").unwrap();
        std::fs::write(dir.path().join("guides/empty.md"), "\n").unwrap();
        std::fs::write(
            dir.path().join("guides/page.html"),
            "<html><head><title>Site</title></head><body><main><h1>Payments</h1><p>By card.</p></main></body></html>",
        )
        .unwrap();
        std::fs::write(dir.path().join("logo.png"), [0u8, 1, 2]).unwrap();
        let store = MemoryStore::default();
        let clock = ManualClock::at(Timestamp::from_secs(1));
        let origin = Origin::Paths(vec![dir.path().to_path_buf()]);
        let report = import(&store, KbScope::Global, &origin, &clock, false).await.unwrap();
        assert_eq!((report.imported, report.replaced, report.skipped.len()), (3, 0, 1), "{report:?}");
        let mut titles: Vec<_> =
            store.list_documents(KbScope::Global).await.unwrap().into_iter().map(|d| d.title).collect();
        titles.sort();
        assert_eq!(titles, ["Frequently asked", "Payments", "install linux"]);

        let sources: Vec<_> =
            store.list_documents(KbScope::Global).await.unwrap().into_iter().filter_map(|d| d.source).collect();
        assert!(sources.contains(&"guides/install-linux.txt".to_owned()), "{sources:?}");

        // The same folder, typed another way, with one page changed.
        std::fs::write(dir.path().join("faq.md"), "---\ntitle: Frequently asked\n---\n\nRefunds take 30 days.")
            .unwrap();
        let origin = Origin::Paths(vec![dir.path().join(".")]);
        let again = import(&store, KbScope::Global, &origin, &clock, false).await.unwrap();
        assert_eq!((again.imported, again.replaced), (3, 3), "every source replaced, none copied");
        assert_eq!(store.list_documents(KbScope::Global).await.unwrap().len(), 3);
        let chunks = store.chunks(KbScope::Global).await.unwrap();
        assert!(
            chunks.iter().any(|c| c.text.contains("30 days")) && !chunks.iter().any(|c| c.text.contains("14 days"))
        );
    }

    #[tokio::test]
    async fn with_an_embeddings_model_every_chunk_is_stored_with_its_vector() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("faq.md"), "# Refunds\nRefunds take 14 days.\n\n# Plans\nPro is 5 euros.")
            .unwrap();
        std::fs::write(dir.path().join("install.txt"), "Use apt.").unwrap();
        let (store, clock) = (MemoryStore::default(), ManualClock::at(Timestamp::from_secs(1)));
        let embedder = steward_domain::testing::WordEmbedder::default();
        let origin = Origin::Paths(vec![dir.path().to_path_buf()]);
        let report = import_with(&store, Some(&embedder), KbScope::Global, &origin, &clock, false).await.unwrap();
        assert_eq!(report.imported, 2);
        let chunks = store.chunks(KbScope::Global).await.unwrap();
        assert_eq!(chunks.len(), report.chunks);
        assert!(chunks.iter().all(|c| c.embedding.as_ref().is_some_and(|e| e.model == "word-embedder")));

        embedder.fail(true);
        let error = import_with(&store, Some(&embedder), KbScope::Global, &origin, &clock, false).await.unwrap_err();
        assert!(error.to_string().contains("EMBEDDINGS_MODEL"), "says what to check: {error}");
        assert_eq!(
            store.chunks(KbScope::Global).await.unwrap().len(),
            report.chunks,
            "nothing already imported is lost"
        );
    }

    #[tokio::test]
    async fn imports_a_website_page_by_page() {
        use axum::response::Html;
        use axum::routing::get;
        let site = axum::Router::new()
            .route("/", get(|| async { Html("<html><body><main><h1>Help</h1><p>Start here.</p><a href=\"/refunds\">Refunds</a></main></body></html>") }))
            .route("/refunds", get(|| async { Html("<html><body><main><h1>Refunds</h1><p>Refunds take 14 days.</p></main></body></html>") }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, site).await });
        let store = MemoryStore::default();
        let clock = ManualClock::at(Timestamp::from_secs(1));
        let report = import(&store, KbScope::Global, &Origin::Site(url.clone()), &clock, false).await.unwrap();
        assert_eq!(report.imported, 2, "{report:?}");
        let documents = store.list_documents(KbScope::Global).await.unwrap();
        let refunds = documents.iter().find(|d| d.title == "Refunds").unwrap();
        assert_eq!(refunds.source.as_deref(), Some(url.join("refunds").unwrap().as_str()));
    }

    #[tokio::test]
    async fn a_missing_path_is_an_error_naming_it() {
        let store = MemoryStore::default();
        let clock = ManualClock::at(Timestamp::from_secs(1));
        let origin = Origin::Paths(vec!["/nonexistent/kb".into()]);
        let error = import(&store, KbScope::Global, &origin, &clock, false).await.unwrap_err();
        assert!(error.to_string().contains("/nonexistent/kb"), "{error}");
    }
}
