//! Markdown as operators write it (front matter, wikilinks, callouts, HTML) parsed into the
//! plain Markdown the chunker indexes: real headings only, links and wikilinks as their text.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use yaml_rust2::{Yaml, YamlLoader};

/// A parsed page: its title, if the page names one, and its indexable text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markdown {
    /// The front matter's `title`, else the first level-1 heading outside code, else `None`.
    pub title: Option<String>,
    /// The text: `#` headings, paragraphs separated by blank lines, `- ` lists, fenced code,
    /// table rows as `a | b`; no front matter, HTML, images or link targets.
    pub text: String,
}

/// Parses a page written in Markdown (CommonMark with GitHub and Obsidian extensions).
#[must_use]
pub fn parse(source: &str) -> Markdown {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_GFM
        | Options::ENABLE_WIKILINKS
        | Options::ENABLE_FOOTNOTES;
    let mut writer = Writer::default();
    for event in Parser::new_ext(source, options) {
        writer.event(event);
    }
    writer.finish()
}

#[derive(Default)]
struct Writer {
    out: String,
    /// The block being written (a paragraph, heading, item or cell), flushed at its end.
    block: String,
    front_matter: Option<String>,
    in_front_matter: bool,
    first_h1: Option<String>,
    heading: Option<HeadingLevel>,
    code: bool,
    images: usize,
    quotes: usize,
    lists: Vec<Option<u64>>,
    cells: Vec<String>,
}

impl Writer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) if self.in_front_matter => {
                self.front_matter.get_or_insert_default().push_str(&text);
            }
            Event::Text(text) | Event::InlineMath(text) | Event::DisplayMath(text) if self.images == 0 => {
                self.block.push_str(&text);
            }
            Event::Code(code) if self.images == 0 => {
                self.block.push('`');
                self.block.push_str(&code);
                self.block.push('`');
            }
            Event::SoftBreak if !self.block.ends_with(' ') => self.block.push(' '),
            Event::HardBreak => self.block.push('\n'),
            Event::Rule => self.blank_line(),
            // HTML, footnote markers, task checkboxes, image alt text: not content.
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::MetadataBlock(_) => self.in_front_matter = true,
            Tag::Heading { level, .. } => {
                self.flush_block();
                self.heading = Some(level);
            }
            Tag::CodeBlock(kind) => {
                self.flush_block();
                self.code = true;
                let lang = match kind {
                    CodeBlockKind::Fenced(lang) => lang.split_whitespace().next().unwrap_or_default().to_owned(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.out.push_str("```");
                self.out.push_str(&lang);
                self.out.push('\n');
            }
            Tag::BlockQuote(_) => {
                self.flush_block();
                self.quotes += 1;
            }
            Tag::List(start) => {
                self.flush_block();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush_block();
                let depth = self.lists.len().saturating_sub(1);
                self.block.push_str(&"  ".repeat(depth));
                match self.lists.last_mut() {
                    Some(Some(number)) => {
                        self.block.push_str(&format!("{number}. "));
                        *number += 1;
                    }
                    _ => self.block.push_str("- "),
                }
            }
            Tag::TableHead | Tag::TableRow => self.cells.clear(),
            Tag::Image { .. } => self.images += 1,
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::MetadataBlock(_) => self.in_front_matter = false,
            TagEnd::Heading(level) => {
                let text = std::mem::take(&mut self.block).trim().to_owned();
                if level == HeadingLevel::H1 && self.first_h1.is_none() && !text.is_empty() {
                    self.first_h1 = Some(text.clone());
                }
                if !text.is_empty() {
                    self.blank_line();
                    self.out.push_str(&"#".repeat(level as usize));
                    self.out.push(' ');
                    self.out.push_str(&text);
                    self.out.push_str("\n\n");
                }
                self.heading = None;
            }
            TagEnd::CodeBlock => {
                self.out.push_str(&std::mem::take(&mut self.block));
                if !self.out.ends_with('\n') {
                    self.out.push('\n');
                }
                self.out.push_str("```\n\n");
                self.code = false;
            }
            TagEnd::Paragraph | TagEnd::Item | TagEnd::FootnoteDefinition => self.flush_block(),
            TagEnd::BlockQuote(_) => {
                self.flush_block();
                self.quotes = self.quotes.saturating_sub(1);
            }
            TagEnd::List(_) => {
                self.flush_block();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank_line();
                }
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.block).trim().to_owned();
                self.cells.push(cell);
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                let row = self.cells.join(" | ");
                if !row.trim().is_empty() {
                    self.out.push_str(&row);
                    self.out.push('\n');
                }
            }
            TagEnd::Table => self.blank_line(),
            TagEnd::Image => self.images = self.images.saturating_sub(1),
            _ => {}
        }
    }

    /// Ends the current block: a paragraph gets a blank line after it, a list item a newline.
    fn flush_block(&mut self) {
        let text = std::mem::take(&mut self.block);
        let mut text = text.trim_end();
        if self.quotes > 0 {
            text = strip_callout(text);
        }
        if text.trim().is_empty() {
            return;
        }
        self.out.push_str(text);
        self.out.push('\n');
        if self.lists.is_empty() {
            self.out.push('\n');
        }
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn finish(mut self) -> Markdown {
        self.flush_block();
        let title = self.front_matter.as_deref().and_then(front_matter_title).or(self.first_h1);
        Markdown { title, text: self.out.trim().to_owned() }
    }
}

