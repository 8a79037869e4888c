//! Reading the model's verdict: only a clear violation of an existing rule, quoted from the
//! message, at or above the confidence threshold, is acted on. Anything else is no action, with
//! the reason recorded (principle 3: caution by default).

use serde::Deserialize;

use super::case::Outcome;
use super::prompt::JudgeReply;
use super::settings::Rule;

/// How severe the model thinks a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// No violation.
    None,
    /// Minor.
    Low,
    /// Moderate.
    Medium,
    /// Serious.
    High,
    /// Severe: a ban at once is allowed (if enabled).
    Severe,
}

#[derive(Debug, Deserialize)]
struct Verdicts {
    verdicts: Vec<RawVerdict>,
}

#[derive(Debug, Deserialize)]
struct RawVerdict {
    #[serde(rename = "ref")]
    reference: String,
    violation: bool,
    #[serde(default)]
    rule_ids: Vec<RuleRef>,
    severity: Severity,
    confidence: f32,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    reason: String,
}

/// A rule id as models write it: `"R1"`, `"1"` or `1`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RuleRef {
    Number(u64),
    Text(String),
}

impl RuleRef {
    fn id(&self) -> Option<u32> {
        match self {
            Self::Number(n) => u32::try_from(*n).ok(),
            Self::Text(text) => text.trim().trim_start_matches(['R', 'r']).parse().ok(),
        }
    }
}

/// What the verdict on one message means.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// No violation: nothing happens, no case.
    Clean,
    /// A clear violation.
    Violation {
        /// The rules broken (ids that exist).
        rules: Vec<u32>,
        /// How severe.
        severity: Severity,
        /// The model's confidence.
        confidence: f32,
        /// Its one-sentence reason.
        reason: String,
    },
    /// A verdict that cannot be acted on; the case records why.
    Unusable {
        /// Which check failed.
        outcome: Outcome,
        /// What the model said, when it said something readable.
        reason: String,
    },
}

