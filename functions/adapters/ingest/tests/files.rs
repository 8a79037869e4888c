//! Files and folders: what `collect` keeps, and what `read` makes of each kind of file.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::make_pdf;
use steward_ingest::{IngestError, collect, read};

/// Writes `contents` at `root/relative`, creating folders.
fn write(root: &Path, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().expect("has a parent")).expect("create folders");
    fs::write(&path, contents).expect("write file");
    path
}

#[test]
fn folders_are_walked_in_order_keeping_importable_visible_files() {
    // GIVEN a knowledge-base folder with hidden entries and files of other kinds
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for file in [
        "b.md",
        "a.txt",
        "guides/setup.HTML",
        "guides/faq.markdown",
        "guides/old/manual.pdf",
        "z.htm",
        "notes.docx",
        "image.png",
        ".hidden.md",
        ".git/config.md",
        "guides/.drafts/wip.md",
        "no-extension",
    ] {
        write(root, file, "x");
    }

    // WHEN it is collected
    let found = collect(&[root.to_path_buf()]).expect("collects");

    // THEN only the importable, visible files remain, sorted within each folder
    let names: Vec<String> =
        found.iter().map(|p| p.strip_prefix(root).expect("under root").to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["a.txt", "b.md", "guides/faq.markdown", "guides/old/manual.pdf", "guides/setup.HTML", "z.htm"]);
}

#[test]
fn files_given_explicitly_are_kept_in_order_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = write(dir.path(), "policy.md", "# Policy");
    let hidden = write(dir.path(), ".internal.txt", "kept: it was named");

    let found = collect(&[policy.clone(), hidden.clone(), dir.path().to_path_buf()]).expect("collects");

    assert_eq!(found, [policy, hidden], "the folder adds nothing new and no hidden file");
}

#[test]
fn missing_and_unsupported_paths_are_errors_naming_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope");
    let docx = write(dir.path(), "report.docx", "x");

    let err = collect(std::slice::from_ref(&missing)).expect_err("missing");
    assert!(matches!(&err, IngestError::NotFound { path } if *path == missing), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");

    let err = collect(std::slice::from_ref(&docx)).expect_err("unsupported");
    assert!(matches!(&err, IngestError::Unsupported { path } if *path == docx), "{err:?}");
    assert!(err.to_string().contains("report.docx"), "{err}");

    let err = read(&docx).expect_err("unsupported");
    assert!(matches!(err, IngestError::Unsupported { .. }), "{err:?}");
}

#[test]
fn markdown_and_text_are_passed_through_unchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let markdown = "---\ntitle: Refunds\n---\n# Refunds\n\nFive   days.\n";
    let md = write(dir.path(), "refunds.md", markdown);
    let bom = write(dir.path(), "bom.markdown", "\u{feff}---\ntitle: x\n---\n");
    let txt = write(dir.path(), "hours.txt", "Open 9-5.\n# not a heading here\n");

    let doc = read(&md).expect("reads");
    assert_eq!(doc.title, "refunds");
    assert_eq!(doc.source, md.to_string_lossy());
    assert_eq!(doc.body, markdown);

    assert_eq!(read(&bom).expect("reads").body, "---\ntitle: x\n---\n", "a byte-order mark is dropped");

    let doc = read(&txt).expect("reads");
    assert_eq!(doc.title, "hours");
    assert_eq!(doc.body, "Open 9-5.\n# not a heading here\n");
}

#[test]
fn text_that_is_not_utf8_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let latin1 = write(dir.path(), "caf\u{e9}.txt", b"caf\xe9");

    let err = read(&latin1).expect_err("not UTF-8");

    assert!(matches!(err, IngestError::NotUtf8 { .. }), "{err:?}");
    assert!(err.to_string().contains("café.txt"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn html_files_are_converted_and_titled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let titled = write(
        dir.path(),
        "shipping.html",
        "<html><head><title>Shipping</title></head><body><nav>Home</nav><p>We ship <b>worldwide</b>.</p></body></html>",
    );
    let untitled = write(dir.path(), "returns.htm", "<p>Returns within 30 days.</p>");

    let doc = read(&titled).expect("reads");
    assert_eq!(doc.title, "Shipping");
    assert_eq!(doc.body, "We ship worldwide.");
    assert_eq!(doc.source, titled.to_string_lossy());

    let doc = read(&untitled).expect("reads");
    assert_eq!(doc.title, "returns", "the file stem when the page has no title");
    assert_eq!(doc.body, "Returns within 30 days.");
}

#[test]
fn pdf_files_are_extracted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(dir.path(), "manual.pdf", make_pdf(Some("Manual"), &[&["Press the button."]]));

    let doc = read(&path).expect("reads");

    assert_eq!(doc.title, "Manual");
    assert_eq!(doc.body, "Press the button.");
    assert_eq!(doc.source, path.to_string_lossy());
}

#[test]
fn a_broken_pdf_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(dir.path(), "broken.pdf", "not a pdf");

    let err = read(&path).expect_err("broken");

    assert!(matches!(err, IngestError::Pdf { .. }), "{err:?}");
    assert!(err.to_string().contains("broken.pdf"), "{err}");
}
