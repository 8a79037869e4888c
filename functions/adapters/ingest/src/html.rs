//! HTML to Markdown: the page's main content, without navigation, scripts and other boilerplate.
//!
//! The content root is the page's `<main>` (or `role="main"`), else its only `<article>`, else
//! its `<body>`. Inside it, `nav`, `aside`, `footer`, `script`, `style`, `noscript`, `form` and
//! their ARIA equivalents are dropped, and so is a page-level `header`; a `header` inside a
//! `main` or `article` is the content's own header (it usually holds the `<h1>`) and is kept.

use encoding_rs::{Encoding, WINDOWS_1252};
use scraper::{ElementRef, Html, Node};
use url::Url;

use crate::IngestedDocument;

/// Elements whose whole subtree is never content.
const DROPPED: &[&str] = &[
    "nav", "aside", "footer", "script", "style", "noscript", "form", "template", "svg", "math", "canvas", "iframe",
    "object", "embed", "button", "select", "textarea", "input", "dialog", "audio", "video", "head", "link", "meta",
];

/// ARIA roles that mark the same boilerplate as the elements above.
const DROPPED_ROLES: &[&str] = &["navigation", "banner", "contentinfo", "complementary", "search", "dialog"];

/// Alt texts that say nothing about the image.
const MEANINGLESS_ALT: &[&str] =
    &["image", "img", "logo", "icon", "photo", "picture", "banner", "spacer", "screenshot"];

/// Converts an HTML page into a document.
///
/// The title is the page's `<title>`, else its first `<h1>`, else `fallback_title`; `source`
/// is kept as given.
#[must_use]
pub fn to_document(html: &str, source: &str, fallback_title: &str) -> IngestedDocument {
    let page = Html::parse_document(html);
    document_of(&page, source, fallback_title)
}

/// Converts an HTML page (or fragment) into Markdown, keeping only its main content.
#[must_use]
pub fn to_markdown(html: &str) -> String {
    let page = Html::parse_document(html);
    markdown_of(&page)
}

/// What the crawler needs from one fetched page, taken from a single parse.
pub(crate) struct CrawledPage {
    /// The page as a document.
    pub document: IngestedDocument,
    /// Every `<a href>`/`<area href>` of the whole page (navigation included), resolved.
    pub links: Vec<Url>,
    /// `<meta name="robots" content="noindex">`: the page must not be stored.
    pub noindex: bool,
    /// `<meta name="robots" content="nofollow">`: the page's links must not be followed.
    pub nofollow: bool,
}

/// Parses a fetched page once for its document, its links and its robots meta tags.
pub(crate) fn crawled_page(html: &str, url: &Url, fallback_title: &str) -> CrawledPage {
    let page = Html::parse_document(html);
    let document = document_of(&page, url.as_str(), fallback_title);
    let root = page.root_element();

    let base = root
        .descendent_elements()
        .find(|e| e.value().name() == "base")
        .and_then(|e| e.attr("href"))
        .and_then(|href| url.join(href.trim()).ok())
        .unwrap_or_else(|| url.clone());
    let links = root
        .descendent_elements()
        .filter(|e| matches!(e.value().name(), "a" | "area"))
        .filter_map(|e| e.attr("href"))
        .filter_map(|href| base.join(href.trim()).ok())
        .collect();

    let (mut noindex, mut nofollow) = (false, false);
    for meta in root.descendent_elements().filter(|e| e.value().name() == "meta") {
        let name = meta.attr("name").unwrap_or_default().to_ascii_lowercase();
        if name != "robots" && name != crate::crawl::USER_AGENT_TOKEN.to_ascii_lowercase() {
            continue;
        }
        for directive in meta.attr("content").unwrap_or_default().split(',') {
            match directive.trim().to_ascii_lowercase().as_str() {
                "noindex" => noindex = true,
                "nofollow" => nofollow = true,
                "none" => (noindex, nofollow) = (true, true),
                _ => {}
            }
        }
    }

    CrawledPage { document, links, noindex, nofollow }
}

