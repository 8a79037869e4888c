//! The `moderation` settings object (contract): rules, actions, thresholds, exemptions, the
//! offender ladder and the free pre-filters, with the checks serde cannot express.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, RoleId};

/// The longest moderation rule text, in characters.
pub const MAX_RULES_CHARS: usize = 8_000;
/// Discord's longest timeout: 28 days.
pub const MAX_TIMEOUT_SECONDS: u32 = 2_419_200;
/// The most operator keywords or patterns.
pub const MAX_PATTERNS: usize = 200;

/// Whether moderation acts or only records what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationMode {
    /// Actions are carried out.
    #[default]
    Enforce,
    /// Dry run: every planned action is recorded as `dry_run`, no mutating call is made.
    Shadow,
}

/// Which moderation actions the operator allows (F13); each is independent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModerationActions {
    /// Delete the offending message.
    pub delete: bool,
    /// Warn the author in the channel and by DM.
    pub warn: bool,
    /// Time the author out (the ladder's first step).
    pub timeout: bool,
    /// Kick the author (repeated violations).
    pub kick: bool,
    /// Ban the author (severe or repeated violations).
    pub ban: bool,
}

impl Default for ModerationActions {
    fn default() -> Self {
        Self { delete: true, warn: true, timeout: false, kick: false, ban: false }
    }
}

/// The offender ladder (X8): strikes within the window that escalate the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ladder {
    /// How far back strikes count.
    pub window_days: u32,
    /// Strikes (this one included) from which the author is timed out.
    pub timeout_at: u32,
    /// Strikes from which the author is kicked.
    pub kick_at: u32,
    /// Strikes from which the author is banned.
    pub ban_at: u32,
}

impl Default for Ladder {
    fn default() -> Self {
        Self { window_days: 30, timeout_at: 2, kick_at: 3, ban_at: 4 }
    }
}

/// What to do with Discord invite links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitePolicy {
    /// Invites to this server are fine, invites elsewhere are a violation.
    #[default]
    AllowOwn,
    /// Every invite is a violation.
    Block,
    /// Invites are not checked.
    Allow,
}

/// The free deterministic checks run before any model call (X7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Prefilters {
    /// Discord invite links.
    pub invites: InvitePolicy,
    /// More distinct user or role mentions than this in one message is mention spam; 0 is off.
    pub max_mentions: u32,
    /// The same text posted again and again by one member.
    pub duplicates: bool,
    /// Links to known scam domains (the shipped list).
    pub scam_domains: bool,
    /// Words or phrases that are violations wherever they appear (case-insensitive).
    pub keywords: Vec<String>,
    /// Regular expressions that are violations when they match.
    pub regex: Vec<String>,
}

impl Default for Prefilters {
    fn default() -> Self {
        Self {
            invites: InvitePolicy::AllowOwn,
            max_mentions: 8,
            duplicates: true,
            scam_domains: true,
            keywords: Vec::new(),
            regex: Vec::new(),
        }
    }
}

/// Moderation by plain-language rules (F12–F17); off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModerationSettings {
    /// Whether every message is checked.
    pub enabled: bool,
    /// Enforce, or shadow (dry run).
    pub mode: ModerationMode,
    /// The operator's rules, one per line, numbered R1, R2 … in order.
    pub rules: String,
    /// The actions moderation may take.
    pub actions: ModerationActions,
    /// The least confidence of a verdict that is acted on.
    pub min_confidence: f32,
    /// Members with any of these roles are not moderated.
    pub exempt_roles: Vec<RoleId>,
    /// Messages in these channels (and their threads) are not moderated.
    pub exempt_channels: Vec<ChannelId>,
    /// Members who can moderate (administrators, managers, moderators) are not moderated.
    pub exempt_moderators: bool,
    /// How long a timeout lasts.
    pub timeout_seconds: u32,
    /// The offender ladder.
    pub ladder: Ladder,
    /// The free pre-filters.
    pub prefilters: Prefilters,
    /// A channel that gets a copy of every case (no pings), if any.
    pub log_channel: Option<ChannelId>,
}

impl Default for ModerationSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            mode: ModerationMode::Enforce,
            rules: String::new(),
            actions: ModerationActions::default(),
            min_confidence: 0.8,
            exempt_roles: Vec::new(),
            exempt_channels: Vec::new(),
            exempt_moderators: true,
            timeout_seconds: 3_600,
            ladder: Ladder::default(),
            prefilters: Prefilters::default(),
            log_channel: None,
        }
    }
}

/// A rule of the operator's list: its number (R1 = 1) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its number, from 1.
    pub id: u32,
    /// What it says.
    pub text: String,
}

