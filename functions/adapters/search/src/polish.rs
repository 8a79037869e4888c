//! A tantivy token filter that stems Polish words with the Snowball project's Polish algorithm.
//!
//! tantivy's [`Stemmer`](tantivy::tokenizer::Stemmer) offers no Polish, but the crate it stems
//! with, `frostem` (the Snowball stemmers, regenerated as Snowball's main branch moves), has
//! Snowball's Polish algorithm; this filter runs it. The algorithm expects lowercase words *with*
//! their diacritics (it removes `-ość`, `-ości`, `-ą`, `-ę`, `-ić` …), so the filter goes after
//! lower-casing and before ASCII folding.

use std::borrow::Cow;

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Stems each token with Snowball's Polish stemmer.
#[derive(Clone, Copy)]
pub(crate) struct PolishStemmer;

impl TokenFilter for PolishStemmer {
    type Tokenizer<T: Tokenizer> = PolishStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> PolishStemmerFilter<T> {
        PolishStemmerFilter { inner: tokenizer }
    }
}

/// A tokenizer whose tokens come out stemmed as Polish.
#[derive(Clone)]
pub(crate) struct PolishStemmerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for PolishStemmerFilter<T> {
    type TokenStream<'a> = PolishStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        PolishStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: frostem::Stemmer::new(frostem::Algorithm::Polish),
        }
    }
}

/// The token stream of a [`PolishStemmerFilter`].
pub(crate) struct PolishStemmerStream<T> {
    tail: T,
    stemmer: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for PolishStemmerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        // A borrowed stem is the word itself: nothing to replace.
        if let Cow::Owned(stem) = self.stemmer.stem(&token.text) {
            token.text = stem;
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};

    use super::*;

    fn stems(text: &str) -> Vec<String> {
        let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default()).filter(PolishStemmer).build();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    /// Every form in `forms` has the same stem.
    fn conflated(forms: &str) {
        let stems = stems(forms);
        assert!(stems.windows(2).all(|pair| pair[0] == pair[1]), "{forms}: {stems:?}");
    }

    #[test]
    fn inflected_forms_of_one_word_share_a_stem() {
        conflated("płatność płatności płatnością płatnościami");
        conflated("konto konta kontem kontu kontach");
        conflated("wiadomość wiadomości wiadomościach wiadomościami");
        conflated("karta karty kartę kartą kartami");
        conflated("zwrot zwroty zwrotu");
        conflated("faktura faktury fakturę fakturach");
        conflated("powiadomienie powiadomienia powiadomień powiadomieniach");
        conflated("hasło hasła hasłem");
        conflated("zmienić zmienia");
    }

    #[test]
    fn different_words_keep_different_stems() {
        let stems = stems("konto karta kanał hasło wiadomość płatność");
        let distinct: std::collections::HashSet<_> = stems.iter().collect();
        assert_eq!(distinct.len(), stems.len(), "{stems:?}");
    }

    #[test]
    fn short_and_foreign_words_are_left_alone() {
        assert_eq!(stems("dni 14 zulip"), ["dni", "14", "zulip"]);
    }
}
