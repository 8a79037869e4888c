//! Every fixed text Steward posts to members, in each [`Language`] it speaks (X11), in one place
//! so each can be reviewed and translated together.

use std::time::Duration;

use crate::language::Language;
use crate::quota::Month;

/// A text in every language.
struct Text {
    en: &'static str,
    es: &'static str,
    pl: &'static str,
}

impl Text {
    const fn get(&self, language: Language) -> &'static str {
        match language {
            Language::En => self.en,
            Language::Es => self.es,
            Language::Pl => self.pl,
        }
    }
}

const ASK_IN_DM: Text = Text {
    en: "`/ask` works inside a server, not in direct messages.",
    es: "`/ask` funciona dentro de un servidor, no en mensajes directos.",
    pl: "`/ask` działa na serwerze, nie w wiadomościach prywatnych.",
};
const ASK_EMPTY: Text = Text {
    en: "Please type a question after `/ask`.",
    es: "Escribe una pregunta después de `/ask`.",
    pl: "Wpisz pytanie po `/ask`.",
};
const TURNED_OFF: Text = Text {
    en: "Steward is turned off in this server.",
    es: "Steward está desactivado en este servidor.",
    pl: "Steward jest wyłączony na tym serwerze.",
};
const CHANNEL_NOT_ALLOWED: Text = Text {
    en: "Steward doesn't answer in this channel. Try one of the help channels.",
    es: "Steward no responde en este canal. Prueba en uno de los canales de ayuda.",
    pl: "Steward nie odpowiada na tym kanale. Spróbuj na jednym z kanałów pomocy.",
};
const NOT_QUEUED: Text = Text {
    en: "Steward couldn't take your question just now. Please try again in a moment.",
    es: "Steward no pudo recibir tu pregunta ahora mismo. Inténtalo de nuevo en un momento.",
    pl: "Steward nie mógł teraz przyjąć Twojego pytania. Spróbuj ponownie za chwilę.",
};
const EMPTY_KNOWLEDGE_BASE: Text = Text {
    en: "I don't have a knowledge base to answer from yet. A server admin can add documents \
         (`steward kb import` or the settings API).",
    es: "Todavía no tengo una base de conocimiento con la que responder. Un administrador del servidor puede \
         añadir documentos (`steward kb import` o la API de ajustes).",
    pl: "Nie mam jeszcze bazy wiedzy, z której mógłbym odpowiadać. Administrator serwera może dodać dokumenty \
         (`steward kb import` lub API ustawień).",
};
const LOOKUP_FAILED: Text = Text {
    en: "Sorry, something went wrong while I was looking that up. Please try again in a minute.",
    es: "Lo siento, algo falló mientras lo buscaba. Inténtalo de nuevo en un minuto.",
    pl: "Przepraszam, coś poszło nie tak podczas wyszukiwania. Spróbuj ponownie za minutę.",
};
const MODEL_BUSY: Text = Text {
    en: "Sorry, the AI service is busy or unreachable right now. Please try again in a minute.",
    es: "Lo siento, el servicio de IA está ocupado o no responde ahora mismo. Inténtalo de nuevo en un minuto.",
    pl: "Przepraszam, usługa AI jest teraz zajęta lub niedostępna. Spróbuj ponownie za minutę.",
};
const MODEL_MISCONFIGURED: Text = Text {
    en: "Sorry, I couldn't produce an answer. A server admin may need to check Steward's AI settings.",
    es: "Lo siento, no pude generar una respuesta. Puede que un administrador del servidor tenga que revisar \
         los ajustes de IA de Steward.",
    pl: "Przepraszam, nie udało mi się przygotować odpowiedzi. Administrator serwera może musieć sprawdzić \
         ustawienia AI Stewarda.",
};
const CHANNEL_ANSWER_FAILED: Text = Text {
    en: "Sorry, I couldn't answer that just now. Please try again in a minute.",
    es: "Lo siento, no pude responder a eso ahora mismo. Inténtalo de nuevo en un minuto.",
    pl: "Przepraszam, nie mogłem teraz na to odpowiedzieć. Spróbuj ponownie za minutę.",
};
const KNOWLEDGE_BASE_SAYS: Text = Text {
    en: "Here is what the knowledge base says:",
    es: "Esto es lo que dice la base de conocimiento:",
    pl: "Oto co mówi baza wiedzy:",
};
const NOT_IN_KNOWLEDGE_BASE: Text = Text {
    en: "I couldn't find anything about that in the knowledge base. A moderator may be able to help.",
    es: "No encontré nada sobre eso en la base de conocimiento. Quizá un moderador pueda ayudarte.",
    pl: "Nie znalazłem nic na ten temat w bazie wiedzy. Może pomoże Ci moderator.",
};

