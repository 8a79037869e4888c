//! The text analyzers, one per language Steward speaks: how chunks and questions become terms.
//!
//! All three split on non-alphanumerics, drop tokens over 40 bytes, lowercase, stem and fold
//! accents to ASCII. Only the order of the last two differs, chosen per stemmer:
//!
//! - English folds first, then stems (the Porter2 stemmer knows no accents; unchanged from
//!   when English was the only analyzer).
//! - Spanish and Polish stem first, then fold: their Snowball stemmers read the accents
//!   (Spanish `añadí` → `añad`, like `añadir`, but folded first `anadi` keeps its `i`; Polish
//!   removes `-ość`, `-ą`, `-ę` and `-ić`, which folded text no longer has). Folding after
//!   still lets a member who types without accents meet the knowledge base halfway.

use steward_domain::language::Language;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as Snowball, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    TokenizerManager,
};

use crate::polish::PolishStemmer;

/// The analyzer's name in tantivy's registry.
pub(crate) const fn name(language: Language) -> &'static str {
    match language {
        Language::En => "steward_en",
        Language::Es => "steward_es",
        Language::Pl => "steward_pl",
    }
}

/// The analyzer for text written in `language`.
pub(crate) fn analyzer(language: Language) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default()).filter(RemoveLongFilter::limit(40)).filter(LowerCaser);
    match language {
        Language::En => base.filter(AsciiFoldingFilter).filter(Stemmer::new(Snowball::English)).build(),
        Language::Es => base.filter(Stemmer::new(Snowball::Spanish)).filter(AsciiFoldingFilter).build(),
        Language::Pl => base.filter(PolishStemmer).filter(AsciiFoldingFilter).build(),
    }
}

/// Registers every language's analyzer under its [`name`].
pub(crate) fn register(tokenizers: &TokenizerManager) {
    for language in Language::ALL {
        tokenizers.register(name(language), analyzer(language));
    }
}

/// The distinct terms `analyzer` makes of `text`.
pub(crate) fn terms(analyzer: &mut TextAnalyzer, text: &str) -> std::collections::HashSet<String> {
    let mut words = std::collections::HashSet::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        words.insert(token.text.clone());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(language: Language, text: &str) -> Vec<String> {
        let mut analyzer = analyzer(language);
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    #[test]
    fn english_is_analyzed_as_before() {
        assert_eq!(
            tokens(Language::En, "Refunds are ISSUED, café-installing"),
            ["refund", "are", "issu", "cafe", "instal"]
        );
    }

    #[test]
    fn spanish_stems_before_folding_accents() {
        // Folded first, "añadí" would become "anadi" and keep its "i"; stemmed first it meets
        // "añadir". The same for "compañía": "compani" folded first, "compan" stemmed first.
        assert_eq!(tokens(Language::Es, "añadí añadir añade"), ["anad", "anad", "anad"]);
        assert_eq!(tokens(Language::Es, "compañía compañías"), ["compan", "compan"]);
        assert_eq!(tokens(Language::Es, "facturación facturas factura"), ["factur", "factur", "factur"]);
        // A member who types without accents still meets accented text.
        assert_eq!(tokens(Language::Es, "facturacion envian"), tokens(Language::Es, "facturación envían"));
    }

    #[test]
    fn polish_stems_before_folding_accents() {
        // Folded first, "zmienić" would lose the "-ić" the stemmer removes.
        assert_eq!(tokens(Language::Pl, "zmienić zmienia"), ["zmien", "zmien"]);
        assert_eq!(tokens(Language::Pl, "płatności płatność płatnościami"), ["platnosc", "platnosc", "platnosc"]);
        // Typed without diacritics, the "-ości" words still meet the knowledge base's.
        assert_eq!(tokens(Language::Pl, "platnosci wiadomosci"), tokens(Language::Pl, "płatność wiadomość"));
    }

    #[test]
    fn the_english_stemmer_does_not_conflate_other_languages_forms() {
        // What the per-language analyzers are for: English stemming leaves these apart.
        assert_ne!(tokens(Language::En, "facturación"), tokens(Language::En, "factura"));
        assert_ne!(tokens(Language::En, "płatność"), tokens(Language::En, "płatności"));
    }
}
