//! The knowledge base (F4): documents, their chunks, the chunker that cuts Markdown into passages,
//! and the grouping of the questions it could not answer (X5).

mod embedding;
pub mod gaps;
mod library;
pub mod markdown;

pub use self::embedding::{Embedding, embedding_text};
pub use self::library::{AddError, Added, add_document};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{DocumentId, GuildId, ParseIdError};

/// The longest document title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The largest document body, in bytes.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The size a chunk aims for, in characters.
pub const CHUNK_TARGET_CHARS: usize = 900;

/// Whose knowledge base: shared by every guild of this deployment, or one guild's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KbScope {
    /// Documents every guild answers from.
    Global,
    /// Documents one guild answers from, on top of the global ones.
    Guild(GuildId),
}

impl KbScope {
    /// The scopes a guild's answers draw on: the global base, then its own.
    #[must_use]
    pub fn for_guild(guild: GuildId) -> [Self; 2] {
        [Self::Global, Self::Guild(guild)]
    }
}

impl fmt::Display for KbScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => f.write_str("global"),
            Self::Guild(id) => id.fmt(f),
        }
    }
}

impl FromStr for KbScope {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "global" { Ok(Self::Global) } else { s.parse().map(Self::Guild) }
    }
}

/// A document as submitted: what `kb import` and the settings API send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    /// A human title, shown as the source of answers.
    pub title: String,
    /// Where it came from (a file name or URL), optional.
    #[serde(default)]
    pub source: Option<String>,
    /// The text, Markdown or plain.
    pub body: String,
}

/// Why a submitted document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid document `{field}`: {message}")]
pub struct DocumentError {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// A stored document's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Its id.
    pub id: DocumentId,
    /// Its title.
    pub title: String,
    /// Where it came from.
    pub source: Option<String>,
    /// When it was added.
    pub created_at: Timestamp,
    /// Its length in characters.
    pub chars: u64,
    /// How many chunks it was cut into.
    pub chunks: u32,
}

/// One searchable passage of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// The document it belongs to.
    pub document: DocumentId,
    /// Its position in the document, from 0.
    pub index: u32,
    /// The document's title.
    pub title: String,
    /// The heading path above the passage (`Install › Linux`), possibly empty.
    pub heading: String,
    /// The passage text.
    pub text: String,
    /// Its vector, when an embeddings model was configured at import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Embedding>,
}

impl Chunk {
    /// The text its embedding is made from.
    #[must_use]
    pub fn embedding_text(&self) -> String {
        embedding_text(&self.title, &self.heading, &self.text)
    }
}

impl NewDocument {
    /// Validates the submission and cuts it into a stored [`Document`] and its [`Chunk`]s.
    ///
    /// # Errors
    /// Returns a [`DocumentError`] for an empty or oversized title or body.
    pub fn into_parts(self, id: DocumentId, now: Timestamp) -> Result<(Document, Vec<Chunk>), DocumentError> {
        let title = self.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(DocumentError {
                field: "title",
                message: format!("must be 1 to {MAX_TITLE_CHARS} characters"),
            });
        }
        if self.body.trim().is_empty() {
            return Err(DocumentError { field: "body", message: "must not be empty".into() });
        }
        if self.body.len() > MAX_BODY_BYTES {
            return Err(DocumentError {
                field: "body",
                message: format!("must be at most {MAX_BODY_BYTES} bytes; split the document"),
            });
        }
        let source = self.source.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let body = markdown::parse(&self.body).text;
        if body.is_empty() {
            return Err(DocumentError { field: "body", message: "has no text once parsed as Markdown".into() });
        }
        let chunks: Vec<Chunk> = chunk_markdown(&body, CHUNK_TARGET_CHARS)
            .into_iter()
            .enumerate()
            .map(|(index, section)| Chunk {
                document: id.clone(),
                index: u32::try_from(index).unwrap_or(u32::MAX),
                title: title.clone(),
                heading: section.heading,
                text: section.text,
                embedding: None,
            })
            .collect();
        let document = Document {
            id,
            title,
            source,
            created_at: now,
            chars: body.chars().count() as u64,
            chunks: u32::try_from(chunks.len()).unwrap_or(u32::MAX),
        };
        Ok((document, chunks))
    }
}

/// A piece of a document with the headings above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading path, joined with ` › `.
    pub heading: String,
    /// The text.
    pub text: String,
}

