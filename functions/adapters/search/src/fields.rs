//! The index schema: a chunk's ordinal, and a title, heading and text field per language.

use steward_domain::language::Language;
use tantivy::schema::{Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions};

use crate::analyzer;

/// The three searched fields of one language, analyzed in it.
#[derive(Clone, Copy)]
pub(crate) struct TextFields {
    /// The document's title.
    pub(crate) title: Field,
    /// The heading path above the passage.
    pub(crate) heading: Field,
    /// The passage.
    pub(crate) text: Field,
}

impl TextFields {
    /// Title, heading and text.
    pub(crate) const fn all(self) -> [Field; 3] {
        [self.title, self.heading, self.text]
    }
}

/// Every field of the index.
pub(crate) struct Fields {
    /// The chunk's position in the guild's chunk list, stored.
    pub(crate) ordinal: Field,
    /// The text fields of each language, in [`Language::ALL`] order.
    languages: [TextFields; 3],
}

impl Fields {
    /// The schema and its fields.
    pub(crate) fn schema() -> (Schema, Self) {
        let mut builder = Schema::builder();
        let ordinal = builder.add_u64_field("ordinal", STORED);
        let languages = Language::ALL.map(|language| {
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(analyzer::name(language))
                .set_index_option(IndexRecordOption::WithFreqsAndPositions);
            let options = TextOptions::default().set_indexing_options(indexing);
            let code = language.code();
            TextFields {
                title: builder.add_text_field(&format!("title_{code}"), options.clone()),
                heading: builder.add_text_field(&format!("heading_{code}"), options.clone()),
                text: builder.add_text_field(&format!("text_{code}"), options),
            }
        });
        (builder.build(), Self { ordinal, languages })
    }

    /// The fields text written in `language` is indexed in.
    pub(crate) const fn of(&self, language: Language) -> TextFields {
        self.languages[language as usize]
    }
}
