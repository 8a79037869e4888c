//! The member's language (X11): read from what they wrote, else their Discord locale, else English.

use serde::{Deserialize, Serialize};
use whatlang::{Detector, Lang};

/// A language Steward speaks in its fixed texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English, the fallback.
    #[default]
    En,
    /// Spanish.
    Es,
    /// Polish.
    Pl,
}

/// Words that carry no topic, in English, Spanish and Polish: question words, articles,
/// pronouns, auxiliaries and filler. Lowercase, accents kept.
const FUNCTION_WORDS: &[&str] = &[
    // English
    "the", "a", "an", "and", "or", "to", "of", "in", "on", "for", "is", "are", "it", "i", "you", "my", "me", "do",
    "does", "did", "how", "what", "can", "with", "this", "that", "be", "long", "take", "get", "got", "much", "many",
    "need", "want", "know", "have", "has", "there", "any", "some", "please", "thanks", "anyone", "way", "about",
    "tell", "will", "would", "could", "should", "who", "why", "when", "where", "which", "your", "our", "their", "they",
    "them", "from", "into", "just", "also", "still", "was", "were", "work", "works", "hi", "hey", "hello",
    // Spanish
    "el", "la", "los", "las", "de", "y", "en", "un", "una", "unos", "unas", "es", "cómo", "como", "qué", "que", "para",
    "por", "del", "con", "dónde", "donde", "cuándo", "cuando", "cuál", "cual", "puedo", "hay", "mi", "mis", "esta",
    "este", "está", "hola", "gracias", // Polish
    "w", "z", "na", "się", "sie", "jest", "to", "jak", "czy", "co", "gdzie", "dla", "kiedy", "dlaczego", "który",
    "która", "które", "jaki", "jaka", "jakie", "mogę", "moge", "można", "ile", "mój", "moje", "moja", "cześć",
    "dzięki",
];

/// Whether `word` (lowercase) carries no topic in any language Steward speaks.
#[must_use]
pub fn is_function_word(word: &str) -> bool {
    FUNCTION_WORDS.contains(&word)
}

/// The words of `text` that carry a topic: lowercased, longer than two characters, not
/// function words. What relevance, smart mode and gap grouping look at.
#[must_use]
pub fn topic_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() > 2 && !is_function_word(w))
        .collect()
}

/// The language most of `texts` are written in (a knowledge base's language), judged on up
/// to 32 of them; `None` when none can be told.
#[must_use]
pub fn dominant<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<Language> {
    let mut votes = [0_usize; 3];
    for text in texts.into_iter().take(32) {
        if let Some(language) = Language::detect(text) {
            votes[language as usize] += 1;
        }
    }
    let (index, count) = votes.iter().enumerate().max_by_key(|(_, count)| **count)?;
    (*count > 0).then(|| Language::ALL[index])
}

/// Below this whatlang confidence a detection is not trusted (short messages).
const MIN_CONFIDENCE: f64 = 0.5;

/// Short, frequent words only one of the three languages uses: they decide short messages,
/// where trigram statistics cannot.
const MARKERS: [(Language, &[&str]); 3] = [
    (
        Language::En,
        &[
            "the", "how", "what", "where", "when", "why", "which", "who", "is", "are", "do", "does", "i", "my", "you",
            "your", "can", "it", "and", "of", "with", "there", "this", "that", "hi", "hello", "thanks",
        ],
    ),
    (
        Language::Es,
        &[
            "el", "la", "los", "las", "de", "que", "qué", "cómo", "como", "dónde", "donde", "cuándo", "cuánto", "por",
            "para", "es", "mi", "una", "un", "hola", "gracias", "puedo", "hay", "tengo", "mis", "del", "y",
        ],
    ),
    (
        Language::Pl,
        &[
            "jak", "czy", "co", "gdzie", "kiedy", "dlaczego", "się", "sie", "nie", "jest", "mój", "moj", "moje", "mam",
            "mogę", "moge", "cześć", "czesc", "dzięki", "dzieki", "ile", "w", "z", "na", "że", "ze", "jaki",
        ],
    ),
];

impl Language {
    /// Every language, English first.
    pub const ALL: [Self; 3] = [Self::En, Self::Es, Self::Pl];