/// Decodes an HTML page's bytes: a byte-order mark wins, then the charset its transport
/// declared (the HTTP `Content-Type`), then UTF-8 when the bytes are valid UTF-8, then the
/// page's own `<meta charset>`, and windows-1252 (the web's legacy default) for anything else.
pub(crate) fn decode(bytes: &[u8], declared: Option<&str>) -> String {
    let label = |name: &str| Encoding::for_label(name.trim().as_bytes());
    if let Some(encoding) = declared.and_then(label) {
        return encoding.decode(bytes).0.into_owned();
    }
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding.decode(bytes).0.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    // The page is not UTF-8: its markup is ASCII in any charset a meta tag can name, so a
    // lossy parse is enough to read that tag.
    let lossy = String::from_utf8_lossy(bytes);
    let page = Html::parse_document(&lossy);
    let meta = page.root_element().descendent_elements().filter(|e| e.value().name() == "meta").find_map(|meta| {
        meta.attr("charset").and_then(label).or_else(|| {
            let content_type = meta.attr("http-equiv").is_some_and(|h| h.eq_ignore_ascii_case("content-type"));
            let content = meta.attr("content").filter(|_| content_type)?;
            let (_, charset) = content.split_once("charset=").or_else(|| content.split_once("CHARSET="))?;
            label(charset.split(';').next().unwrap_or_default().trim_matches(['"', '\'', ' ']))
        })
    });
    meta.unwrap_or(WINDOWS_1252).decode(bytes).0.into_owned()
}

/// The document of a parsed page.
fn document_of(page: &Html, source: &str, fallback_title: &str) -> IngestedDocument {
    let body = markdown_of(page);
    let title = title_of(page, &body).unwrap_or_else(|| fallback_title.to_owned());
    IngestedDocument { title, source: source.to_owned(), body }
}

/// The page's `<title>` in its head, else the first `<h1>` of its content, else its first
/// `<h1>` anywhere.
fn title_of(page: &Html, body: &str) -> Option<String> {
    let root = page.root_element();
    let in_head = root
        .descendent_elements()
        .filter(|e| e.value().name() == "title")
        .find(|e| e.parent().and_then(ElementRef::wrap).is_some_and(|p| p.value().name() == "head"))
        .map(|e| collapse_whitespace(&e.text().collect::<String>()));
    let content_h1 = || body.lines().find_map(|l| l.strip_prefix("# ")).map(str::to_owned);
    in_head.filter(|t| !t.is_empty()).or_else(content_h1).or_else(|| {
        root.descendent_elements()
            .filter(|e| e.value().name() == "h1")
            .map(|h1| {
                let mut blocks = Blocks::default();
                blocks.children(h1, Context { in_content: true });
                single_line(&blocks.finish())
            })
            .find(|t| !t.is_empty())
    })
}

/// The Markdown of a parsed page's main content.
fn markdown_of(page: &Html) -> String {
    let root = page.root_element();
    let (content, in_content) = content_root(root);
    let mut blocks = Blocks::default();
    blocks.children(content, Context { in_content });
    blocks.finish().join("\n\n")
}

/// Picks the element holding the page's content, and whether it is a `main`/`article`.
fn content_root(root: ElementRef<'_>) -> (ElementRef<'_>, bool) {
    let usable = |e: &ElementRef<'_>| !is_dropped(*e, Context { in_content: false });
    if let Some(main) = root
        .descendent_elements()
        .filter(usable)
        .find(|e| e.value().name() == "main" || e.attr("role").is_some_and(|r| r.eq_ignore_ascii_case("main")))
    {
        return (main, true);
    }
    let mut articles = root.descendent_elements().filter(|e| e.value().name() == "article").filter(usable);
    if let (Some(article), None) = (articles.next(), articles.next()) {
        return (article, true);
    }
    let body = root.descendent_elements().find(|e| e.value().name() == "body").unwrap_or(root);
    (body, false)
}

/// Where in the page the walk is.
#[derive(Clone, Copy)]
struct Context {
    /// Inside a `main` or `article`, where a `header` is the content's own.
    in_content: bool,
}