impl ModerationSettings {
    /// The rules, numbered in order: one per non-empty line, list markers (`-`, `*`, `1.`) dropped.
    #[must_use]
    pub fn numbered_rules(&self) -> Vec<Rule> {
        self.rules
            .lines()
            .map(|line| line.trim().trim_start_matches(['-', '*', '•']).trim_start())
            .map(|line| {
                let digits = line.chars().take_while(char::is_ascii_digit).count();
                let rest = &line[digits..];
                if digits > 0 && (rest.starts_with('.') || rest.starts_with(')')) { rest[1..].trim() } else { line }
            })
            .filter(|line| !line.is_empty())
            .zip(1..)
            .map(|(text, id)| Rule { id, text: text.to_owned() })
            .collect()
    }

    /// Checks the constraints serde cannot express; the error names the field (dotted path
    /// under `moderation`) and what is wrong.
    ///
    /// # Errors
    /// Returns `(field, message)` for the first problem.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let fail = |field: &str, message: String| Err((format!("moderation.{field}"), message));
        if self.rules.chars().count() > MAX_RULES_CHARS {
            return fail("rules", format!("at most {MAX_RULES_CHARS} characters"));
        }
        if self.enabled && self.numbered_rules().is_empty() {
            return fail("rules", "write at least one rule before enabling moderation".into());
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return fail("min_confidence", "must be between 0 and 1".into());
        }
        if self.timeout_seconds == 0 || self.timeout_seconds > MAX_TIMEOUT_SECONDS {
            return fail("timeout_seconds", format!("must be 1 to {MAX_TIMEOUT_SECONDS} seconds (Discord's 28 days)"));
        }
        let ladder = &self.ladder;
        if ladder.window_days == 0 || ladder.window_days > 365 {
            return fail("ladder.window_days", "must be 1 to 365 days".into());
        }
        for (field, value) in
            [("timeout_at", ladder.timeout_at), ("kick_at", ladder.kick_at), ("ban_at", ladder.ban_at)]
        {
            if value == 0 {
                return fail(&format!("ladder.{field}"), "must be at least 1 strike".into());
            }
        }
        let filters = &self.prefilters;
        if filters.keywords.len() > MAX_PATTERNS {
            return fail("prefilters.keywords", format!("at most {MAX_PATTERNS} keywords"));
        }
        if let Some(i) = filters.keywords.iter().position(|k| k.trim().is_empty()) {
            return fail(&format!("prefilters.keywords[{i}]"), "must not be empty".into());
        }
        if filters.regex.len() > MAX_PATTERNS {
            return fail("prefilters.regex", format!("at most {MAX_PATTERNS} patterns"));
        }
        for (i, pattern) in filters.regex.iter().enumerate() {
            if let Err(error) = regex::RegexBuilder::new(pattern).size_limit(1 << 20).build() {
                return fail(&format!("prefilters.regex[{i}]"), format!("does not compile: {error}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_numbered_one_per_line_without_list_markers() {
        let settings = ModerationSettings {
            rules: "No spam or self-promotion.\n\n- No hate speech.\n3. Stay on topic\n* Be kind".into(),
            ..ModerationSettings::default()
        };
        let rules = settings.numbered_rules();
        let texts: Vec<(u32, &str)> = rules.iter().map(|r| (r.id, r.text.as_str())).collect();
        assert_eq!(
            texts,
            [(1, "No spam or self-promotion."), (2, "No hate speech."), (3, "Stay on topic"), (4, "Be kind")]
        );
    }

    #[test]
    fn every_bad_value_names_its_field() {
        let base = ModerationSettings { rules: "No spam.".into(), ..ModerationSettings::default() };
        let field = |settings: ModerationSettings| settings.validate().unwrap_err().0;
        assert!(base.validate().is_ok());
        assert_eq!(
            field(ModerationSettings { enabled: true, rules: " \n ".into(), ..base.clone() }),
            "moderation.rules"
        );
        assert_eq!(field(ModerationSettings { min_confidence: 1.5, ..base.clone() }), "moderation.min_confidence");
        assert_eq!(
            field(ModerationSettings { timeout_seconds: 2_419_201, ..base.clone() }),
            "moderation.timeout_seconds"
        );
        let ladder = Ladder { kick_at: 0, ..Ladder::default() };
        assert_eq!(field(ModerationSettings { ladder, ..base.clone() }), "moderation.ladder.kick_at");
        let prefilters = Prefilters { regex: vec!["ok".into(), "(unclosed".into()], ..Prefilters::default() };
        assert_eq!(field(ModerationSettings { prefilters, ..base.clone() }), "moderation.prefilters.regex[1]");
        let prefilters = Prefilters { keywords: vec![" ".into()], ..Prefilters::default() };
        assert_eq!(field(ModerationSettings { prefilters, ..base }), "moderation.prefilters.keywords[0]");
    }
}
