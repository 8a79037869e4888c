//! The moderation routes of the settings API (contract), behind the same admin token.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/api/guilds/{guild}/moderation/log` | cases, newest first (`?before=` a case id, `?limit=` 1–100, default 50) |
//! | GET | `/api/guilds/{guild}/moderation/log/{case}` | one case |
//! | POST | `/api/guilds/{guild}/moderation/log/{case}/undo` | `{note?}`: lift its ban or timeout, remove its strike; 409 the second time |
//! | POST | `/api/guilds/{guild}/moderation/sandbox` | `{rules?, samples: [{content}]}` (≤ 50): verdict and decision per sample |
//! | GET | `/api/guilds/{guild}/moderation/health` | `{ok, problems: [{code, permission?, message}]}` |

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_domain::moderation::admin::{MAX_SANDBOX_SAMPLES, ModerationAdmin, Problem, SandboxResult, UndoError};
use steward_domain::moderation::case::Case;
use steward_domain::settings::GuildSettings;

use crate::error::ApiError;
use crate::settings_api::{SettingsApiState, guild, json_body};

/// How many cases a listing returns unless `?limit=` says otherwise.
const DEFAULT_CASES: usize = 50;
/// The most cases one listing returns.
const MAX_CASES: usize = 100;

/// The moderation routes, merged into the settings router (which adds the token check).
pub(crate) fn moderation_routes() -> Router<SettingsApiState> {
    Router::new()
        .route("/api/guilds/{guild}/moderation/log", get(list_cases))
        .route("/api/guilds/{guild}/moderation/log/{case}", get(get_case))
        .route("/api/guilds/{guild}/moderation/log/{case}/undo", post(undo))
        .route("/api/guilds/{guild}/moderation/sandbox", post(sandbox))
        .route("/api/guilds/{guild}/moderation/health", get(health))
}

fn admin(state: &SettingsApiState) -> Result<&ModerationAdmin, ApiError> {
    state
        .moderation
        .as_ref()
        .ok_or(ApiError::Unavailable("moderation needs Discord: set DISCORD_BOT_TOKEN (and a model for the sandbox)"))
}

#[derive(Deserialize)]
struct LogQuery {
    before: Option<String>,
    limit: Option<String>,
}

async fn list_cases(
    State(state): State<SettingsApiState>,
    Path(raw): Path<String>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<Vec<Case>>, ApiError> {
    let guild = guild(&raw)?;
    let Query(query) = query.map_err(|_| ApiError::field("$", "`before` and `limit` must be whole numbers"))?;
    let before = query
        .before
        .map(|b| b.parse::<u64>().map_err(|_| ApiError::field("before", "must be a case id")))
        .transpose()?;
    let limit = match query.limit {
        None => DEFAULT_CASES,
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|l| (1..=MAX_CASES).contains(l))
            .ok_or_else(|| ApiError::field("limit", "must be a whole number from 1 to 100"))?,
    };
    let admin = admin(&state)?;
    let cases = admin.cases.cases(guild, before, limit, state.clock.now()).await.map_err(ApiError::internal)?;
    Ok(Json(cases))
}

fn case_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| ApiError::field("case", "must be a case number"))
}

async fn get_case(
    State(state): State<SettingsApiState>,
    Path((raw, case)): Path<(String, String)>,
) -> Result<Json<Case>, ApiError> {
    let (guild, id) = (guild(&raw)?, case_id(&case)?);
    let admin = admin(&state)?;
    let case = admin.cases.case(guild, id, state.clock.now()).await.map_err(ApiError::internal)?;
    case.map(Json).ok_or(ApiError::NotFound)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UndoBody {
    note: Option<String>,
}

async fn undo(
    State(state): State<SettingsApiState>,
    Path((raw, case)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Result<Json<Case>, ApiError> {
    let (guild, id) = (guild(&raw)?, case_id(&case)?);
    let body: UndoBody = match body {
        Some(Json(value)) => serde_json::from_value(value).map_err(|e| ApiError::field("note", e.to_string()))?,
        None => UndoBody::default(),
    };
    let admin = admin(&state)?;
    match admin.undo(guild, id, body.note).await {
        Ok(case) => {
            tracing::info!(%guild, case = id, "moderation case undone");
            Ok(Json(case))
        }
        Err(UndoError::NotFound) => Err(ApiError::NotFound),
        Err(UndoError::AlreadyReverted) => Err(ApiError::Conflict("already_reverted")),
        Err(UndoError::Store(error)) => Err(ApiError::internal(error)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxBody {
    rules: Option<String>,
    samples: Vec<Sample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    content: String,
}

#[derive(Serialize)]
struct SandboxResponse {
    results: Vec<SandboxResult>,
}

async fn sandbox(
    State(state): State<SettingsApiState>,
    Path(raw): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<SandboxResponse>, ApiError> {
    let guild = guild(&raw)?;
    let body: SandboxBody = serde_path_to_error::deserialize(json_body(body)?).map_err(|error| {
        let field = error.path().to_string();
        ApiError::field(if field == "." { "$".to_owned() } else { field }, error.into_inner().to_string())
    })?;
    if body.samples.is_empty() || body.samples.len() > MAX_SANDBOX_SAMPLES {
        return Err(ApiError::field("samples", format!("give 1 to {MAX_SANDBOX_SAMPLES} samples")));
    }
    let mut settings =
        GuildSettings::load(state.settings.as_ref(), guild).await.map_err(ApiError::internal)?.moderation;
    if let Some(rules) = body.rules {
        settings.rules = rules;
        if settings.numbered_rules().is_empty() {
            return Err(ApiError::field("rules", "write at least one rule"));
        }
    }
    settings.validate().map_err(|(field, message)| ApiError::field(field, message))?;
    let samples: Vec<String> = body.samples.into_iter().map(|s| s.content).collect();
    let results = admin(&state)?
        .sandbox(&settings, &samples)
        .await
        .map_err(|e| ApiError::Upstream { message: "the model failed; try again", source: e.into() })?;
    Ok(Json(SandboxResponse { results }))
}

/// The health body: `ok` when nothing is wrong.
pub(crate) fn health_body(problems: &[Problem]) -> Value {
    json!({ "ok": problems.is_empty(), "problems": problems })
}

async fn health(State(state): State<SettingsApiState>, Path(raw): Path<String>) -> Result<Json<Value>, ApiError> {
    let guild = guild(&raw)?;
    let settings = GuildSettings::load(state.settings.as_ref(), guild).await.map_err(ApiError::internal)?;
    let problems = admin(&state)?.health(guild, &settings).await;
    Ok(Json(health_body(&problems)))
}
