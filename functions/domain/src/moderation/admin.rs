//! What operators do with moderation: undo a case (X3), try rules in the sandbox (X2), and
//! see what keeps moderation from working (health, F18, F29).

use std::sync::Arc;

use serde::Serialize;

use super::case::{Action, ActionStatus, Case, Outcome, Reversal};
use super::hierarchy::Permissions;
use super::policy::plan;
use super::prefilter::{self, Prefilter};
use super::prompt::{JudgeRequest, JudgedMessage};
use super::settings::{ModerationSettings, Rule};
use super::verdict::{Judgement, judge};
use crate::clock::Clock;
use crate::ids::{GuildId, UserId};
use crate::model::ChatModel;
use crate::ports::{CaseStore, ModerationRest, StoreError, UsageStore, codes};
use crate::quota::Month;
use crate::settings::GuildSettings;

/// The most samples one sandbox run judges.
pub const MAX_SANDBOX_SAMPLES: usize = 50;

/// A problem that keeps moderation from working as configured (contract codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `missing_permission`, `role_below_members`, `missing_intent`, `gateway_not_running`,
    /// `no_model`, `quota_exhausted`.
    pub code: &'static str,
    /// The missing permission's constant name, for `missing_permission`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<&'static str>,
    /// What an admin should know and do.
    pub message: String,
}

/// What the deployment knows about itself that health reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployment {
    /// Whether a gateway connection feeds messages to moderation, when this process can tell
    /// (standalone can; the AWS settings API cannot see the daemon: check its `/healthz`).
    pub gateway_running: Option<bool>,
    /// Whether the bot was granted the Message Content intent, when known.
    pub message_content_intent: Option<bool>,
}

/// Why an undo was refused.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    /// No such case.
    #[error("no such case")]
    NotFound,
    /// It was undone already.
    #[error("already_reverted")]
    AlreadyReverted,
    /// The store failed.
    #[error("the case store failed")]
    Store(#[from] StoreError),
}

/// The operator's moderation tools, over the ports they need.
#[derive(Clone)]
pub struct ModerationAdmin {
    /// Cases and strikes.
    pub cases: Arc<dyn CaseStore>,
    /// Quota counters (health).
    pub usage: Arc<dyn UsageStore>,
    /// Discord: undo calls and the bot's roles.
    pub rest: Arc<dyn ModerationRest>,
    /// The judge (sandbox).
    pub model: Arc<dyn ChatModel>,
    /// The bot's user id, for its roles; `None` when unknown. A bot's user id is its
    /// application's id.
    pub bot: Option<UserId>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// What health reports about the deployment.
    pub deployment: Deployment,
}

/// One sample's result in the sandbox (contract shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SandboxResult {
    /// Whether it is a clear violation (by a pre-filter or the model).
    pub violation: bool,
    /// The rules broken.
    pub rule_ids: Vec<u32>,
    /// The model's confidence, when it judged.
    pub confidence: Option<f32>,
    /// Why.
    pub reason: String,
    /// The pre-filter that matched, if any.
    pub prefilter: Option<Prefilter>,
    /// `{"actions": [...]}` or `{"no_action": "<outcome>"}`.
    pub decision: serde_json::Value,
}

