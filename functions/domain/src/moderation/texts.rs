//! What moderation tells members (in English, Spanish or Polish) and the log channel. A
//! warning names the rule, never quotes the offending text, and pings only its author.

use super::case::{ActionStatus, Case};
use crate::ids::UserId;
use crate::language::Language;

/// The channel warning: mentions the author (the only ping) and names the rule.
pub(super) fn warning(language: Language, author: UserId, rules: &str) -> String {
    match language {
        Language::En => format!("<@{author}>, your message was against this server's rules ({rules})."),
        Language::Es => format!("<@{author}>, tu mensaje iba contra las normas de este servidor ({rules})."),
        Language::Pl => format!("<@{author}>, Twoja wiadomość naruszała zasady tego serwera ({rules})."),
    }
}

/// The DM warning: where, which rule, the case number to quote when appealing.
pub(super) fn warning_dm(language: Language, channel: Option<&str>, rules: &str, case: u64) -> String {
    let place = channel.map(|c| format!(" #{c}")).unwrap_or_default();
    match language {
        Language::En => format!(
            "Your message in{place} was against the server's rules ({rules}). If you think this is a mistake, \
             reply to a moderator quoting case #{case}."
        ),
        Language::Es => format!(
            "Tu mensaje en{place} iba contra las normas del servidor ({rules}). Si crees que es un error, \
             escribe a un moderador citando el caso #{case}."
        ),
        Language::Pl => format!(
            "Twoja wiadomość na kanale{place} naruszała zasady serwera ({rules}). Jeśli uważasz, że to pomyłka, \
             napisz do moderatora, podając sprawę #{case}."
        ),
    }
}

/// One line for the log channel (operators read it: English), with no mention that could ping.
pub(super) fn log_line(case: &Case) -> String {
    let actions: Vec<String> = case
        .body
        .actions
        .iter()
        .map(|a| {
            let status = match a.status {
                ActionStatus::Done => "done",
                ActionStatus::AlreadyDone => "already done",
                ActionStatus::DryRun => "dry run",
                ActionStatus::Skipped => "skipped",
                ActionStatus::Failed => "failed",
                ActionStatus::Planned => "planned",
            };
            let detail = a.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            format!("{:?} {status}{detail}", a.action).to_lowercase()
        })
        .collect();
    format!(
        "Case #{}{}: member {} in channel {}: {} Actions: {}.",
        case.id,
        if case.body.dry_run { " (shadow)" } else { "" },
        case.body.member_id,
        case.body.channel_id,
        case.body.reason,
        if actions.is_empty() { "none".to_owned() } else { actions.join(", ") }
    )
}
