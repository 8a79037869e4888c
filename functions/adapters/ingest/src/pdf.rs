//! PDF to text: every page's text, and the title from the document information dictionary.

use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Document, Object};
use pdf_extract::{OutputError, PlainTextOutput, output_doc_page};

use crate::{IngestError, IngestedDocument};

/// The longest first line that is taken as a title when the PDF names none.
const MAX_TITLE_CHARS: usize = 200;

/// What went wrong inside a PDF.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The bytes are not a PDF this reader understands.
    #[error("not a readable PDF")]
    Parse(#[source] lopdf::Error),
    /// The PDF is encrypted with a password.
    #[error("the PDF is protected by a password")]
    Encrypted(#[source] lopdf::Error),
    /// A page's content could not be turned into text.
    #[error("cannot extract the text of page {page}")]
    Extract {
        /// The page number, from 1.
        page: u32,
        /// The extractor's error.
        #[source]
        source: OutputError,
    },
    /// The text extractor panicked on a malformed PDF (it asserts on some broken files).
    #[error("the PDF text extractor failed on a malformed PDF: {message}")]
    Malformed {
        /// The extractor's panic message.
        message: String,
    },
}

/// Extracts a PDF's text into a document.
///
/// The title is the information dictionary's `Title`, else the text's first line, else
/// `fallback_title`; `source` is kept as given and names the PDF in errors. Pages are
/// separated by a blank line.
///
/// # Errors
///
/// [`IngestError::Pdf`] when the bytes are not a PDF, the PDF needs a password, or its text
/// cannot be extracted.
pub fn to_document(bytes: &[u8], source: &str, fallback_title: &str) -> Result<IngestedDocument, IngestError> {
    let fail = |cause| IngestError::Pdf { origin: source.to_owned(), source: cause };
    let mut document = Document::load_mem(bytes).map_err(|e| fail(PdfError::Parse(e)))?;
    if document.is_encrypted() {
        // Many PDFs are "encrypted" with an empty user password only to set permissions.
        document.decrypt("").map_err(|e| fail(PdfError::Encrypted(e)))?;
    }

    // pdf-extract asserts on some malformed files; one bad PDF must not end a whole import.
    let pages = catch_unwind(AssertUnwindSafe(|| pages_text(&document)))
        .map_err(|panic| fail(PdfError::Malformed { message: panic_message(panic.as_ref()) }))?
        .map_err(fail)?;
    let body = tidy(&pages);

    let title = info_title(&document)
        .or_else(|| {
            body.lines()
                .map(|l| l.trim().trim_start_matches('\\'))
                .find(|l| !l.is_empty())
                .map(|l| l.chars().take(MAX_TITLE_CHARS).collect())
        })
        .unwrap_or_else(|| fallback_title.to_owned());
    Ok(IngestedDocument { title, source: source.to_owned(), body })
}

/// The raw text of every page, in order.
fn pages_text(document: &Document) -> Result<Vec<String>, PdfError> {
    document
        .get_pages()
        .into_keys()
        .map(|page| {
            let mut text = String::new();
            output_doc_page(document, &mut PlainTextOutput::new(&mut text), page)
                .map_err(|source| PdfError::Extract { page, source })?;
            Ok(text)
        })
        .collect()
}

/// Pages' text as paragraphs: lines trimmed, runs of blank lines collapsed, pages separated by
/// a blank line, and a leading `#` escaped so that no line reads as a Markdown heading.
fn tidy(pages: &[String]) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    for page in pages {
        let mut current: Vec<&str> = Vec::new();
        for line in page.lines().map(str::trim) {
            if line.is_empty() {
                if !current.is_empty() {
                    paragraphs.push(escape(&current));
                    current.clear();
                }
            } else {
                current.push(line);
            }
        }
        if !current.is_empty() {
            paragraphs.push(escape(&current));
        }
    }
    paragraphs.join("\n\n")
}

/// Lines joined, each escaped so that it cannot open a heading or a code fence.
fn escape(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| if l.starts_with('#') || l.starts_with("```") { format!("\\{l}") } else { (*l).to_owned() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `Title` of the document information dictionary, when it has a non-blank one.
fn info_title(document: &Document) -> Option<String> {
    let info = match document.trailer.get(b"Info").ok()? {
        Object::Reference(id) => document.get_object(*id).ok()?,
        direct => direct,
    };
    let title = info.as_dict().ok()?.get(b"Title").ok()?;
    let title = lopdf::decode_text_string(title).ok()?;
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
