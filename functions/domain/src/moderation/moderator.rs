//! The moderation pipeline for one message: claim → exemptions → free pre-filters → quota → AI
//! verdict → policy and ladder → hierarchy and permission checks → shadow or enforce → the
//! actions in order → the case, written pending then final.
//!
//! Every action targets `message.author_id` and nobody else: no other id reaches a Discord call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::{info, warn};

use super::case::{Action, ActionRecord, ActionStatus, Case, NewCase, Outcome, Source};
use super::hierarchy::{GuildRoles, Permissions};
use super::policy::plan;
use super::prefilter::{self, Hit, Prefilter};
use super::prompt::{JudgeRequest, JudgedMessage};
use super::settings::{ModerationMode, ModerationSettings, Rule};
use super::texts;
use super::verdict::{Judgement, Severity, judge};
use crate::clock::{Clock, Timestamp};
use crate::events::ChannelMessage;
use crate::ids::{GuildId, RoleId};
use crate::language::Language;
use crate::message::OutboundMessage;
use crate::model::ChatModel;
use crate::ports::{
    CaseStore, Claim, ClaimStore, DiscordError, DiscordErrorKind, DiscordRest, ModerationRest, StoreError, UsageStore,
    codes,
};
use crate::quota::{Month, Reservation};
use crate::settings::GuildSettings;

/// The longest text sent to the model; longer messages are judged on their start (Discord's
/// own limit is 4,000 characters for members with Nitro).
pub const MAX_JUDGED_CHARS: usize = 4_000;
/// How long the same text from the same member counts as a repeat.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How long guild roles and the bot's roles are cached.
const ROLES_TTL: Duration = Duration::from_secs(60);
/// How long a worker holds a message before a redelivery may take it over.
const LEASE: Duration = Duration::from_secs(90);
/// How long a judged message is remembered, so redeliveries are recognised.
const REMEMBER: Duration = Duration::from_secs(24 * 60 * 60);
/// How many seconds of the author's messages a ban deletes.
const BAN_DELETES_SECONDS: u32 = 24 * 60 * 60;

/// What moderation did with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Moderated {
    /// Moderation is off in the guild.
    Off,
    /// Already judged (a replayed or redelivered event).
    Duplicate,
    /// Not judged, and why (`owner`, `moderator`, `exempt_role`, `exempt_channel`, `no_text`).
    Exempt(&'static str),
    /// Judged: no violation.
    Clean,
    /// The guild's quota is used up: only the free pre-filters ran.
    QuotaExhausted,
    /// No model can judge (the offline model): only the free pre-filters ran.
    NoModel,
    /// The model failed (timeout, 5xx): no action, the quota given back.
    ModelFailed,
    /// A case was written.
    Case(Box<Case>),
}

impl Moderated {
    /// Whether the message is gone, so answering it makes no sense.
    #[must_use]
    pub fn deleted(&self) -> bool {
        let Self::Case(case) = self else { return false };
        !case.body.dry_run
            && case.body.actions.iter().any(|a| {
                a.action == Action::Delete && matches!(a.status, ActionStatus::Done | ActionStatus::AlreadyDone)
            })
    }
}