/// Whether an element's whole subtree is boilerplate.
fn is_dropped(element: ElementRef<'_>, context: Context) -> bool {
    let name = element.value().name();
    if DROPPED.contains(&name) || (name == "header" && !context.in_content) {
        return true;
    }
    if element.attr("hidden").is_some() || element.attr("aria-hidden").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return true;
    }
    element.attr("role").is_some_and(|role| DROPPED_ROLES.iter().any(|r| role.eq_ignore_ascii_case(r)))
}

/// Markdown blocks being built, and the paragraph currently being filled.
#[derive(Default)]
struct Blocks {
    /// Finished blocks, in order.
    done: Vec<String>,
    /// The open paragraph's text; `\n` only for `<br>`.
    open: String,
}

impl Blocks {
    /// Renders an element's children into these blocks.
    fn children(&mut self, element: ElementRef<'_>, context: Context) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.text(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.element(child, context);
                    }
                }
                _ => {}
            }
        }
    }

    /// Renders one element.
    fn element(&mut self, element: ElementRef<'_>, context: Context) {
        if is_dropped(element, context) {
            return;
        }
        let name = element.value().name();
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = usize::from(name.as_bytes()[1] - b'0');
                let text = self.nested(element, context);
                let text = single_line(&text);
                if !text.is_empty() {
                    self.block(format!("{} {text}", "#".repeat(level)));
                }
            }
            "pre" => {
                let code = code_block(element);
                self.block(code);
            }
            "ul" | "ol" | "menu" => {
                let list = self.list(element, context);
                self.block(list);
            }
            "table" => {
                let table = self.table(element, context);
                self.block(table);
            }
            "blockquote" => {
                let inner = self.nested(element, context);
                let quoted = inner
                    .iter()
                    .map(|b| b.lines().map(|l| if l.is_empty() { ">".to_owned() } else { format!("> {l}") }))
                    .map(|lines| lines.collect::<Vec<_>>().join("\n"))
                    .collect::<Vec<_>>()
                    .join("\n>\n");
                self.block(quoted);
            }
            "br" => self.open.push('\n'),
            "hr" => self.end_paragraph(),
            "img" => {
                if let Some(alt) = element.attr("alt").map(collapse_whitespace).filter(|alt| meaningful_alt(alt)) {
                    self.text(&alt);
                }
            }
            "a" if is_permalink(element) => {}
            "code" | "kbd" | "samp" => {
                let code = collapse_whitespace(&element.text().collect::<String>());
                if !code.is_empty() {
                    self.inline_code(&code);
                }
            }
            "main" | "article" | "header" => {
                self.end_paragraph();
                self.children(element, Context { in_content: true });
                self.end_paragraph();
            }
            "p" | "div" | "section" | "body" | "html" | "figure" | "figcaption" | "details" | "summary" | "dl"
            | "dt" | "dd" | "address" | "center" | "hgroup" | "li" | "fieldset" | "caption" | "picture" => {
                self.end_paragraph();
                self.children(element, context);
                self.end_paragraph();
            }
            _ => self.children(element, context),
        }
    }

    /// Renders an element's children into their own blocks.
    fn nested(&self, element: ElementRef<'_>, context: Context) -> Vec<String> {
        let mut inner = Blocks::default();
        inner.children(element, context);
        inner.finish()
    }

    /// A list as `- ` items, nested lists indented under their item.
    fn list(&self, list: ElementRef<'_>, context: Context) -> String {
        let mut items = Vec::new();
        for item in list.child_elements().filter(|e| !is_dropped(*e, context)) {
            let blocks = if item.value().name() == "li" {
                self.nested(item, context)
            } else {
                let mut inner = Blocks::default();
                inner.element(item, context);
                inner.finish()
            };
            let text = blocks.join("\n");
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let Some(first) = lines.next() else { continue };
            let mut rendered = format!("- {first}");
            for line in lines {
                rendered.push_str("\n  ");
                rendered.push_str(line);
            }
            items.push(rendered);
        }
        items.join("\n")
    }

    /// A table as one line per row, cells separated by ` | `.
    fn table(&self, table: ElementRef<'_>, context: Context) -> String {
        let mut rows = Vec::new();
        let sections = std::iter::once(table)
            .chain(table.child_elements().filter(|e| matches!(e.value().name(), "thead" | "tbody" | "tfoot")));
        for row in sections.flat_map(|s| s.child_elements()).filter(|e| e.value().name() == "tr") {
            let cells: Vec<String> = row
                .child_elements()
                .filter(|e| matches!(e.value().name(), "td" | "th"))
                .map(|cell| single_line(&self.nested(cell, context)))
                .collect();
            if cells.iter().any(|c| !c.is_empty()) {
                rows.push(escape_line(&cells.join(" | ")));
            }
        }
        let caption = table.child_elements().find(|e| e.value().name() == "caption");
        if let Some(caption) = caption.map(|c| single_line(&self.nested(c, context))).filter(|c| !c.is_empty()) {
            rows.insert(0, escape_line(&caption));
        }
        rows.join("\n")
    }

    /// Appends text to the open paragraph, collapsing whitespace as a browser does.
    fn text(&mut self, text: &str) {
        for (i, word) in text.split(is_html_space).enumerate() {
            if i > 0 && !self.open.is_empty() && !self.open.ends_with([' ', '\n']) {
                self.open.push(' ');
            }
            self.open.push_str(word);
        }
    }

    /// Appends inline code, in as many backticks as it needs.
    fn inline_code(&mut self, code: &str) {
        let fence = "`".repeat(longest_run(code, '`') + 1);
        let pad = if code.starts_with('`') || code.ends_with('`') { " " } else { "" };
        self.open.push_str(&format!("{fence}{pad}{code}{pad}{fence}"));
    }

    /// Closes the open paragraph, if it has any text.
    fn end_paragraph(&mut self) {
        let open = std::mem::take(&mut self.open);
        let lines: Vec<String> = open.split('\n').map(str::trim).filter(|l| !l.is_empty()).map(escape_line).collect();
        if !lines.is_empty() {
            self.done.push(lines.join("\n"));
        }
    }

    /// Adds a finished block after the open paragraph.
    fn block(&mut self, block: String) {
        self.end_paragraph();
        if !block.trim().is_empty() {
            self.done.push(block);
        }
    }

    /// The finished blocks.
    fn finish(mut self) -> Vec<String> {
        self.end_paragraph();
        self.done
    }
}