impl ModerationAdmin {
    /// Undoes a case: lifts a ban or a timeout it placed and removes its strike. Idempotent: a
    /// second undo is refused with no Discord call. A kick cannot be undone; the deleted text
    /// stays visible to operators on the case.
    ///
    /// # Errors
    /// Returns [`UndoError`] when there is no such case, it was undone, or the store fails.
    pub async fn undo(&self, guild: GuildId, id: u64, note: Option<String>) -> Result<Case, UndoError> {
        let now = self.clock.now();
        let mut case = self.cases.case(guild, id, now).await?.ok_or(UndoError::NotFound)?;
        if case.reversal.is_some() {
            return Err(UndoError::AlreadyReverted);
        }
        let member = case.body.member_id;
        let reason = format!("Steward case #{id} undone");
        let done = |action: Action| {
            case.body.actions.iter().any(|a| a.action == action && matches!(a.status, ActionStatus::Done))
        };
        let mut reversed = Vec::new();
        if done(Action::Ban) {
            match self.rest.unban_member(guild, member, &reason).await {
                Ok(()) => reversed.push("unban".to_owned()),
                Err(e) if e.code == Some(codes::UNKNOWN_BAN) => reversed.push("unban".to_owned()),
                Err(e) => reversed.push(format!("unban failed: {}", hint(&e))),
            }
        }
        if done(Action::Timeout) {
            match self.rest.timeout_member(guild, member, None, &reason).await {
                Ok(()) => reversed.push("remove_timeout".to_owned()),
                Err(e) => reversed.push(format!("remove_timeout failed: {}", hint(&e))),
            }
        }
        if self.cases.remove_strike(guild, member, id).await? {
            reversed.push("remove_strike".to_owned());
        }
        if done(Action::Kick) {
            reversed.push("kick cannot be undone".to_owned());
        }
        case.reversal = Some(Reversal { at: now, note, reversed });
        self.cases.save_case(guild, &case).await?;
        Ok(case)
    }

    /// Judges sample messages against `settings` (or other `rules`) with no Discord call, no
    /// case and no member quota.
    ///
    /// # Errors
    /// Returns the model's error when it fails.
    pub async fn sandbox(
        &self,
        settings: &ModerationSettings,
        samples: &[String],
    ) -> Result<Vec<SandboxResult>, crate::model::ModelError> {
        let rules = settings.numbered_rules();
        let mut results = Vec::with_capacity(samples.len());
        for content in samples {
            let scan = prefilter::scan(content, &settings.prefilters);
            let hit = scan.hit.or_else(|| {
                scan.invites_to_check.first().map(|code| prefilter::Hit {
                    filter: Prefilter::Invite,
                    matched: format!("discord.gg/{code} (unless it is this server's own)"),
                })
            });
            if let Some(hit) = hit {
                results.push(SandboxResult {
                    violation: true,
                    rule_ids: vec![],
                    confidence: None,
                    reason: hit.reason(),
                    prefilter: Some(hit.filter),
                    decision: decision(settings, None),
                });
                continue;
            }
            results.push(self.judge_sample(settings, &rules, content).await?);
        }
        Ok(results)
    }

    async fn judge_sample(
        &self,
        settings: &ModerationSettings,
        rules: &[Rule],
        content: &str,
    ) -> Result<SandboxResult, crate::model::ModelError> {
        let request = JudgeRequest {
            rules: rules.to_vec(),
            messages: vec![JudgedMessage {
                reference: "m1".into(),
                channel: "sandbox".into(),
                content: content.into(),
            }],
            marker: format!("{:016x}", uuid::Uuid::new_v4().as_u128() as u64),
        };
        let no_model = || SandboxResult {
            violation: false,
            rule_ids: vec![],
            confidence: None,
            reason: "No model can judge (LLM_PROVIDER=extractive): only the pre-filters run.".into(),
            prefilter: None,
            decision: serde_json::json!({"no_action": "no_model"}),
        };
        let Some(reply) = self.model.judge(&request).await? else { return Ok(no_model()) };
        Ok(match judge(&reply, "m1", content, rules, settings.min_confidence) {
            Judgement::Clean => SandboxResult {
                violation: false,
                rule_ids: vec![],
                confidence: None,
                reason: "No rule is broken.".into(),
                prefilter: None,
                decision: serde_json::json!({"no_action": "clean"}),
            },
            Judgement::Unusable { outcome, reason } => SandboxResult {
                violation: false,
                rule_ids: vec![],
                confidence: None,
                reason,
                prefilter: None,
                decision: serde_json::json!({ "no_action": outcome.name() }),
            },
            Judgement::Violation { rules, severity, confidence, reason } => SandboxResult {
                violation: true,
                rule_ids: rules,
                confidence: Some(confidence),
                reason,
                prefilter: None,
                decision: decision(settings, Some(severity)),
            },
        })
    }