/// Why moderation could not finish; the event is retried.
#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    /// The store failed.
    #[error("moderation could not reach its store")]
    Store(#[from] StoreError),
    /// Discord could not tell the guild's roles, so the hierarchy cannot be checked.
    #[error("moderation could not read the guild's roles")]
    Roles(#[source] DiscordError),
}

/// The ports moderation uses.
#[derive(Clone)]
pub struct ModerationPorts {
    /// Guild settings are read by the caller; quota counters here.
    pub usage: Arc<dyn UsageStore>,
    /// Cases and strikes.
    pub cases: Arc<dyn CaseStore>,
    /// Once-per-message leases and the duplicate filter.
    pub claims: Arc<dyn ClaimStore>,
    /// The judge.
    pub model: Arc<dyn ChatModel>,
    /// Posting warnings and the log channel.
    pub discord: Arc<dyn DiscordRest>,
    /// Acting on messages and members.
    pub rest: Arc<dyn ModerationRest>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

type RolesCache = HashMap<GuildId, (Timestamp, Arc<GuildRoles>, Vec<RoleId>)>;

/// Moderates guild messages by the operator's rules.
#[derive(Clone)]
pub struct Moderator {
    ports: ModerationPorts,
    roles: Arc<Mutex<RolesCache>>,
}

/// Who the author is, as far as moderation cares.
struct Standing {
    roles: Arc<GuildRoles>,
    bot_permissions: Permissions,
    /// `Err(detail)` when member-level actions cannot target the author.
    actionable: Result<(), &'static str>,
}

impl Moderator {
    /// Moderation over `ports`.
    #[must_use]
    pub fn new(ports: ModerationPorts) -> Self {
        Self { ports, roles: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Moderates one message under the guild's `settings`.
    ///
    /// # Errors
    /// Returns an error when the store or Discord's role lookup fails before anything was done;
    /// the lease then lets a redelivery try again.
    pub async fn moderate(
        &self,
        message: &ChannelMessage,
        settings: &GuildSettings,
    ) -> Result<Moderated, ModerationError> {
        let moderation = &settings.moderation;
        if !settings.enabled || !moderation.enabled {
            return Ok(Moderated::Off);
        }
        let now = self.ports.clock.now();
        let key = format!("mod:{}:{:016x}", message.message_id, fingerprint(&message.content));
        match self.ports.claims.claim(&key, now, now.plus(LEASE)).await? {
            Claim::Acquired => {}
            Claim::Held { .. } | Claim::Done => return Ok(Moderated::Duplicate),
        }
        let result = self.judge_and_act(message, settings, now).await;
        if result.is_ok()
            && let Err(error) = self.ports.claims.complete(&key, now.plus(REMEMBER)).await
        {
            warn!(error = &error as &dyn std::error::Error, "could not record the message as moderated");
        }
        result
    }

    async fn judge_and_act(
        &self,
        message: &ChannelMessage,
        settings: &GuildSettings,
        now: Timestamp,
    ) -> Result<Moderated, ModerationError> {
        let moderation = &settings.moderation;
        if let Some(why) = exempt_place(moderation, message) {
            return Ok(Moderated::Exempt(why));
        }
        let standing = self.standing(message).await?;
        if message.author_id == standing.roles.owner {
            return Ok(Moderated::Exempt("owner"));
        }
        if moderation.exempt_moderators && standing.roles.permissions(&message.author_roles).can_moderate() {
            return Ok(Moderated::Exempt("moderator"));
        }

        // Free pre-filters: no quota, no model.
        if let Some(hit) = self.prefilters(message, moderation, now).await {
            let found = Found { source: Source::Prefilter, rules: vec![], reason: hit.reason(), severity: None };
            return self.act(message, settings, &standing, found, now).await;
        }
        if message.content.trim().is_empty() {
            // Attachments alone: nothing to judge as text.
            return Ok(Moderated::Exempt("no_text"));
        }

        // One AI check = one message of quota (F15), whatever it finds.
        let month = Month::containing(now);
        match self.ports.usage.reserve(message.guild_id, month, settings.plan.monthly_limit()).await? {
            Reservation::Granted { .. } => {}
            Reservation::Exhausted => return Ok(Moderated::QuotaExhausted),
        }
        let rules = moderation.numbered_rules();
        let request = judge_request(message, &rules);
        let reply = match self.ports.model.judge(&request).await {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                self.release(message.guild_id, month).await;
                return Ok(Moderated::NoModel);
            }
            Err(error) => {
                warn!(error = &error as &dyn std::error::Error, message = %message.message_id, "the moderation model failed; no action");
                self.release(message.guild_id, month).await;
                return Ok(Moderated::ModelFailed);
            }
        };
        match judge(&reply, "m1", &message.content, &rules, moderation.min_confidence) {
            Judgement::Clean => Ok(Moderated::Clean),
            Judgement::Unusable { outcome, reason } => {
                info!(message = %message.message_id, outcome = %outcome.name(), "verdict not acted on");
                let case = self
                    .ports
                    .cases
                    .open_case(message.guild_id, new_case(message, Source::Ai, vec![], reason, outcome, false, now))
                    .await?;
                Ok(Moderated::Case(Box::new(case)))
            }
            Judgement::Violation { rules, severity, reason, .. } => {
                let found = Found { source: Source::Ai, rules, reason, severity: Some(severity) };
                self.act(message, settings, &standing, found, now).await
            }
        }
    }

    async fn release(&self, guild: GuildId, month: Month) {
        if let Err(error) = self.ports.usage.release(guild, month).await {
            warn!(error = &error as &dyn std::error::Error, "could not give back the quota");
        }
    }

    /// The first pre-filter hit, if any: invites to other servers, repeats, and the pure checks.
    async fn prefilters(
        &self,
        message: &ChannelMessage,
        moderation: &ModerationSettings,
        now: Timestamp,
    ) -> Option<Hit> {
        let scan = prefilter::scan(&message.content, &moderation.prefilters);
        if scan.hit.is_some() {
            return scan.hit;
        }
        for code in &scan.invites_to_check {
            match self.ports.rest.invite_guild(code).await {
                Ok(Some(guild)) if guild == message.guild_id => {}
                // Another server's invite, or one that does not resolve (expired, fake).
                Ok(_) => return Some(Hit { filter: Prefilter::Invite, matched: format!("discord.gg/{code}") }),
                Err(error) => {
                    warn!(error = &error as &dyn std::error::Error, "could not resolve an invite; not acted on")
                }
            }
        }
        if moderation.prefilters.duplicates && !message.edited {
            let text = prefilter::visible(&message.content).trim().to_lowercase();
            // Short replies ("ok", "thanks") repeat innocently; only longer texts or links count.
            if text.chars().count() >= 20 || text.contains("://") {
                let key = format!("dup:{}:{}:{:016x}", message.guild_id, message.author_id, fingerprint(&text));
                match self.ports.claims.claim(&key, now, now.plus(DUPLICATE_WINDOW)).await {
                    Ok(Claim::Acquired) => {}
                    Ok(_) => return Some(Hit { filter: Prefilter::Duplicate, matched: String::new() }),
                    Err(error) => warn!(error = &error as &dyn std::error::Error, "duplicate check unavailable"),
                }
            }
        }
        None
    }

    /// The guild's roles and the bot's, cached for a minute, and whether the author can be acted on.
    async fn standing(&self, message: &ChannelMessage) -> Result<Standing, ModerationError> {
        let now = self.ports.clock.now();
        let cached = super::lock(&self.roles)
            .get(&message.guild_id)
            .filter(|(at, ..)| now.distance(*at) < ROLES_TTL)
            .map(|(_, roles, bot)| (Arc::clone(roles), bot.clone()));
        let (roles, bot_roles) = match cached {
            Some(hit) => hit,
            None => {
                let roles =
                    Arc::new(self.ports.rest.guild_roles(message.guild_id).await.map_err(ModerationError::Roles)?);
                let bot = self
                    .ports
                    .rest
                    .member_roles(message.guild_id, message.bot_user_id)
                    .await
                    .map_err(ModerationError::Roles)?;
                super::lock(&self.roles).insert(message.guild_id, (now, Arc::clone(&roles), bot.clone()));
                (roles, bot)
            }
        };
        let bot_permissions = roles.permissions(&bot_roles);
        let actionable = roles.actionable(message.author_id, &message.author_roles, &bot_roles).map_err(|p| p.detail());
        Ok(Standing { roles, bot_permissions, actionable })
    }

    /// Plans, checks, records and carries out the actions for a clear violation.
    async fn act(
        &self,
        message: &ChannelMessage,
        settings: &GuildSettings,
        standing: &Standing,
        found: Found,
        now: Timestamp,
    ) -> Result<Moderated, ModerationError> {
        let moderation = &settings.moderation;
        let guild = message.guild_id;
        let author = message.author_id;
        let shadow = moderation.mode == ModerationMode::Shadow;
        let window = now.minus(Duration::from_secs(u64::from(moderation.ladder.window_days) * 86_400));
        let strikes = self.ports.cases.strikes(guild, author, window).await? + 1;
        let planned = plan(moderation.actions, moderation.ladder, strikes, found.severity);
        let outcome = if planned.is_empty() { Outcome::NoEnabledAction } else { Outcome::Pending };
        let mut body = new_case(message, found.source, found.rules.clone(), found.reason.clone(), outcome, shadow, now);
        body.strike = !shadow && !planned.is_empty();
        body.actions = planned
            .iter()
            .map(|&action| {
                let (status, detail) = match precheck(action, standing) {
                    Err(detail) => (ActionStatus::Skipped, Some(detail)),
                    Ok(()) if shadow => (ActionStatus::DryRun, None),
                    Ok(()) => (ActionStatus::Planned, None),
                };
                ActionRecord { action, status, detail }
            })
            .collect();
        let mut case = self.ports.cases.open_case(guild, body).await?;
        if planned.is_empty() {
            return Ok(Moderated::Case(Box::new(case)));
        }
        if case.body.strike {
            let expires = now.plus(Duration::from_secs(u64::from(moderation.ladder.window_days) * 86_400));
            self.ports.cases.add_strike(guild, author, case.id, now, expires).await?;
        }
        if !shadow {
            self.execute(message, settings, &mut case, now).await;
        }
        case.body.outcome = Outcome::Acted;
        self.ports.cases.save_case(guild, &case).await?;
        info!(guild = %guild, case = case.id, member = %author, source = ?case.body.source, dry_run = shadow, "moderation case");
        self.mirror(settings, &case).await;
        Ok(Moderated::Case(Box::new(case)))
    }

    /// Runs the planned actions in order: DM warning (before a kick or ban closes the DM),
    /// delete, channel warning, then the member-level action.
    async fn execute(&self, message: &ChannelMessage, settings: &GuildSettings, case: &mut Case, now: Timestamp) {
        let moderation = &settings.moderation;
        let (guild, author) = (message.guild_id, message.author_id);
        let reason = audit_reason(case);
        let rules = rule_texts(&moderation.numbered_rules(), &case.body.rules, &case.body.reason);
        let language = Language::of_member(&message.content, None);
        let planned = |case: &Case, action: Action| {
            case.body.actions.iter().any(|a| a.action == action && a.status == ActionStatus::Planned)
        };
        let deleting = planned(case, Action::Delete);

        let mut dm_note = None;
        if planned(case, Action::Warn) {
            let dm =
                OutboundMessage::text(texts::warning_dm(language, message.channel_name.as_deref(), &rules, case.id));
            if let Err(error) = self.ports.rest.send_dm(author, &dm).await {
                dm_note = Some(if error.code == Some(codes::CANNOT_DM) { "dm_closed" } else { "dm_failed" });
            }
        }
        if deleting {
            let result = self.ports.rest.delete_message(message.channel_id, message.message_id, &reason).await;
            record(case, Action::Delete, result);
        }
        if planned(case, Action::Warn) {
            let mut warning = OutboundMessage::text(texts::warning(language, author, &rules));
            warning.ping = Some(author);
            if !deleting {
                // The message is still there: point at it (never quote it).
                warning.reply_to = Some(message.message_id);
            }
            let result = self.ports.discord.create_message(message.channel_id, &warning).await.map(drop);
            record(case, Action::Warn, result);
            if let Some(note) = dm_note
                && let Some(warn) = case.body.actions.iter_mut().find(|a| a.action == Action::Warn)
                && warn.detail.is_none()
            {
                warn.detail = Some(note.to_owned());
            }
        }
        for action in [Action::Timeout, Action::Kick, Action::Ban] {
            if !planned(case, action) {
                continue;
            }
            let result = match action {
                Action::Timeout => {
                    let until = now.plus(Duration::from_secs(u64::from(moderation.timeout_seconds)));
                    self.ports.rest.timeout_member(guild, author, Some(until), &reason).await
                }
                Action::Kick => self.ports.rest.kick_member(guild, author, &reason).await,
                _ => self.ports.rest.ban_member(guild, author, BAN_DELETES_SECONDS, &reason).await,
            };
            record(case, action, result);
        }
    }

    /// Posts a copy of the case to the log channel, pinging no one.
    async fn mirror(&self, settings: &GuildSettings, case: &Case) {
        let Some(channel) = settings.moderation.log_channel else { return };
        let text = texts::log_line(case);
        if let Err(error) = self.ports.discord.create_message(channel, &OutboundMessage::text(text)).await {
            warn!(error = &error as &dyn std::error::Error, "could not mirror the case to the log channel");
        }
    }
}

/// What was found, before the policy.
struct Found {
    source: Source,
    rules: Vec<u32>,
    reason: String,
    severity: Option<Severity>,
}

/// Whether the place exempts the message: an exempt channel, or a thread of one.
fn exempt_place(moderation: &ModerationSettings, message: &ChannelMessage) -> Option<&'static str> {
    let exempt = |channel| moderation.exempt_channels.contains(&channel);
    if exempt(message.channel_id) || message.parent_channel_id.is_some_and(exempt) {
        return Some("exempt_channel");
    }
    if message.author_roles.iter().any(|role| moderation.exempt_roles.contains(role)) {
        return Some("exempt_role");
    }
    None
}

/// Whether an action can be attempted: the hierarchy for member-level ones, then the bot's permission.
fn precheck(action: Action, standing: &Standing) -> Result<(), String> {
    if action.is_member_level()
        && let Err(detail) = standing.actionable
    {
        return Err(detail.to_owned());
    }
    let needed = Permissions::for_action(action);
    if standing.bot_permissions.has(needed) { Ok(()) } else { Err(needed.name().to_owned()) }
}

/// Records a Discord call's result on the case's action.
fn record(case: &mut Case, action: Action, result: Result<(), DiscordError>) {
    let (status, detail) = match result {
        Ok(()) => (ActionStatus::Done, None),
        Err(error) if matches!(error.code, Some(codes::UNKNOWN_MESSAGE | codes::UNKNOWN_MEMBER)) => {
            (ActionStatus::AlreadyDone, None)
        }
        Err(error) if error.code == Some(codes::MISSING_PERMISSIONS) || error.kind == DiscordErrorKind::Forbidden => {
            let permission = Permissions::for_action(action).name();
            warn!(action = ?action, permission, "Discord refused a moderation action: missing permission");
            (ActionStatus::Failed, Some(permission.to_owned()))
        }
        Err(error) => {
            warn!(error = &error as &dyn std::error::Error, action = ?action, "a moderation action failed");
            (ActionStatus::Failed, Some(format!("discord_{:?}", error.kind).to_lowercase()))
        }
    };
    if let Some(record) = case.body.actions.iter_mut().find(|a| a.action == action) {
        record.status = status;
        record.detail = detail;
    }
}

/// The audit-log reason: the case number and rules, never the message's text.
fn audit_reason(case: &Case) -> String {
    let rules: Vec<String> = case.body.rules.iter().map(|r| format!("R{r}")).collect();
    match (case.body.source, rules.is_empty()) {
        (Source::Prefilter, _) | (_, true) => format!("Steward case #{}: {}", case.id, case.body.reason),
        (Source::Ai, false) => format!("Steward case #{}: broke {}", case.id, rules.join(", ")),
    }
}

/// The broken rules as members read them (`R1: No spam.`), or the pre-filter's reason.
fn rule_texts(rules: &[Rule], broken: &[u32], reason: &str) -> String {
    let texts: Vec<String> = rules
        .iter()
        .filter(|rule| broken.contains(&rule.id))
        .map(|rule| format!("R{}: {}", rule.id, rule.text))
        .collect();
    if texts.is_empty() { reason.to_owned() } else { texts.join("; ") }
}

fn new_case(
    message: &ChannelMessage,
    source: Source,
    rules: Vec<u32>,
    reason: String,
    outcome: Outcome,
    dry_run: bool,
    now: Timestamp,
) -> NewCase {
    NewCase {
        message_id: message.message_id,
        channel_id: message.channel_id,
        member_id: message.author_id,
        content: message.content.clone(),
        rules,
        reason,
        source,
        dry_run,
        outcome,
        created_at: now,
        actions: vec![],
        strike: false,
    }
}

/// The model's request for one message: no author name or id, the text capped.
fn judge_request(message: &ChannelMessage, rules: &[Rule]) -> JudgeRequest {
    let content: String = message.content.chars().take(MAX_JUDGED_CHARS).collect();
    JudgeRequest {
        rules: rules.to_vec(),
        messages: vec![JudgedMessage {
            reference: "m1".into(),
            channel: message.channel_name.clone().unwrap_or_else(|| "channel".into()),
            content,
        }],
        marker: format!("{:016x}", uuid::Uuid::new_v4().as_u128() as u64),
    }
}

/// A stable 64-bit fingerprint of a text (FNV-1a), for claim keys.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}
