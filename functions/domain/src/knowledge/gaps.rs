//! Grouping unanswered questions: rewordings of one question share a [`gap_key`].

use std::collections::BTreeSet;

use crate::language::topic_words;

/// The key that groups rewordings of one question: its topic words, lowercased, sorted and
/// deduplicated, joined by one space. Question words, stopwords and words of two characters or
/// fewer are dropped. A question with no topic word left is keyed by itself, lowercased and
/// trimmed.
#[must_use]
pub fn gap_key(question: &str) -> String {
    let words: BTreeSet<String> = topic_words(question).into_iter().collect();
    if words.is_empty() {
        return question.trim().to_lowercase();
    }
    words.into_iter().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewordings_of_one_question_share_a_key() {
        let key = gap_key("How do I reset my password?");
        assert_eq!(key, "password reset");
        assert_eq!(gap_key("how do i reset my password"), key);
        assert_eq!(gap_key("reset password — how?"), key);
        assert_eq!(gap_key("Password, password: how can I RESET it?"), key, "case and repeats do not matter");
    }

    #[test]
    fn different_questions_get_different_keys() {
        assert_ne!(gap_key("How do I delete my account?"), gap_key("How do I reset my password?"));
        assert_eq!(gap_key("How do I delete my account?"), "account delete");
    }

    #[test]
    fn spanish_and_polish_question_words_are_dropped() {
        assert_eq!(gap_key("¿Cómo puedo cambiar la contraseña?"), "cambiar contraseña");
        assert_eq!(gap_key("Jak zmienić hasło dla konta?"), "hasło konta zmienić");
        assert_eq!(gap_key("Gdzie są moje faktury? Czy się da?"), "faktury");
    }

    #[test]
    fn a_question_of_only_stopwords_is_keyed_by_itself() {
        assert_eq!(gap_key("  How?  "), "how?");
        assert_eq!(gap_key("Why is it so?"), "why is it so?");
        assert_eq!(gap_key(""), "");
    }
}
