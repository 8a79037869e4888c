//! Moderation cases (contract): what was judged, the verdict, the decision and each action's
//! outcome, numbered per guild. Written `pending` before acting and final after.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{ChannelId, MessageId, UserId};

/// How long a case (with the message's content) is kept.
pub const CASE_RETENTION: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 60 * 60);

/// What found the violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The model's verdict on the operator's rules.
    Ai,
    /// A free deterministic pre-filter.
    Prefilter,
}

/// What became of a judged message that wrote a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Being acted on (the case is written before the actions run).
    Pending,
    /// A clear violation: the planned actions ran (or were recorded, in shadow mode).
    Acted,
    /// A clear violation, but every action is turned off.
    NoEnabledAction,
    /// The model's answer was not the verdict JSON, or contradicted itself.
    Unparseable,
    /// The verdict was about a message that was not sent.
    UnknownRef,
    /// The verdict named a rule that does not exist.
    UnknownRule,
    /// The quoted evidence is not in the message.
    EvidenceNotInMessage,
    /// Below `min_confidence`.
    LowConfidence,
    /// The model refused to judge.
    ModelRefused,
}

impl Outcome {
    /// The snake-case name, as in the API.
    #[must_use]
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

/// A moderation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Delete the message.
    Delete,
    /// Warn in the channel and by DM.
    Warn,
    /// Time the author out.
    Timeout,
    /// Kick the author.
    Kick,
    /// Ban the author.
    Ban,
}

impl Action {
    /// Whether it acts on the member (and so needs the hierarchy check), not on the message.
    #[must_use]
    pub const fn is_member_level(self) -> bool {
        matches!(self, Self::Timeout | Self::Kick | Self::Ban)
    }
}

/// How one action went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Planned, not yet run (only while the case is pending).
    Planned,
    /// Done.
    Done,
    /// Discord says it was already done (message gone, member gone).
    AlreadyDone,
    /// Shadow mode: recorded, not called.
    DryRun,
    /// Not attempted; `detail` says why (`role_below_bot`, `owner`, `administrator`, a permission).
    Skipped,
    /// Attempted and failed; `detail` gives a hint (a missing permission's name, …).
    Failed,
}

/// One action of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// The action.
    pub action: Action,
    /// How it went.
    pub status: ActionStatus,
    /// Why, when skipped or failed, or a note (`dm_closed`).
    pub detail: Option<String>,
}

/// An undo (X3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reversal {
    /// When.
    pub at: Timestamp,
    /// The operator's note, if any.
    pub note: Option<String>,
    /// What was reversed (`unban`, `remove_timeout`, `remove_strike`).
    pub reversed: Vec<String>,
}

/// A member's appeal, from the DM warning's button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    /// When.
    pub at: Timestamp,
    /// What the member wrote.
    pub text: String,
}

/// A case before the store numbers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCase {
    /// The message judged.
    pub message_id: MessageId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its author: the only member any action may target.
    pub member_id: UserId,
    /// The message's text, kept for operators for [`CASE_RETENTION`].
    pub content: String,
    /// The rules broken (R1 = 1).
    pub rules: Vec<u32>,
    /// Why, in a sentence.
    pub reason: String,
    /// What found it.
    pub source: Source,
    /// Shadow mode.
    pub dry_run: bool,
    /// The outcome (`pending` until the actions ran).
    pub outcome: Outcome,
    /// When.
    pub created_at: Timestamp,
    /// The actions and their status.
    pub actions: Vec<ActionRecord>,
    /// Whether the case counts as a strike on the offender ladder.
    pub strike: bool,
}

/// A stored case (contract shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// The per-guild number, only growing (`case #42`).
    pub id: u64,
    /// Everything else.
    #[serde(flatten)]
    pub body: NewCase,
    /// The member's appeal, if any.
    pub appeal: Option<Appeal>,
    /// The undo, if any.
    pub reversal: Option<Reversal>,
}

impl Case {
    /// When the case (and the content it keeps) expires.
    #[must_use]
    pub fn expires_at(&self) -> Timestamp {
        self.body.created_at.plus(CASE_RETENTION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_serialises_in_the_contract_shape() {
        let case = Case {
            id: 42,
            body: NewCase {
                message_id: MessageId::new(5).unwrap(),
                channel_id: ChannelId::new(6).unwrap(),
                member_id: UserId::new(7).unwrap(),
                content: "buy followers".into(),
                rules: vec![1],
                reason: "spam".into(),
                source: Source::Ai,
                dry_run: false,
                outcome: Outcome::Acted,
                created_at: Timestamp::from_secs(1),
                actions: vec![ActionRecord {
                    action: Action::Ban,
                    status: ActionStatus::Skipped,
                    detail: Some("BAN_MEMBERS".into()),
                }],
                strike: true,
            },
            appeal: None,
            reversal: None,
        };
        let json = serde_json::to_value(&case).unwrap();
        assert_eq!(json["id"], 42);
        assert_eq!(json["member_id"], "7");
        assert_eq!(json["source"], "ai");
        assert_eq!(json["outcome"], "acted");
        assert_eq!(
            json["actions"][0],
            serde_json::json!({"action": "ban", "status": "skipped", "detail": "BAN_MEMBERS"})
        );
        assert!(json["appeal"].is_null() && json["reversal"].is_null());
        let back: Case = serde_json::from_value(json).unwrap();
        assert_eq!(back, case);
        assert_eq!(Outcome::EvidenceNotInMessage.name(), "evidence_not_in_message");
    }
}
