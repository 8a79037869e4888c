//! The deterministic policy (X8): from a clear violation, the operator's toggles and the
//! author's strikes to the actions, in the order they run. Code decides; the model never does.

use super::case::Action;
use super::settings::{Ladder, ModerationActions};
use super::verdict::Severity;

/// The actions for a violation, in execution order (delete, warn, then at most one of
/// timeout, kick, ban: the highest ladder step reached replaces the lower ones).
///
/// `strikes` counts the author's strikes in the window, this one included.
#[must_use]
pub fn plan(actions: ModerationActions, ladder: Ladder, strikes: u32, severity: Option<Severity>) -> Vec<Action> {
    let mut planned = Vec::new();
    if actions.delete {
        planned.push(Action::Delete);
    }
    if actions.warn {
        planned.push(Action::Warn);
    }
    let severe = severity == Some(Severity::Severe);
    let member = if actions.ban && (strikes >= ladder.ban_at || severe) {
        Some(Action::Ban)
    } else if actions.kick && strikes >= ladder.kick_at {
        Some(Action::Kick)
    } else if actions.timeout && strikes >= ladder.timeout_at {
        Some(Action::Timeout)
    } else {
        None
    };
    planned.extend(member);
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: ModerationActions = ModerationActions { delete: true, warn: true, timeout: true, kick: true, ban: true };

    #[test]
    fn the_ladder_escalates_with_strikes_and_the_highest_step_wins() {
        let ladder = Ladder::default();
        let high = Some(Severity::High);
        assert_eq!(plan(ALL, ladder, 1, high), [Action::Delete, Action::Warn]);
        assert_eq!(plan(ALL, ladder, 2, high), [Action::Delete, Action::Warn, Action::Timeout]);
        assert_eq!(plan(ALL, ladder, 3, high), [Action::Delete, Action::Warn, Action::Kick]);
        assert_eq!(plan(ALL, ladder, 9, high), [Action::Delete, Action::Warn, Action::Ban]);
    }

    #[test]
    fn only_enabled_actions_are_planned_and_severe_allows_a_ban_at_once() {
        let ladder = Ladder::default();
        let defaults = ModerationActions::default();
        assert_eq!(
            plan(defaults, ladder, 9, Some(Severity::Severe)),
            [Action::Delete, Action::Warn],
            "kick and ban off"
        );
        assert_eq!(plan(ALL, ladder, 1, Some(Severity::Severe)), [Action::Delete, Action::Warn, Action::Ban]);
        let no_kick = ModerationActions { kick: false, ..ALL };
        assert_eq!(plan(no_kick, ladder, 3, Some(Severity::Low)), [Action::Delete, Action::Warn, Action::Timeout]);
        let nothing = ModerationActions { delete: false, warn: false, timeout: false, kick: false, ban: false };
        assert!(plan(nothing, ladder, 9, Some(Severity::Severe)).is_empty());
    }
}