/// A `<pre>` as a fenced code block, with the language of a `language-*`/`lang-*` class.
fn code_block(pre: ElementRef<'_>) -> String {
    let code: String = pre.text().collect();
    let code = code.trim_start_matches(['\n', '\r']).trim_end();
    let language = std::iter::once(pre)
        .chain(pre.child_elements().filter(|e| e.value().name() == "code"))
        .flat_map(|e| e.value().classes())
        .find_map(|class| class.strip_prefix("language-").or_else(|| class.strip_prefix("lang-")))
        .unwrap_or_default();
    let fence = "`".repeat(longest_run(code, '`').max(2) + 1);
    format!("{fence}{language}\n{code}\n{fence}")
}

/// Whether a link is a heading's permalink marker (`¶`, `#`, `§`), not content.
fn is_permalink(link: ElementRef<'_>) -> bool {
    link.attr("href").is_some_and(|href| href.starts_with('#'))
        && !link.text().flat_map(str::chars).any(char::is_alphanumeric)
        && !link.descendent_elements().any(|e| e.value().name() == "img")
}

/// Whether an image's alt text tells the reader something.
fn meaningful_alt(alt: &str) -> bool {
    let lower = alt.to_lowercase();
    let looks_like_file = [".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"].iter().any(|ext| lower.ends_with(ext));
    alt.chars().any(char::is_alphanumeric) && !looks_like_file && !MEANINGLESS_ALT.contains(&lower.as_str())
}

