//! `steward kb import`: loads Markdown and text files into the knowledge base.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::ids::DocumentId;
use steward_domain::knowledge::{KbScope, NewDocument};
use steward_domain::ports::KnowledgeStore;

/// File endings that are imported.
pub const EXTENSIONS: &[&str] = &["md", "markdown", "mdx", "txt", "text", "rst"];

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Documents stored.
    pub imported: usize,
    /// Chunks stored.
    pub chunks: usize,
    /// Files skipped, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Every importable file under `paths` (files as given, folders walked), sorted.
///
/// # Errors
/// Returns an error for a path that does not exist or a folder that cannot be read.
pub fn collect_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// The document title: the first Markdown `# ` heading, else the file name without extension.
#[must_use]
pub fn title_of(path: &Path, body: &str) -> String {
    body.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("# ").map(str::trim).filter(|t| !t.is_empty()))
        .map(str::to_owned)
        .unwrap_or_else(|| path.file_stem().and_then(|s| s.to_str()).unwrap_or("document").replace(['-', '_'], " "))
}

/// Imports `files` into `scope`, showing a progress bar on a terminal.
///
/// # Errors
/// Returns the store's error; unreadable or invalid files are skipped and reported instead.
pub async fn import(
    store: &dyn KnowledgeStore,
    scope: KbScope,
    files: &[PathBuf],
    show_progress: bool,
) -> Result<ImportReport, steward_domain::ports::StoreError> {
    let bar = if show_progress { ProgressBar::new(files.len() as u64) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    let mut report = ImportReport::default();
    for path in files {
        bar.set_message(path.display().to_string());
        let body = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => {
                report.skipped.push((path.clone(), "not UTF-8 text".into()));
                bar.inc(1);
                continue;
            }
            Err(e) => {
                report.skipped.push((path.clone(), e.to_string()));
                bar.inc(1);
                continue;
            }
        };
        let source = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
        let new = NewDocument { title: title_of(path, &body), source, body };
        match new.into_parts(DocumentId::generate(), SystemClock.now()) {
            Ok((document, chunks)) => {
                store.put_document(scope, &document, &chunks).await?;
                report.imported += 1;
                report.chunks += chunks.len();
            }
            Err(e) => report.skipped.push((path.clone(), e.to_string())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_embedded::SqliteStore;

    #[tokio::test]
    async fn imports_a_folder_recursively_and_skips_what_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("faq.md"), "# Frequently asked\n\nRefunds take 14 days.").unwrap();
        std::fs::create_dir(dir.path().join("guides")).unwrap();
        std::fs::write(dir.path().join("guides/install-linux.txt"), "Use apt.").unwrap();
        std::fs::write(dir.path().join("guides/empty.md"), "\n").unwrap();
        std::fs::write(dir.path().join("logo.png"), [0u8, 1, 2]).unwrap();
        std::fs::write(dir.path().join(".hidden.md"), "secret").unwrap();
        let files = collect_files(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(files.len(), 3, "{files:?}");

        let store = SqliteStore::in_memory().unwrap();
        let report = import(&store, KbScope::Global, &files, false).await.unwrap();
        assert_eq!(report.imported, 2);
        assert_eq!(report.skipped.len(), 1);
        let mut titles: Vec<_> =
            store.list_documents(KbScope::Global).await.unwrap().into_iter().map(|d| d.title).collect();
        titles.sort();
        assert_eq!(titles, ["Frequently asked", "install linux"]);
    }

    #[test]
    fn missing_paths_are_errors_that_name_the_path() {
        let error = collect_files(&[PathBuf::from("/nonexistent/kb")]).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/kb"));
    }
}
