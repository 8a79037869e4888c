//! The error every importer returns: it names the file or URL and keeps its cause.

use std::path::PathBuf;

use url::Url;

use crate::pdf::PdfError;

/// Why a file, folder or website could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A file or folder could not be read or listed.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or folder, as given or as found while walking.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A path given explicitly does not exist.
    #[error("{} does not exist", path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A file given explicitly has an extension Steward cannot import.
    #[error(
        "{} is not a file Steward can import (expected .md, .markdown, .txt, .html, .htm or .pdf)",
        path.display()
    )]
    Unsupported {
        /// The file as given.
        path: PathBuf,
    },
    /// A Markdown or text file is not UTF-8.
    #[error("{} is not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where the first invalid byte is.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// A PDF (file or page) could not be read.
    #[error("cannot extract the text of the PDF {origin}")]
    Pdf {
        /// The file path or URL of the PDF.
        origin: String,
        /// What went wrong inside the PDF.
        #[source]
        source: PdfError,
    },
    /// The start URL cannot be crawled (not `http`/`https`, or no host).
    #[error("cannot crawl {url}: only http and https URLs with a host can be crawled")]
    InvalidStart {
        /// The start URL as given.
        url: Url,
    },
    /// The HTTP client could not be built (for example, no TLS backend).
    #[error("cannot build the HTTP client for crawling")]
    Client {
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The site could not be reached at all (its `robots.txt` request failed below HTTP).
    #[error("cannot reach {url}")]
    Unreachable {
        /// The URL that was requested.
        url: Url,
        /// The transport error (connect, DNS, TLS, timeout).
        #[source]
        source: reqwest::Error,
    },
}

impl IngestError {
    /// Whether trying the same import again later may succeed (a network failure), as opposed
    /// to a mistake in what was given or a broken file.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted | std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
            Self::NotFound { .. }
            | Self::Unsupported { .. }
            | Self::NotUtf8 { .. }
            | Self::Pdf { .. }
            | Self::InvalidStart { .. }
            | Self::Client { .. } => false,
        }
    }
}
