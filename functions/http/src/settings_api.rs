//! The settings API under `/api` (F8, F2, F4, F26, X5), behind an admin bearer token.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/api/guilds/{guild}/settings` | a guild's settings (defaults if never set) |
//! | PATCH | `/api/guilds/{guild}/settings` | JSON merge patch; 400 names the field |
//! | GET | `/api/guilds/{guild}/usage` | this month's usage against the plan |
//! | GET | `/api/guilds/{guild}/knowledge/gaps` | most asked unanswered questions (`?limit=` 1–100, default 20) |
//! | GET | `/api/knowledge/{scope}/documents` | documents of `global` or a guild id |
//! | POST | `/api/knowledge/{scope}/documents` | add `{title, source?, body}` |
//! | DELETE | `/api/knowledge/{scope}/documents/{id}` | remove a document |
//!
//! The moderation routes are in [`crate::moderation_api`]. A PATCH that touches `moderation`
//! answers the settings plus `warnings`: what keeps the new settings from working (health).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use steward_domain::clock::Clock;
use steward_domain::ids::{DocumentId, GuildId};
use steward_domain::knowledge::{self, AddError, Document, KbScope, NewDocument};
use steward_domain::ports::{Embedder, Gap, GapStore, KnowledgeStore, SettingsStore, UsageStore};
use steward_domain::quota::{Month, Usage};
use steward_domain::settings::GuildSettings;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// What the settings API needs.
#[derive(Clone)]
pub struct SettingsApiState {
    /// Guild settings.
    pub settings: Arc<dyn SettingsStore>,
    /// The knowledge base.
    pub knowledge: Arc<dyn KnowledgeStore>,
    /// The embeddings model that gives new documents their vectors (hybrid search), if any.
    pub embedder: Option<Arc<dyn Embedder>>,
    /// Quota counters.
    pub usage: Arc<dyn UsageStore>,
    /// Questions the knowledge base could not answer.
    pub gaps: Arc<dyn GapStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The operator's moderation tools (log, undo, sandbox, health); `None` without Discord.
    pub moderation: Option<steward_domain::moderation::admin::ModerationAdmin>,
    /// The bearer token every request must present; `None` refuses every request.
    pub admin_token: Option<Arc<SecretString>>,
}

/// The `/api` routes.
pub fn settings_router(state: SettingsApiState) -> Router {
    Router::new()
        .route("/api/guilds/{guild}/settings", get(get_settings).patch(patch_settings))
        .route("/api/guilds/{guild}/usage", get(get_usage))
        .route("/api/guilds/{guild}/knowledge/gaps", get(list_gaps))
        .route("/api/knowledge/{scope}/documents", get(list_documents).post(add_document))
        .route("/api/knowledge/{scope}/documents/{id}", delete(delete_document))
        .merge(crate::moderation_api::moderation_routes())
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_admin))
        .with_state(state)
}

async fn require_admin(State(state): State<SettingsApiState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.admin_token.as_deref() else {
        return ApiError::Unavailable("the settings API is disabled: set STEWARD_ADMIN_TOKEN").into_response();
    };
    let presented = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let matches: bool = presented.as_bytes().ct_eq(expected.expose_secret().as_bytes()).into();
    if matches { next.run(request).await } else { ApiError::Unauthorized.into_response() }
}

pub(crate) fn guild(raw: &str) -> Result<GuildId, ApiError> {
    raw.parse().map_err(|_| ApiError::field("guild", "must be a Discord server id"))
}

fn scope(raw: &str) -> Result<KbScope, ApiError> {
    raw.parse().map_err(|_| ApiError::field("scope", "must be `global` or a Discord server id"))
}

pub(crate) fn json_body(body: Result<Json<Value>, JsonRejection>) -> Result<Value, ApiError> {
    body.map(|Json(v)| v).map_err(|rejection| ApiError::field("$", rejection.body_text()))
}

async fn get_settings(
    State(state): State<SettingsApiState>,
    Path(raw): Path<String>,
) -> Result<Json<GuildSettings>, ApiError> {
    let guild = guild(&raw)?;
    Ok(Json(GuildSettings::load(state.settings.as_ref(), guild).await.map_err(ApiError::internal)?))
}

async fn patch_settings(
    State(state): State<SettingsApiState>,
    Path(raw): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let guild = guild(&raw)?;
    let patch = json_body(body)?;
    let current = GuildSettings::load(state.settings.as_ref(), guild).await.map_err(ApiError::internal)?;
    let updated = current.patched(&patch).map_err(|e| ApiError::field(e.field, e.message))?;
    state.settings.put_settings(guild, &updated).await.map_err(ApiError::internal)?;
    tracing::info!(%guild, "settings updated");
    let mut body = serde_json::to_value(&updated).map_err(ApiError::internal)?;
    // Moderation settings the bot cannot carry out are saved, and said so.
    if patch.get("moderation").is_some()
        && updated.moderation.enabled
        && let Some(admin) = &state.moderation
        && let Value::Object(map) = &mut body
    {
        let problems = admin.health(guild, &updated).await;
        map.insert("warnings".into(), serde_json::to_value(problems).map_err(ApiError::internal)?);
    }
    Ok(Json(body))
}

