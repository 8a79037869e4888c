//! PDF extraction: text of every page, the info-dictionary title, errors that name the source.

mod common;

use common::make_pdf;
use steward_ingest::{IngestError, PdfError, pdf};

#[test]
fn text_of_every_page_and_the_info_title() {
    let bytes = make_pdf(
        Some("Steward Operator Guide"),
        &[&["Welcome to Steward", "It answers questions."], &["# Second page", "Refunds take five days."]],
    );

    let doc = pdf::to_document(&bytes, "guide.pdf", "guide").expect("PDF reads");

    assert_eq!(doc.title, "Steward Operator Guide");
    assert_eq!(doc.source, "guide.pdf");
    for text in ["Welcome to Steward", "It answers questions.", "Refunds take five days."] {
        assert!(doc.body.contains(text), "{text:?} missing from {:?}", doc.body);
    }
    assert!(doc.body.contains("\\# Second page"), "a # line is not a heading: {:?}", doc.body);
    let first = doc.body.find("Welcome").expect("page 1");
    let second = doc.body.find("Refunds").expect("page 2");
    assert!(first < second, "pages in order");
    assert!(!doc.body.contains("\n\n\n"), "no runs of blank lines: {:?}", doc.body);
}

#[test]
fn without_info_title_the_first_line_is_the_title() {
    let bytes = make_pdf(None, &[&["Refund policy", "Refunds take five days."]]);

    let doc = pdf::to_document(&bytes, "policy.pdf", "policy").expect("PDF reads");

    assert_eq!(doc.title, "Refund policy");
}

#[test]
fn an_empty_pdf_is_titled_by_the_fallback() {
    let bytes = make_pdf(Some("   "), &[&[]]);

    let doc = pdf::to_document(&bytes, "blank.pdf", "blank").expect("PDF reads");

    assert_eq!(doc.title, "blank");
    assert_eq!(doc.body, "");
}

#[test]
fn bytes_that_are_not_a_pdf_are_an_error_naming_the_source() {
    let err = pdf::to_document(b"<html>not a pdf</html>", "https://example.com/a.pdf", "a").expect_err("not a PDF");

    assert!(matches!(err, IngestError::Pdf { source: PdfError::Parse(_), .. }), "{err:?}");
    assert!(err.to_string().contains("https://example.com/a.pdf"), "{err}");
    assert!(std::error::Error::source(&err).is_some(), "the cause is kept");
    assert!(!err.is_retryable());
}

#[test]
fn a_truncated_pdf_is_an_error_not_a_panic() {
    let bytes = make_pdf(Some("Cut"), &[&["Some text"]]);

    let result = pdf::to_document(&bytes[..bytes.len() / 2], "cut.pdf", "cut");

    // lopdf may recover a truncated file; what matters is that it never panics.
    if let Err(err) = result {
        assert!(matches!(err, IngestError::Pdf { .. }), "{err:?}");
    }
}

#[test]
fn a_pdf_that_makes_the_extractor_panic_is_a_malformed_error() {
    // GIVEN a PDF whose pages have no MediaBox (pdf-extract asserts one exists)
    let mut document = lopdf::Document::load_mem(&make_pdf(None, &[&["text"]])).expect("test PDF loads");
    for object in document.objects.values_mut() {
        if let Ok(dictionary) = object.as_dict_mut() {
            dictionary.remove(b"MediaBox");
        }
    }
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).expect("PDF saves");

    // WHEN it is read
    let err = pdf::to_document(&bytes, "broken.pdf", "broken").expect_err("no MediaBox");

    // THEN the panic became an error naming the file
    assert!(matches!(err, IngestError::Pdf { source: PdfError::Malformed { .. }, .. }), "{err:?}");
    assert!(err.to_string().contains("broken.pdf"), "{err}");
}