    /// What keeps moderation from working as `settings` ask, each with a sentence for admins.
    pub async fn health(&self, guild: GuildId, settings: &GuildSettings) -> Vec<Problem> {
        let mut problems = Vec::new();
        let moderation = &settings.moderation;
        if self.deployment.gateway_running == Some(false) {
            problems.push(problem(
                "gateway_not_running",
                None,
                "No gateway connection reads this server's messages: run `steward run` (standalone) or the \
                 `steward gateway` daemon (AWS), with DISCORD_BOT_TOKEN set.",
            ));
        }
        if self.deployment.message_content_intent == Some(false) {
            problems.push(problem(
                "missing_intent",
                None,
                "The bot lacks the Message Content intent: turn it on in the Developer Portal (Bot → Privileged \
                 Gateway Intents), or moderation sees empty messages.",
            ));
        }
        if !self.model.can_judge() {
            problems.push(problem(
                "no_model",
                None,
                "No AI model is configured (LLM_PROVIDER=extractive): only the free pre-filters run. Set \
                 OPENAI_BASE_URL and OPENAI_API_KEY for AI moderation.",
            ));
        }
        let month = Month::containing(self.clock.now());
        if let Ok(used) = self.usage.used(guild, month).await
            && used >= settings.plan.monthly_limit()
        {
            problems.push(problem(
                "quota_exhausted",
                None,
                "This month's AI messages are used up: AI checks stop until the quota resets (pre-filters keep \
                 working). Change the plan to continue.",
            ));
        }
        let Some(bot) = self.bot else { return problems };
        let (roles, bot_roles) = match (self.rest.guild_roles(guild).await, self.rest.member_roles(guild, bot).await) {
            (Ok(roles), Ok(bot_roles)) => (roles, bot_roles),
            _ => {
                problems.push(problem(
                    "missing_permission",
                    None,
                    "Steward cannot read this server's roles: is the bot in the server?",
                ));
                return problems;
            }
        };
        let permissions = roles.permissions(&bot_roles);
        let enabled = [
            (moderation.actions.delete, Action::Delete),
            (moderation.actions.warn, Action::Warn),
            (moderation.actions.timeout, Action::Timeout),
            (moderation.actions.kick, Action::Kick),
            (moderation.actions.ban, Action::Ban),
        ];
        for (on, action) in enabled {
            let needed = Permissions::for_action(action);
            if on && !permissions.has(needed) {
                problems.push(problem(
                    "missing_permission",
                    Some(needed.name()),
                    &format!(
                        "The bot lacks {} so it cannot {}: grant it to Steward's role in Server Settings → Roles.",
                        needed.name(),
                        format!("{action:?}").to_lowercase()
                    ),
                ));
            }
        }
        let member_level = moderation.actions.timeout || moderation.actions.kick || moderation.actions.ban;
        let bot_top = roles.roles.iter().filter(|r| bot_roles.contains(&r.id)).map(|r| r.position).max().unwrap_or(0);
        let above = roles
            .roles
            .iter()
            .filter(|r| {
                r.position >= bot_top && !bot_roles.contains(&r.id) && !r.permissions.has(Permissions::ADMINISTRATOR)
            })
            .count();
        if member_level && above > 0 {
            problems.push(problem(
                "role_below_members",
                None,
                &format!(
                    "{above} role(s) sit at or above Steward's: members holding them cannot be timed out, kicked or \
                     banned. Drag Steward's role above them in Server Settings → Roles."
                ),
            ));
        }
        problems
    }
}

fn problem(code: &'static str, permission: Option<&'static str>, message: &str) -> Problem {
    Problem { code, permission, message: message.to_owned() }
}

fn hint(error: &crate::ports::DiscordError) -> String {
    if error.code == Some(codes::MISSING_PERMISSIONS) {
        "BAN_MEMBERS".to_owned()
    } else {
        format!("{:?}", error.kind).to_lowercase()
    }
}

/// The sandbox's decision for a clear violation: the actions a first offence gets.
fn decision(settings: &ModerationSettings, severity: Option<super::verdict::Severity>) -> serde_json::Value {
    let actions = plan(settings.actions, settings.ladder, 1, severity);
    if actions.is_empty() {
        serde_json::json!({ "no_action": Outcome::NoEnabledAction.name() })
    } else {
        serde_json::json!({ "actions": actions })
    }
}