/// Normalises text for the evidence check: whitespace collapsed, case folded.
fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Judges the model's `reply` on the message `reference` whose text is `content`.
#[must_use]
pub fn judge(reply: &JudgeReply, reference: &str, content: &str, rules: &[Rule], min_confidence: f32) -> Judgement {
    let unusable = |outcome, reason: &str| Judgement::Unusable { outcome, reason: reason.to_owned() };
    let text = match reply {
        JudgeReply::Refused(why) => return unusable(Outcome::ModelRefused, why),
        JudgeReply::Text(text) => text,
    };
    // Some models wrap JSON in a code fence despite the schema.
    let trimmed = text.trim().trim_start_matches("```json").trim_start_matches("```").trim_end_matches("```").trim();
    let Ok(parsed) = serde_json::from_str::<Verdicts>(trimmed) else {
        return unusable(Outcome::Unparseable, "the answer is not the verdict JSON");
    };
    let mut mine = parsed.verdicts.iter().filter(|v| v.reference == reference);
    let (Some(verdict), None) = (mine.next(), mine.next()) else {
        return unusable(Outcome::UnknownRef, "no single verdict for the message judged");
    };
    if !verdict.violation {
        return Judgement::Clean;
    }
    if verdict.severity == Severity::None || !verdict.confidence.is_finite() {
        return unusable(Outcome::Unparseable, "a violation of severity none, or no confidence: inconsistent");
    }
    let ids: Vec<Option<u32>> = verdict.rule_ids.iter().map(RuleRef::id).collect();
    if ids.is_empty() || ids.iter().any(|id| id.is_none_or(|id| !rules.iter().any(|rule| rule.id == id))) {
        return unusable(Outcome::UnknownRule, &verdict.reason);
    }
    let evidence = normalised(&verdict.evidence);
    if evidence.is_empty() || !normalised(content).contains(&evidence) {
        return unusable(Outcome::EvidenceNotInMessage, &verdict.reason);
    }
    if verdict.confidence < min_confidence {
        return unusable(Outcome::LowConfidence, &verdict.reason);
    }
    let mut rules: Vec<u32> = ids.into_iter().flatten().collect();
    rules.sort_unstable();
    rules.dedup();
    Judgement::Violation {
        rules,
        severity: verdict.severity,
        confidence: verdict.confidence,
        reason: verdict.reason.chars().take(300).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENT: &str = "Buy cheap   followers at spam.example now!";

    fn rules() -> Vec<Rule> {
        vec![Rule { id: 1, text: "No spam.".into() }, Rule { id: 2, text: "Be kind.".into() }]
    }

    fn reply(verdicts: &str) -> JudgeReply {
        JudgeReply::Text(format!("{{\"verdicts\": [{verdicts}]}}"))
    }

    fn verdict(reference: &str, rule: &str, evidence: &str, confidence: f32) -> String {
        format!(
            r#"{{"ref": "{reference}", "violation": true, "rule_ids": [{rule}], "severity": "high", "confidence": {confidence}, "evidence": "{evidence}", "reason": "Advertising."}}"#
        )
    }

    fn outcome(judgement: Judgement) -> Option<Outcome> {
        match judgement {
            Judgement::Unusable { outcome, .. } => Some(outcome),
            _ => None,
        }
    }

    #[test]
    fn a_clear_violation_names_existing_rules_and_quotes_the_message() {
        let judged = judge(&reply(&verdict("m1", "\"R1\"", "buy cheap followers", 0.93)), "m1", CONTENT, &rules(), 0.8);
        assert_eq!(
            judged,
            Judgement::Violation {
                rules: vec![1],
                severity: Severity::High,
                confidence: 0.93,
                reason: "Advertising.".into()
            }
        );
        let numeric = judge(&reply(&verdict("m1", "1, \"2\"", "spam.example", 0.9)), "m1", CONTENT, &rules(), 0.8);
        assert!(matches!(numeric, Judgement::Violation { ref rules, .. } if rules == &[1, 2]));
        let fenced =
            JudgeReply::Text(format!("```json\n{{\"verdicts\": [{}]}}\n```", verdict("m1", "\"R1\"", "now!", 0.9)));
        assert!(matches!(judge(&fenced, "m1", CONTENT, &rules(), 0.8), Judgement::Violation { .. }));
    }

    #[test]
    fn anything_short_of_clear_is_no_action_with_its_reason() {
        let r = rules();
        let clean = r#"{"ref": "m1", "violation": false, "rule_ids": [], "severity": "none", "confidence": 0.99, "evidence": "", "reason": "fine"}"#;
        assert_eq!(judge(&reply(clean), "m1", CONTENT, &r, 0.8), Judgement::Clean);
        assert_eq!(
            outcome(judge(&JudgeReply::Text("ban them".into()), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::Unparseable)
        );
        assert_eq!(
            outcome(judge(&reply(&verdict("m2", "\"R1\"", "buy", 0.9)), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::UnknownRef)
        );
        let twice = format!("{},{}", verdict("m1", "\"R1\"", "buy", 0.9), verdict("m1", "\"R1\"", "buy", 0.9));
        assert_eq!(outcome(judge(&reply(&twice), "m1", CONTENT, &r, 0.8)), Some(Outcome::UnknownRef));
        assert_eq!(
            outcome(judge(&reply(&verdict("m1", "\"R7\"", "buy", 0.9)), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::UnknownRule)
        );
        assert_eq!(
            outcome(judge(&reply(&verdict("m1", "", "buy", 0.9)), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::UnknownRule)
        );
        assert_eq!(
            outcome(judge(&reply(&verdict("m1", "\"R1\"", "ban user 123", 0.9)), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::EvidenceNotInMessage)
        );
        assert_eq!(
            outcome(judge(&reply(&verdict("m1", "\"R1\"", "", 0.9)), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::EvidenceNotInMessage)
        );
        assert_eq!(
            outcome(judge(&reply(&verdict("m1", "\"R1\"", "buy", 0.5)), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::LowConfidence)
        );
        let inconsistent = r#"{"ref": "m1", "violation": true, "rule_ids": ["R1"], "severity": "none", "confidence": 0.9, "evidence": "buy", "reason": "?"}"#;
        assert_eq!(outcome(judge(&reply(inconsistent), "m1", CONTENT, &r, 0.8)), Some(Outcome::Unparseable));
        assert_eq!(
            outcome(judge(&JudgeReply::Refused("no".into()), "m1", CONTENT, &r, 0.8)),
            Some(Outcome::ModelRefused)
        );
    }
}
