//! `POST /discord/webhook`: Discord's interactions endpoint (F3, F7).
//!
//! Verify first (401 on any failure, nothing else happens), then PING → PONG, and `/ask` → the
//! intake, which answers "deferred" (type 5) or an ephemeral message (type 4) well inside 3 s.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::ask::{ASK_COMMAND, AskCommand, AskIntake, IntakeReply, QUESTION_OPTION};
use steward_domain::clock::Clock;
use steward_domain::ids::{ApplicationId, ChannelId, GuildId, InteractionId, InteractionToken, UserId};

use crate::verify::Verifier;

const PING: u8 = 1;
const APPLICATION_COMMAND: u8 = 2;
const PONG: u8 = 1;
const CHANNEL_MESSAGE_WITH_SOURCE: u8 = 4;
const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: u8 = 5;
const EPHEMERAL: u64 = 1 << 6;

/// What the interactions endpoint needs.
#[derive(Clone)]
pub struct InteractionsState {
    /// Public keys per application.
    pub verifier: Arc<Verifier>,
    /// The `/ask` intake.
    pub intake: AskIntake,
    /// Time, for the timestamp window.
    pub clock: Arc<dyn Clock>,
}

/// The interactions route (with and without the trailing slash Discord users often paste).
pub fn interactions_router(state: InteractionsState) -> Router {
    Router::new().route("/discord/webhook", post(webhook)).route("/discord/webhook/", post(webhook)).with_state(state)
}

/// Only the application id, read before verification to pick the key.
#[derive(Deserialize)]
struct Addressed {
    application_id: Option<ApplicationId>,
}

/// The fields of an interaction Steward reads. Deliberately minimal so that Discord adding
/// fields can never break PING.
#[derive(Deserialize)]
struct RawInteraction {
    #[serde(rename = "type")]
    kind: u8,
    id: Option<InteractionId>,
    application_id: Option<ApplicationId>,
    token: Option<String>,
    guild_id: Option<GuildId>,
    channel_id: Option<ChannelId>,
    channel: Option<RawChannel>,
    member: Option<RawMember>,
    user: Option<RawUser>,
    data: Option<RawData>,
    locale: Option<String>,
}

#[derive(Deserialize)]
struct RawChannel {
    id: ChannelId,
}

#[derive(Deserialize)]
struct RawMember {
    user: Option<RawUser>,
    nick: Option<String>,
}

#[derive(Deserialize)]
struct RawUser {
    id: UserId,
    username: Option<String>,
    global_name: Option<String>,
}

#[derive(Deserialize)]
struct RawData {
    name: Option<String>,
    #[serde(default)]
    options: Vec<RawOption>,
}

#[derive(Deserialize)]
struct RawOption {
    name: String,
    value: Option<Value>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn ephemeral(content: &str) -> Response {
    Json(json!({
        "type": CHANNEL_MESSAGE_WITH_SOURCE,
        "data": { "content": content, "flags": EPHEMERAL, "allowed_mentions": { "parse": [] } }
    }))
    .into_response()
}

fn bad_request(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": why }))).into_response()
}

async fn webhook(State(state): State<InteractionsState>, headers: HeaderMap, body: Bytes) -> Response {
    let app = serde_json::from_slice::<Addressed>(&body).ok().and_then(|a| a.application_id);
    let verified = state.verifier.verify(
        app,
        header(&headers, "x-signature-ed25519"),
        header(&headers, "x-signature-timestamp"),
        &body,
        state.clock.now(),
    );
    if let Err(error) = verified {
        tracing::info!(%error, "interaction refused");
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let interaction: RawInteraction = match serde_json::from_slice(&body) {
        Ok(interaction) => interaction,
        Err(error) => {
            tracing::warn!(%error, "signed interaction could not be read");
            return bad_request("unreadable interaction");
        }
    };
    match interaction.kind {
        PING => Json(json!({ "type": PONG })).into_response(),
        APPLICATION_COMMAND => command(&state, interaction).await,
        other => {
            tracing::info!(kind = other, "interaction type not handled");
            ephemeral("Steward doesn't handle that kind of interaction.")
        }
    }
}

async fn command(state: &InteractionsState, interaction: RawInteraction) -> Response {
    let Some(data) = interaction.data else { return bad_request("command without data") };
    if data.name.as_deref() != Some(ASK_COMMAND) {
        return ephemeral("Steward doesn't know that command. Try `/ask`.");
    }
    let user = interaction.member.as_ref().and_then(|m| m.user.as_ref()).or(interaction.user.as_ref());
    let channel = interaction.channel_id.or(interaction.channel.as_ref().map(|c| c.id));
    let (Some(id), Some(application_id), Some(token), Some(channel_id), Some(user)) =
        (interaction.id, interaction.application_id, interaction.token, channel, user)
    else {
        return bad_request("command missing id, application_id, token, channel or user");
    };
    let user_name = interaction
        .member
        .as_ref()
        .and_then(|m| m.nick.clone())
        .or_else(|| user.global_name.clone())
        .or_else(|| user.username.clone())
        .unwrap_or_else(|| "member".to_owned());
    let question = data
        .options
        .iter()
        .find(|o| o.name == QUESTION_OPTION)
        .and_then(|o| o.value.as_ref())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ask = AskCommand {
        interaction_id: id,
        application_id,
        token: InteractionToken::new(token),
        guild_id: interaction.guild_id,
        channel_id,
        user_id: user.id,
        user_name,
        question,
        locale: interaction.locale,
    };
    match state.intake.accept(ask).await {
        IntakeReply::Deferred => Json(json!({ "type": DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE })).into_response(),
        IntakeReply::Ephemeral(message) => ephemeral(&message),
    }
}