const DONT_KNOW: Text = Text {
    en: "I don't know: this server's knowledge base doesn't cover that, and I'd rather not guess. A moderator \
         or admin can help you; ask them here, and I've noted the question so it can be added.",
    es: "No lo sé: la base de conocimiento de este servidor no cubre eso y prefiero no adivinar. Un moderador o \
         administrador puede ayudarte; pregúntale aquí. He anotado la pregunta para que se pueda añadir.",
    pl: "Nie wiem: baza wiedzy tego serwera tego nie obejmuje, a nie chcę zgadywać. Pomoże Ci moderator lub \
         administrator; zapytaj ich tutaj. Zapisałem to pytanie, żeby można je było dodać.",
};

/// The emoji put on a message held back by the cooldown after the member was told once.
pub const COOLDOWN_REACTION: &str = "⏳";

/// `/ask` used in a direct message.
#[must_use]
pub const fn ask_in_dm(language: Language) -> &'static str {
    ASK_IN_DM.get(language)
}

/// `/ask` with nothing after it.
#[must_use]
pub const fn ask_empty(language: Language) -> &'static str {
    ASK_EMPTY.get(language)
}

/// Steward is switched off in the guild.
#[must_use]
pub const fn turned_off(language: Language) -> &'static str {
    TURNED_OFF.get(language)
}

/// `/ask` in a channel outside the allow-list.
#[must_use]
pub const fn channel_not_allowed(language: Language) -> &'static str {
    CHANNEL_NOT_ALLOWED.get(language)
}

/// Infrastructure failed before the question could be queued.
#[must_use]
pub const fn not_queued(language: Language) -> &'static str {
    NOT_QUEUED.get(language)
}

/// The knowledge base is empty.
#[must_use]
pub const fn empty_knowledge_base(language: Language) -> &'static str {
    EMPTY_KNOWLEDGE_BASE.get(language)
}

/// Storage or search failed mid-answer.
#[must_use]
pub const fn lookup_failed(language: Language) -> &'static str {
    LOOKUP_FAILED.get(language)
}

/// The model was slow, down or rate-limited.
#[must_use]
pub const fn model_busy(language: Language) -> &'static str {
    MODEL_BUSY.get(language)
}

/// The model refused the request or answered nonsense: a configuration problem.
#[must_use]
pub const fn model_misconfigured(language: Language) -> &'static str {
    MODEL_MISCONFIGURED.get(language)
}

/// A channel answer failed for a member who addressed the bot.
#[must_use]
pub const fn channel_answer_failed(language: Language) -> &'static str {
    CHANNEL_ANSWER_FAILED.get(language)
}

/// The extractive answer's first line, above the quoted passages.
#[must_use]
pub const fn knowledge_base_says(language: Language) -> &'static str {
    KNOWLEDGE_BASE_SAYS.get(language)
}

/// The extractive answer when no passage matched.
#[must_use]
pub const fn not_in_knowledge_base(language: Language) -> &'static str {
    NOT_IN_KNOWLEDGE_BASE.get(language)
}

/// The knowledge base does not cover the question: say so, offer a human, never guess.
#[must_use]
pub const fn dont_know(language: Language) -> &'static str {
    DONT_KNOW.get(language)
}

/// A question over the length limit.
#[must_use]
pub fn question_too_long(language: Language, length: usize, max: usize) -> String {
    match language {
        Language::En => format!("That question is {length} characters long; please keep it under {max}."),
        Language::Es => format!("Esa pregunta tiene {length} caracteres; mantenla por debajo de {max}."),
        Language::Pl => format!("To pytanie ma {length} znaków; skróć je do najwyżej {max}."),
    }
}

/// The monthly quota is used up.
#[must_use]
pub fn quota_exhausted(language: Language, limit: u64, month: Month) -> String {
    match language {
        Language::En => format!(
            "This server has used all {limit} AI messages of its plan for {month}. The quota resets on the 1st of \
             next month; a server admin can change the plan."
        ),
        Language::Es => format!(
            "Este servidor ha usado los {limit} mensajes de IA de su plan para {month}. La cuota se renueva el día 1 \
             del mes que viene; un administrador del servidor puede cambiar el plan."
        ),
        Language::Pl => format!(
            "Ten serwer wykorzystał wszystkie {limit} wiadomości AI ze swojego planu na {month}. Limit odnowi się \
             1. dnia następnego miesiąca; administrator serwera może zmienić plan."
        ),
    }
}