async fn get_usage(State(state): State<SettingsApiState>, Path(raw): Path<String>) -> Result<Json<Usage>, ApiError> {
    let guild = guild(&raw)?;
    let month = Month::containing(state.clock.now());
    let settings = GuildSettings::load(state.settings.as_ref(), guild).await.map_err(ApiError::internal)?;
    let used = state.usage.used(guild, month).await.map_err(ApiError::internal)?;
    Ok(Json(Usage { month, used, limit: settings.plan.monthly_limit(), plan: settings.plan }))
}

/// How many gaps a listing returns unless `?limit=` says otherwise.
const DEFAULT_GAPS: usize = 20;
/// The most gaps one listing returns.
const MAX_GAPS: usize = 100;

/// The query of a gaps listing; `limit` is read by hand so a bad one is a 400 naming it.
#[derive(Deserialize)]
struct GapsQuery {
    limit: Option<String>,
}

/// A gap as the API shows it: `last_asked_at` in RFC 3339.
#[derive(Serialize)]
struct GapView {
    question: String,
    count: u64,
    last_asked_at: String,
}

impl From<Gap> for GapView {
    fn from(gap: Gap) -> Self {
        Self { question: gap.question, count: gap.count, last_asked_at: gap.last_asked_at.to_string() }
    }
}

fn gaps_limit(query: Result<Query<GapsQuery>, QueryRejection>) -> Result<usize, ApiError> {
    const WHAT: &str = "must be a whole number from 1 to 100";
    let Query(query) = query.map_err(|_| ApiError::field("limit", WHAT))?;
    match query.limit {
        None => Ok(DEFAULT_GAPS),
        Some(raw) => match raw.parse() {
            Ok(limit) if (1..=MAX_GAPS).contains(&limit) => Ok(limit),
            _ => Err(ApiError::field("limit", WHAT)),
        },
    }
}

async fn list_gaps(
    State(state): State<SettingsApiState>,
    Path(raw): Path<String>,
    query: Result<Query<GapsQuery>, QueryRejection>,
) -> Result<Json<Vec<GapView>>, ApiError> {
    let guild = guild(&raw)?;
    let limit = gaps_limit(query)?;
    let gaps = state.gaps.top_gaps(guild, limit, state.clock.now()).await.map_err(ApiError::internal)?;
    Ok(Json(gaps.into_iter().map(GapView::from).collect()))
}

async fn list_documents(
    State(state): State<SettingsApiState>,
    Path(raw): Path<String>,
) -> Result<Json<Vec<Document>>, ApiError> {
    let scope = scope(&raw)?;
    Ok(Json(state.knowledge.list_documents(scope).await.map_err(ApiError::internal)?))
}

async fn add_document(
    State(state): State<SettingsApiState>,
    Path(raw): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    let scope = scope(&raw)?;
    let new: NewDocument = read_new_document(json_body(body)?)?;
    let embedder = state.embedder.as_deref();
    let added = knowledge::add_document(state.knowledge.as_ref(), embedder, scope, new, DocumentId::generate(), state.clock.now())
        .await
        .map_err(|error| match error {
            AddError::Invalid(e) => ApiError::field(e.field, e.message),
            AddError::Embed(e) => ApiError::Upstream {
                message: "the embeddings model failed, so the document was not added; try again, or check EMBEDDINGS_BASE_URL, EMBEDDINGS_API_KEY and EMBEDDINGS_MODEL",
                source: e.into(),
            },
            AddError::Store(e) => ApiError::internal(e),
        })?;
    tracing::info!(%scope, id = %added.document.id, chunks = added.chunks, replaced = added.replaced, "document added");
    Ok((StatusCode::CREATED, Json(added.document)))
}

/// Reads a [`NewDocument`], naming the field serde complains about.
fn read_new_document(value: Value) -> Result<NewDocument, ApiError> {
    let Value::Object(map) = &value else { return Err(ApiError::field("$", "the body must be a JSON object")) };
    for (name, kind) in [("title", "a string"), ("body", "a string")] {
        match map.get(name) {
            Some(Value::String(_)) => {}
            Some(_) => return Err(ApiError::field(name, format!("must be {kind}"))),
            None => return Err(ApiError::field(name, "is required")),
        }
    }
    if let Some(unknown) = map.keys().find(|k| !matches!(k.as_str(), "title" | "body" | "source")) {
        return Err(ApiError::field(unknown.clone(), "unknown field; expected title, body, source"));
    }
    serde_json::from_value(value).map_err(|e| ApiError::field("source", e.to_string()))
}

async fn delete_document(
    State(state): State<SettingsApiState>,
    Path((raw, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&raw)?;
    let id = DocumentId::parse(&id).map_err(|_| ApiError::NotFound)?;
    if state.knowledge.delete_document(scope, &id).await.map_err(ApiError::internal)? {
        tracing::info!(%scope, %id, "document deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