/// Escapes what would make a plain text line read as a Markdown block (heading, list, quote,
/// fence).
fn escape_line(line: &str) -> String {
    let trimmed = line.trim();
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    let ordered = digits > 0 && trimmed[digits..].starts_with(['.', ')']);
    let marker = trimmed.starts_with(['#', '>'])
        || trimmed.starts_with("```")
        || trimmed.starts_with("~~~")
        || ["- ", "* ", "+ "].iter().any(|m| trimmed.starts_with(m))
        || matches!(trimmed, "-" | "*" | "+" | "---" | "***" | "===");
    if ordered {
        format!("{}\\{}", &trimmed[..digits], &trimmed[digits..])
    } else if marker {
        format!("\\{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// Blocks joined into one line, for headings and table cells.
fn single_line(blocks: &[String]) -> String {
    collapse_whitespace(&blocks.join(" "))
}

/// Runs of whitespace as single spaces, trimmed.
fn collapse_whitespace(text: &str) -> String {
    text.split(is_html_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Whitespace as HTML collapses it (ASCII whitespace; a non-breaking space is kept).
fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C')
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    text.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS_PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Installing Steward — Steward docs</title>
  <link rel="stylesheet" href="/style.css">
  <style>body { font-family: sans-serif; }</style>
  <script>window.analytics = {};</script>
</head>
<body>
  <header class="site-header">
    <a href="/"><img src="/logo.png" alt="logo"> Steward</a>
    <nav><ul><li><a href="/docs">Docs</a></li><li><a href="/blog">Blog</a></li></ul></nav>
  </header>
  <div class="layout">
    <aside class="sidebar"><ul><li><a href="/docs/intro">Introduction</a></li></ul></aside>
    <main>
      <article>
        <header><h1>Installing <code>steward</code> <a class="headerlink" href="#install">¶</a></h1></header>
        <p>Steward runs on any   Linux host.
           Read the <a href="/docs/requirements">requirements</a> first.</p>
        <h2 id="download">Download</h2>
        <p>Fetch the release:</p>
        <pre><code class="language-sh">curl -LO https://example.com/steward.tar.gz
tar xf steward.tar.gz
</code></pre>
        <ol>
          <li>Unpack it.</li>
          <li>Run <code>steward init</code>:
            <ul><li>it writes <em>steward.toml</em></li></ul>
          </li>
        </ol>
        <h3>Supported systems</h3>
        <table>
          <thead><tr><th>System</th><th>Architecture</th></tr></thead>
          <tbody>
            <tr><td>Debian 12</td><td>x86_64, arm64</td></tr>
            <tr><td>Ubuntu 24.04</td><td>x86_64</td></tr>
          </tbody>
        </table>
        <p><img src="/diagram.png" alt="Steward answering a question in a Discord channel"></p>
        <p><img src="/spacer.gif" alt=""><img src="/img/arrow.png" alt="arrow.png"></p>
        <form><input type="search" placeholder="Search"><button>Go</button></form>
        <footer>Last edited by someone</footer>
      </article>
    </main>
  </div>
  <footer class="site-footer"><p>© 2025 Steward</p><a href="/privacy">Privacy</a></footer>
  <script src="/app.js"></script>
</body>
</html>"##;

    #[test]
    fn a_docs_page_keeps_its_article_as_markdown() {
        let doc = to_document(DOCS_PAGE, "https://docs.example.com/install", "install");

        assert_eq!(doc.title, "Installing Steward — Steward docs");
        assert_eq!(doc.source, "https://docs.example.com/install");
        let expected = "\
# Installing `steward`

Steward runs on any Linux host. Read the requirements first.

## Download

Fetch the release:

```sh
curl -LO https://example.com/steward.tar.gz
tar xf steward.tar.gz
```

- Unpack it.
- Run `steward init`:
  - it writes steward.toml

### Supported systems

System | Architecture
Debian 12 | x86_64, arm64
Ubuntu 24.04 | x86_64

Steward answering a question in a Discord channel";
        assert_eq!(doc.body, expected);
    }

    #[test]
    fn boilerplate_never_reaches_the_body() {
        let body = to_markdown(DOCS_PAGE);

        for boilerplate in ["Blog", "Introduction", "©", "Privacy", "analytics", "font-family", "Search", "Go", "logo"]
        {
            assert!(!body.contains(boilerplate), "{boilerplate:?} leaked into:\n{body}");
        }
        assert!(!body.contains("Last edited"), "the article's footer is boilerplate too");
        assert!(!body.contains("http") || body.contains("curl -LO https"), "no URL outside code");
        assert!(!body.contains('¶'));
    }

    #[test]
    fn without_main_the_body_is_used_and_page_header_dropped() {
        let html = r#"<html><body>
            <header><h1>Site name</h1></header>
            <div role="navigation"><a href="/a">A</a></div>
            <h1>Release notes</h1>
            <p>First line<br>second line</p>
            <div aria-hidden="true">decoration</div>
            <p hidden>secret</p>
        </body></html>"#;

        let doc = to_document(html, "notes.html", "notes");

        assert_eq!(doc.title, "Release notes", "the first h1 of the content when there is no <title>");
        assert_eq!(doc.body, "# Release notes\n\nFirst line\nsecond line");
    }

    #[test]
    fn title_falls_back_to_the_given_title() {
        let doc = to_document("<p>just text</p>", "page.htm", "page");

        assert_eq!(doc.title, "page");
        assert_eq!(doc.body, "just text");
    }

    #[test]
    fn role_main_is_the_content_root() {
        let html = r#"<body><div class="sphinxsidebar">Table of contents</div>
            <div class="body" role="main"><h1>API</h1><p>Calls.</p></div></body>"#;

        assert_eq!(to_markdown(html), "# API\n\nCalls.");
    }

    #[test]
    fn text_that_looks_like_markdown_is_escaped() {
        let html = "<p># not a heading</p><p>- not a list</p><p>1. not ordered</p><p>&gt; not a quote</p>";

        assert_eq!(to_markdown(html), "\\# not a heading\n\n\\- not a list\n\n1\\. not ordered\n\n\\> not a quote");
    }

    #[test]
    fn code_with_backticks_gets_a_longer_fence() {
        let html = "<pre>let s = \"```\";</pre><p>Use <code>a`b</code>.</p>";

        assert_eq!(to_markdown(html), "````\nlet s = \"```\";\n````\n\nUse ``a`b``.");
    }

    #[test]
    fn headings_of_every_level_and_blockquotes() {
        let html = "<h1>a</h1><h2>b</h2><h3>c</h3><h4>d</h4><h5>e</h5><h6>f</h6>\
                    <blockquote><p>quoted</p><p>twice</p></blockquote><h2> </h2>";

        assert_eq!(to_markdown(html), "# a\n\n## b\n\n### c\n\n#### d\n\n##### e\n\n###### f\n\n> quoted\n>\n> twice");
    }

    #[test]
    fn pages_are_decoded_by_declared_charset_bom_utf8_meta_or_windows_1252() {
        assert_eq!(decode(b"caf\xe9", Some("iso-8859-1")), "café");
        assert_eq!(decode("café".as_bytes(), None), "café");
        assert_eq!(decode("café".as_bytes(), Some("no-such-charset")), "café");
        assert_eq!(decode(b"\xef\xbb\xbfcaf\xc3\xa9", Some("iso-8859-1")), "café", "a byte-order mark wins");
        let koi8 = b"<html><head><meta charset=\"koi8-r\"></head><body>\xf0\xd2\xc9\xd7\xc5\xd4</body></html>";
        assert!(decode(koi8, None).contains("Привет"));
        let http_equiv = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-15\"><p>\xa4 5</p>";
        assert!(decode(http_equiv, None).contains("€ 5"));
        assert!(decode(b"<p>\x93quoted\x94</p>", None).contains("\u{201c}quoted\u{201d}"));
    }

    #[test]
    fn links_of_the_whole_page_are_resolved_against_base() {
        let html = r#"<html><head><base href="/docs/"><meta name="robots" content="NoFollow"></head>
            <body><nav><a href="intro">Intro</a></nav><a href="https://other.example/x">x</a>
            <a href="../blog#top">Blog</a></body></html>"#;
        let url = Url::parse("https://example.com/docs/page").expect("url");

        let page = crawled_page(html, &url, "page");

        let links: Vec<&str> = page.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            ["https://example.com/docs/intro", "https://other.example/x", "https://example.com/blog#top"]
        );
        assert!(page.nofollow);
        assert!(!page.noindex);
    }
}
