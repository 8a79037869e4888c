//! Files and folders: finding the importable files under the given paths, and reading one.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::{IngestError, IngestedDocument, html, pdf};

/// The extensions Steward imports (compared without regard to case).
pub const EXTENSIONS: &[&str] = &["md", "markdown", "txt", "html", "htm", "pdf"];

/// How a file is read, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Markdown or plain text: passed through unchanged.
    Text,
    /// HTML: converted to Markdown.
    Html,
    /// PDF: text extracted.
    Pdf,
}

/// The kind of an importable file, or `None` for any other file.
fn kind(path: &Path) -> Option<Kind> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "md" | "markdown" | "txt" => Some(Kind::Text),
        "html" | "htm" => Some(Kind::Html),
        "pdf" => Some(Kind::Pdf),
        _ => None,
    }
}

/// The importable files under `paths`, in order.
///
/// A file is kept as given; a folder is walked recursively in name order, keeping files with
/// one of the [`EXTENSIONS`] and skipping hidden files and folders (names starting with `.`)
/// and symbolic links to folders (which could loop). A file found twice is listed once.
///
/// # Errors
///
/// [`IngestError::NotFound`] for a path that does not exist, [`IngestError::Unsupported`] for
/// a file given explicitly with another extension, [`IngestError::Io`] for a folder that
/// cannot be listed; each names the path.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut found = Vec::new();
    for path in paths {
        let metadata = fs::metadata(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => IngestError::NotFound { path: path.clone() },
            _ => IngestError::Io { path: path.clone(), source },
        })?;
        if metadata.is_dir() {
            walk(path, &mut found)?;
        } else if kind(path).is_some() {
            found.push(path.clone());
        } else {
            return Err(IngestError::Unsupported { path: path.clone() });
        }
    }
    let mut seen = HashSet::new();
    found.retain(|path| seen.insert(path.clone()));
    Ok(found)
}

/// Adds the importable files under `folder` to `found`, in name order.
fn walk(folder: &Path, found: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let io = |source| IngestError::Io { path: folder.to_path_buf(), source };
    let mut entries = fs::read_dir(folder).map_err(io)?.collect::<Result<Vec<_>, _>>().map_err(io)?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type().map_err(|source| IngestError::Io { path: path.clone(), source })?;
        if file_type.is_dir() {
            walk(&path, found)?;
        } else if kind(&path).is_some() && (file_type.is_file() || path.is_file()) {
            found.push(path);
        }
    }
    Ok(())
}

/// Reads one file into a document, by its extension.
///
/// `.md`, `.markdown` and `.txt` files are returned unchanged (less a UTF-8 byte-order mark)
/// and titled by their file stem: the domain reads Markdown and its front matter itself.
/// HTML is converted to Markdown and PDF text extracted, each titled by its own title when it
/// has one. The source is the path as given.
///
/// # Errors
///
/// [`IngestError::Unsupported`] for another extension, [`IngestError::Io`] when the file
/// cannot be read, [`IngestError::NotUtf8`] for Markdown or text that is not UTF-8, and
/// [`IngestError::Pdf`] for a PDF whose text cannot be extracted; each names the file.
pub fn read(path: &Path) -> Result<IngestedDocument, IngestError> {
    let kind = kind(path).ok_or_else(|| IngestError::Unsupported { path: path.to_path_buf() })?;
    let bytes = fs::read(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
    let source = path.to_string_lossy().into_owned();
    let stem =
        path.file_stem().map_or_else(|| source.clone(), |s| crate::document::title_from_name(&s.to_string_lossy()));
    match kind {
        Kind::Text => {
            let text =
                String::from_utf8(bytes).map_err(|source| IngestError::NotUtf8 { path: path.to_path_buf(), source })?;
            let body = text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text);
            Ok(IngestedDocument { title: stem, source, body })
        }
        Kind::Html => Ok(html::to_document(&html::decode(&bytes, None), &source, &stem)),
        Kind::Pdf => pdf::to_document(&bytes, &source, &stem),
    }
}