/// An Obsidian callout's marker (`[!info]`, `[!tip]-`) at the start of a quoted block.
fn strip_callout(text: &str) -> &str {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("[!")
        && let Some(close) = rest.find(']')
        && rest[..close].chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return rest[close + 1..].trim_start_matches(['+', '-']).trim_start();
    }
    text
}

/// The `title` of a YAML front matter block, when it is a non-empty string.
fn front_matter_title(yaml: &str) -> Option<String> {
    let documents = YamlLoader::load_from_str(yaml).ok()?;
    match &documents.first()?["title"] {
        Yaml::String(title) if !title.trim().is_empty() => Some(title.trim().to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_gives_the_title_and_is_not_content() {
        let page = parse("---\ntitle: Getting started\ntags: [setup]\n---\n\n# Welcome\n\nHello.");
        assert_eq!(page.title.as_deref(), Some("Getting started"));
        assert_eq!(page.text, "# Welcome\n\nHello.");
        assert!(!page.text.contains("tags"));
    }

    #[test]
    fn the_first_heading_outside_code_is_the_title() {
        let page = parse("Intro.\n\n```md\n# Login\n```\n\n# How to pay\n\n## Cards\n\nVisa.");
        assert_eq!(page.title.as_deref(), Some("How to pay"));
        assert!(page.text.contains("```md\n# Login\n```"), "{}", page.text);
        assert_eq!(parse("No heading at all.").title, None);
    }

    #[test]
    fn links_wikilinks_and_images_keep_only_their_text() {
        let page = parse(
            "See [the billing page](https://x.example/billing), [[Refund policy]] and [[faq#top|the FAQ]].\n\n\
             ![[diagram.png]] ![a cat](cat.png)",
        );
        assert_eq!(page.text, "See the billing page, Refund policy and the FAQ.");
    }

    #[test]
    fn callouts_lists_tables_and_html_read_as_text() {
        let page = parse(
            "> [!info] Heads up\n> Keep your key secret.\n\n- one\n- two\n  1. nested\n\n\
             | Plan | Price |\n|---|---|\n| Pro | 10 € |\n\n<div class=\"x\">ignored</div>\n\n<!-- hidden -->",
        );
        assert!(page.text.starts_with("Heads up Keep your key secret."), "{}", page.text);
        assert!(page.text.contains("- one\n- two\n  1. nested"), "{}", page.text);
        assert!(page.text.contains("Plan | Price\nPro | 10 €"), "{}", page.text);
        assert!(!page.text.contains("ignored") && !page.text.contains("hidden") && !page.text.contains('<'));
    }

    #[test]
    fn plain_text_survives() {
        let page = parse("Refunds take 14 days.\nAsk support for help.\n\nSecond paragraph.");
        assert_eq!(page.text, "Refunds take 14 days. Ask support for help.\n\nSecond paragraph.");
    }
}