    /// The ISO 639-1 code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
            Self::Pl => "pl",
        }
    }

    /// The language's name in English, for prompts.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Es => "Spanish",
            Self::Pl => "Polish",
        }
    }

    /// The language of a Discord locale (`es-ES`, `es-419`, `pl`, `en-GB` …), when Steward speaks it.
    #[must_use]
    pub fn from_locale(locale: &str) -> Option<Self> {
        let primary = locale.split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|language| language.code() == primary)
    }

    /// The language a text is written in, when it is clear enough to tell.
    #[must_use]
    pub fn detect(text: &str) -> Option<Self> {
        // Letters only these languages use decide at once, even in a two-word message.
        if text.chars().any(|c| matches!(c, 'ą' | 'ę' | 'ł' | 'ś' | 'ź' | 'ż' | 'ć' | 'ń' | 'Ł' | 'Ś' | 'Ż' | 'Ź'))
        {
            return Some(Self::Pl);
        }
        if text.chars().any(|c| matches!(c, '¿' | '¡' | 'ñ' | 'Ñ')) {
            return Some(Self::Es);
        }
        let detector = Detector::with_allowlist(vec![Lang::Eng, Lang::Spa, Lang::Pol]);
        if let Some(info) = detector.detect(text)
            && (info.is_reliable() || info.confidence() >= MIN_CONFIDENCE)
        {
            return Some(match info.lang() {
                Lang::Spa => Self::Es,
                Lang::Pol => Self::Pl,
                _ => Self::En,
            });
        }
        Self::by_markers(text)
    }

    /// The language whose marker words the text uses most, when one clearly does.
    fn by_markers(text: &str) -> Option<Self> {
        let words: Vec<String> = text.split(|c: char| !c.is_alphabetic()).map(str::to_lowercase).collect();
        let mut votes = MARKERS
            .map(|(language, markers)| (words.iter().filter(|w| markers.contains(&w.as_str())).count(), language));
        votes.sort_by_key(|vote| std::cmp::Reverse(vote.0));
        (votes[0].0 > 0 && votes[0].0 > votes[1].0).then_some(votes[0].1)
    }

    /// The language to answer a member in: their message's, else their locale's, else English.
    #[must_use]
    pub fn of_member(text: &str, locale: Option<&str>) -> Self {
        Self::detect(text).or_else(|| locale.and_then(Self::from_locale)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_knowledge_base_has_the_language_most_of_it_is_written_in() {
        let pages = ["How to reset your password in the app settings.", "Refunds are issued within 14 days.", "¿Cómo?"];
        assert_eq!(dominant(pages), Some(Language::En));
        assert_eq!(dominant(["ok", "42"]), None);
    }

    #[test]
    fn locales_map_to_languages() {
        assert_eq!(Language::from_locale("es-ES"), Some(Language::Es));
        assert_eq!(Language::from_locale("es-419"), Some(Language::Es));
        assert_eq!(Language::from_locale("pl"), Some(Language::Pl));
        assert_eq!(Language::from_locale("en-GB"), Some(Language::En));
        assert_eq!(Language::from_locale("de"), None);
    }

    #[test]
    fn members_are_answered_in_the_language_they_wrote() {
        for (text, language) in [
            ("How long do refunds take for the pro plan?", Language::En),
            ("¿Cuánto tarda un reembolso?", Language::Es),
            ("Cuánto tiempo tarda el reembolso del plan pro", Language::Es),
            ("Ile trwa zwrot pieniędzy za plan pro?", Language::Pl),
            ("jak zmienic haslo do konta w aplikacji", Language::Pl),
            ("how do I install it", Language::En),
            ("Where do I change my password?", Language::En),
            ("hola", Language::Es),
            ("como instalo esto", Language::Es),
            ("czesc jak to zrobic", Language::Pl),
        ] {
            assert_eq!(Language::of_member(text, None), language, "{text}");
        }
    }

    #[test]
    fn the_locale_decides_when_the_text_cannot() {
        assert_eq!(Language::of_member("ok", Some("pl")), Language::Pl);
        assert_eq!(Language::of_member("???", Some("es-ES")), Language::Es);
        assert_eq!(Language::of_member("Where do I change my password?", Some("pl")), Language::En);
    }
}
