//! The one output type every importer produces.

/// One document ready for the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestedDocument {
    /// Title: HTML `<title>`/first `<h1>`, PDF metadata title or first line, file stem as last
    /// resort.
    pub title: String,
    /// Where it came from: a file path (as given) or the page URL without its fragment.
    /// Re-importing the same source replaces the document, so this is stable.
    pub source: String,
    /// The content as Markdown (or the file's text unchanged for `.md`, `.markdown` and `.txt`).
    pub body: String,
}

/// A title made from a file or page name: `install-on-linux` reads `install on linux`.
pub(crate) fn title_from_name(name: &str) -> String {
    name.replace("%20", " ").replace(['-', '_'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_words() {
        assert_eq!(title_from_name("install-on_linux"), "install on linux");
        assert_eq!(title_from_name("My%20Guide"), "My Guide");
    }
}
