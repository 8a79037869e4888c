//! Steward's knowledge-base importers: files, folders and same-host web crawls into documents.
//!
//! Everything an operator hands to `steward kb import` ends up as an [`IngestedDocument`]: a
//! title, a stable source (the path as given, or the page URL) and a Markdown body.
//!
//! - [`files::collect`] walks folders and keeps the file types Steward can import;
//!   [`files::read`] turns one file into a document, dispatching on its extension.
//! - [`html::to_document`] turns an HTML page into Markdown, keeping the main content and
//!   dropping navigation, headers, footers, scripts and styles.
//! - [`pdf::to_document`] extracts a PDF's text and title.
//! - [`crawl::crawl`] fetches a website from a start URL: same host only, `robots.txt`
//!   honoured, `sitemap.xml` preferred over following links, with page, depth and size limits.
//!
//! Markdown files are not converted here: the domain parses Markdown (and front matter) itself,
//! so their text is passed through unchanged.
//!
//! This crate depends on no other Steward crate; the CLI maps [`IngestedDocument`] into the
//! domain's types.

pub mod crawl;
mod document;
mod error;
pub mod files;
pub mod html;
pub mod pdf;

pub use crawl::{CrawlEvent, CrawlOptions, CrawlReport, USER_AGENT_TOKEN, crawl};
pub use document::IngestedDocument;
pub use error::IngestError;
pub use files::{collect, read};
pub use pdf::PdfError;