/// Cuts Markdown into passages of about `target` characters, never splitting a paragraph unless
/// it alone is longer, never splitting a fenced code block, and remembering the heading path.
#[must_use]
pub fn chunk_markdown(body: &str, target: usize) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut headings: Vec<(usize, String)> = Vec::new();
    let mut current = String::new();
    let mut paragraph = String::new();
    let mut in_fence = false;

    let heading_path =
        |headings: &[(usize, String)]| headings.iter().map(|(_, h)| h.as_str()).collect::<Vec<_>>().join(" › ");
    let flush_paragraph = |paragraph: &mut String, current: &mut String, sections: &mut Vec<Section>, heading: &str| {
        let text = paragraph.trim_end();
        if text.trim().is_empty() {
            paragraph.clear();
            return;
        }
        if !current.is_empty() && current.chars().count() + text.chars().count() + 2 > target {
            sections.push(Section { heading: heading.to_owned(), text: std::mem::take(current) });
        }
        if text.chars().count() > target * 2 {
            // One huge paragraph: cut it on sentence or word boundaries.
            for piece in cut_long(text, target) {
                if !current.is_empty() {
                    sections.push(Section { heading: heading.to_owned(), text: std::mem::take(current) });
                }
                current.push_str(&piece);
            }
        } else {
            if !current.is_empty() {
                current.push_str("\n\n");
            }
            current.push_str(text);
        }
        paragraph.clear();
    };

    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            paragraph.push_str(line);
            paragraph.push('\n');
            continue;
        }
        if in_fence {
            paragraph.push_str(line);
            paragraph.push('\n');
            continue;
        }
        if let Some((level, title)) = parse_heading(trimmed) {
            let heading = heading_path(&headings);
            flush_paragraph(&mut paragraph, &mut current, &mut sections, &heading);
            if !current.trim().is_empty() {
                sections.push(Section { heading, text: std::mem::take(&mut current) });
            }
            current.clear();
            headings.retain(|(l, _)| *l < level);
            headings.push((level, title.to_owned()));
            continue;
        }
        if trimmed.is_empty() {
            let heading = heading_path(&headings);
            flush_paragraph(&mut paragraph, &mut current, &mut sections, &heading);
        } else {
            paragraph.push_str(line);
            paragraph.push('\n');
        }
    }
    let heading = heading_path(&headings);
    flush_paragraph(&mut paragraph, &mut current, &mut sections, &heading);
    if !current.trim().is_empty() {
        sections.push(Section { heading, text: current });
    }
    sections
}

fn parse_heading(line: &str) -> Option<(usize, &str)> {
    let level = line.bytes().take_while(|b| *b == b'#').count();
    if (1..=6).contains(&level) && line.as_bytes().get(level) == Some(&b' ') {
        let title = line[level..].trim().trim_end_matches('#').trim();
        (!title.is_empty()).then_some((level, title))
    } else {
        None
    }
}

/// Cuts text longer than `target` at the last sentence end or space before the limit.
fn cut_long(text: &str, target: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.chars().count() > target {
        let limit = rest.char_indices().nth(target).map_or(rest.len(), |(i, _)| i);
        let window = &rest[..limit];
        let cut = window
            .rfind(". ")
            .map(|i| i + 2)
            .filter(|i| *i > limit / 2)
            .or_else(|| window.rfind(char::is_whitespace).filter(|i| *i > limit / 2))
            .unwrap_or(limit);
        pieces.push(rest[..cut].trim().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.trim().is_empty() {
        pieces.push(rest.trim().to_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_become_paths_and_sections_split() {
        let body =
            "# Guide\nIntro text.\n\n## Install\nRun the installer.\n\n### Linux\nUse apt.\n\n## Billing\nPay monthly.";
        let sections = chunk_markdown(body, 900);
        let pairs: Vec<(&str, &str)> = sections.iter().map(|s| (s.heading.as_str(), s.text.as_str())).collect();
        assert_eq!(
            pairs,
            vec![
                ("Guide", "Intro text."),
                ("Guide › Install", "Run the installer."),
                ("Guide › Install › Linux", "Use apt."),
                ("Guide › Billing", "Pay monthly."),
            ]
        );
    }

    #[test]
    fn code_fences_stay_whole_and_headings_inside_them_are_text() {
        let body = "Intro\n\n```sh\n# not a heading\n\necho hi\n```\n";
        let sections = chunk_markdown(body, 900);
        assert_eq!(sections.len(), 1);
        assert!(sections[0].text.contains("# not a heading"));
        assert!(sections[0].text.contains("echo hi"));
    }

    #[test]
    fn long_text_is_cut_near_the_target() {
        let paragraph = "This is one sentence of text. ".repeat(200);
        let sections = chunk_markdown(&paragraph, 300);
        assert!(sections.len() > 10);
        assert!(sections.iter().all(|s| s.text.chars().count() <= 300), "{sections:?}");
        let joined: String = sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
        assert_eq!(joined.split_whitespace().count(), paragraph.split_whitespace().count());
    }

    #[test]
    fn documents_are_validated() {
        let now = Timestamp::from_secs(1);
        let bad = NewDocument { title: " ".into(), source: None, body: "x".into() };
        assert_eq!(bad.into_parts(DocumentId::generate(), now).unwrap_err().field, "title");
        let bad = NewDocument { title: "t".into(), source: None, body: "\n".into() };
        assert_eq!(bad.into_parts(DocumentId::generate(), now).unwrap_err().field, "body");
        let good = NewDocument { title: "FAQ".into(), source: Some("faq.md".into()), body: "# A\nb".into() };
        let (doc, chunks) = good.into_parts(DocumentId::generate(), now).unwrap();
        assert_eq!((doc.chunks, chunks.len()), (1, 1));
        assert_eq!(chunks[0].heading, "A");
    }

    #[test]
    fn scopes_round_trip() {
        assert_eq!("global".parse::<KbScope>().unwrap(), KbScope::Global);
        assert_eq!("12".parse::<KbScope>().unwrap().to_string(), "12");
        assert!("nope".parse::<KbScope>().is_err());
    }
}