/// A bare mention: how to ask.
#[must_use]
pub fn greeting(language: Language, name: &str) -> String {
    match language {
        Language::En => format!(
            "Hi {name}! Ask me anything about this community: mention me with your question, for example \
             \"@Steward how do refunds work?\", or use `/ask`."
        ),
        Language::Es => format!(
            "¡Hola, {name}! Pregúntame lo que quieras sobre esta comunidad: menciónme con tu pregunta, por ejemplo \
             \"@Steward ¿cómo funcionan los reembolsos?\", o usa `/ask`."
        ),
        Language::Pl => format!(
            "Cześć, {name}! Zapytaj mnie o cokolwiek dotyczącego tej społeczności: oznacz mnie w pytaniu, na \
             przykład \"@Steward jak działają zwroty?\", albo użyj `/ask`."
        ),
    }
}

/// A member held back by the cooldown, told once when they can ask again.
#[must_use]
pub fn cooldown(language: Language, remaining: Duration) -> String {
    let seconds = (remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0)).max(1);
    match language {
        Language::En => {
            let unit = if seconds == 1 { "second" } else { "seconds" };
            format!(
                "One at a time, please: I can answer you again in {seconds} {unit}. (Replies to my answers are \
                 follow-ups and skip this wait.)"
            )
        }
        Language::Es => {
            let unit = if seconds == 1 { "segundo" } else { "segundos" };
            format!(
                "De una en una, por favor: podré responderte de nuevo en {seconds} {unit}. (Las respuestas a mis \
                 mensajes cuentan como seguimiento y no esperan.)"
            )
        }
        Language::Pl => format!(
            "Po kolei, proszę: będę mógł znów Ci odpowiedzieć za {seconds} {}. (Odpowiedzi na moje wiadomości to \
             kontynuacja rozmowy i nie muszą czekać.)",
            polish_seconds(seconds)
        ),
    }
}

/// Polish plural of "second": 1 sekundę, 2–4 sekundy (not 12–14), otherwise sekund.
fn polish_seconds(n: u64) -> &'static str {
    match (n % 10, n % 100) {
        _ if n == 1 => "sekundę",
        (2..=4, tens) if !(12..=14).contains(&tens) => "sekundy",
        _ => "sekund",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cooldown_text_rounds_up_and_says_when() {
        assert!(cooldown(Language::En, Duration::from_millis(6_200)).contains("in 7 seconds"));
        assert!(cooldown(Language::En, Duration::from_millis(300)).contains("in 1 second."));
        assert!(cooldown(Language::En, Duration::ZERO).contains("in 1 second."));
        assert!(cooldown(Language::Es, Duration::from_secs(7)).contains("en 7 segundos"));
        assert!(cooldown(Language::Pl, Duration::from_secs(1)).contains("za 1 sekundę"));
        assert!(cooldown(Language::Pl, Duration::from_secs(3)).contains("za 3 sekundy"));
        assert!(cooldown(Language::Pl, Duration::from_secs(12)).contains("za 12 sekund"));
        assert!(cooldown(Language::Pl, Duration::from_secs(22)).contains("za 22 sekundy"));
    }

    #[test]
    fn every_text_differs_by_language() {
        let fixed = [ASK_IN_DM, ASK_EMPTY, TURNED_OFF, CHANNEL_NOT_ALLOWED, NOT_QUEUED, EMPTY_KNOWLEDGE_BASE]
            .into_iter()
            .chain([LOOKUP_FAILED, MODEL_BUSY, MODEL_MISCONFIGURED, CHANNEL_ANSWER_FAILED])
            .chain([KNOWLEDGE_BASE_SAYS, NOT_IN_KNOWLEDGE_BASE, DONT_KNOW]);
        for text in fixed {
            assert!(text.en != text.es && text.en != text.pl && text.es != text.pl, "{}", text.en);
        }
        let month = Month::containing(crate::clock::Timestamp::from_secs(0));
        for language in [Language::Es, Language::Pl] {
            assert_ne!(quota_exhausted(language, 5, month), quota_exhausted(Language::En, 5, month));
            assert_ne!(greeting(language, "Ana"), greeting(Language::En, "Ana"));
            assert_ne!(question_too_long(language, 2, 1), question_too_long(Language::En, 2, 1));
        }
    }
}
