//! A fake Discord REST API on 127.0.0.1: records every request and can answer 429 with
//! Discord's rate-limit headers and body.
//!
//! Besides messages, interactions, reactions and commands it serves moderation's routes, with
//! bodies shaped as Discord's API description says: `DELETE /channels/{c}/messages/{m}`,
//! `POST /users/@me/channels` (a DM channel, id [`DM_CHANNEL_ID`]), `GET`/`PATCH`/`DELETE
//! /guilds/{g}/members/{u}`, `PUT`/`DELETE /guilds/{g}/bans/{u}`, `GET /guilds/{g}` (the
//! guild set with [`FakeDiscord::set_guild`], else 404 Unknown Guild) and `GET /invites/{code}`
//! (invites set with [`FakeDiscord::set_invite`], else 404 Unknown Invite). Member roles come from
//! [`FakeDiscord::set_member_roles`] (none unless set); [`FakeDiscord::fail_route`] makes a route
//! answer an error with Discord's JSON `code`. Each [`Recorded`] exchange keeps the status and
//! body the fake answered, so [`crate::openapi::Spec::check`] can hold both sides to Discord's
//! API description.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use steward_domain::ids::{GuildId, RoleId, UserId};
use steward_domain::moderation::hierarchy::GuildRoles;

/// The id of the DM channel `POST /users/@me/channels` answers, whoever the recipient.
pub const DM_CHANNEL_ID: u64 = 1_500_000_000_000_000_000;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// The status the fake answered.
    pub status: StatusCode,
    /// The JSON body the fake answered (`None` for a 204).
    pub response: Option<Value>,
}

#[derive(Default)]
struct Inner {
    gateway_url: String,
    /// The shard count `GET /gateway/bot` recommends (0 means the default, 1).
    shards: u32,
    requests: Vec<Recorded>,
    rate_limit_next: usize,
    fail_next: Vec<u16>,
    /// Messages posted with `enforce_nonce` that repeated an earlier nonce: Discord returns the
    /// earlier message and creates none, so they are counted here instead of in `requests`.
    deduplicated: usize,
    /// Guilds `GET /guilds/{g}` serves, by id.
    guilds: HashMap<u64, GuildRoles>,
    /// Member roles `GET /guilds/{g}/members/{u}` serves, by user id (any guild).
    member_roles: HashMap<u64, Vec<RoleId>>,
    /// Invite codes `GET /invites/{code}` resolves, to their guild.
    invites: HashMap<String, GuildId>,
    /// Routes that answer an error, see [`FakeDiscord::fail_route`].
    route_failures: Vec<RouteFailure>,
}

/// A route made to fail.
struct RouteFailure {
    method: Method,
    fragment: String,
    status: StatusCode,
    code: u32,
}

/// The fake; clone it freely.
#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakeDiscord {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let addr = crate::serve(app).await;
        Self { inner, base: format!("http://{addr}/api/v10") }
    }

    /// How many messages repeated an earlier nonce with `enforce_nonce` (and were not created).
    pub fn deduplicated(&self) -> usize {
        self.inner.lock().unwrap().deduplicated
    }

    /// The URL `GET /gateway/bot` advertises.
    pub fn set_gateway_url(&self, url: &str) {
        self.inner.lock().unwrap().gateway_url = url.to_owned();
    }

    /// The shard count `GET /gateway/bot` recommends (1 unless set).
    pub fn set_shards(&self, shards: u32) {
        self.inner.lock().unwrap().shards = shards;
    }

    /// Answers the next `n` requests with 429 and a short `retry_after`.
    pub fn rate_limit_next(&self, n: usize) {
        self.inner.lock().unwrap().rate_limit_next = n;
    }

    /// Answers the next requests with these statuses, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().fail_next = statuses.to_vec();
    }

    /// Serves `guild` (its owner and roles, with positions and permissions) at
    /// `GET /guilds/{guild}`; other guilds answer 404 with code 10004 (Unknown Guild).
    pub fn set_guild(&self, guild: &GuildRoles) {
        self.inner.lock().unwrap().guilds.insert(guild.guild.get(), guild.clone());
    }

    /// The roles `GET /guilds/{g}/members/{user}` (and a timeout's `PATCH`) answer for `user`, in
    /// every guild; a member not set has none (only `@everyone`).
    pub fn set_member_roles(&self, user: UserId, roles: &[RoleId]) {
        self.inner.lock().unwrap().member_roles.insert(user.get(), roles.to_vec());
    }

    /// Makes `GET /invites/{code}` answer a guild invite to `guild`; other codes answer 404 with
    /// code 10006 (Unknown Invite).
    pub fn set_invite(&self, code: &str, guild: GuildId) {
        self.inner.lock().unwrap().invites.insert(code.to_owned(), guild);
    }

    /// From now on, every `method` request whose path contains `fragment` (e.g. `"PUT"`,
    /// `"/bans/"`) is recorded and answered with `status` and Discord's error body
    /// `{"code": code, "message": …}` (e.g. 403 and 50013, Missing Permissions), until
    /// [`FakeDiscord::clear_route_failures`]. The first matching rule wins.
    pub fn fail_route(&self, method: &str, fragment: &str, status: u16, code: u32) {
        let failure = RouteFailure {
            method: method.parse().unwrap(),
            fragment: fragment.to_owned(),
            status: StatusCode::from_u16(status).unwrap(),
            code,
        };
        self.inner.lock().unwrap().route_failures.push(failure);
    }

    /// Removes every [`FakeDiscord::fail_route`] rule.
    pub fn clear_route_failures(&self) {
        self.inner.lock().unwrap().route_failures.clear();
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Requests whose path contains `fragment`.
    pub fn requests_to(&self, fragment: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.path.contains(fragment)).collect()
    }

    /// Waits up to `timeout` until `count` requests match `fragment`, returning them.
    pub async fn wait_for(&self, fragment: &str, count: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let found = self.requests_to(fragment);
            if found.len() >= count || tokio::time::Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A user as Discord's API describes one.
fn user(id: &str, username: &str, bot: bool) -> Value {
    json!({
        "id": id, "username": username, "discriminator": "0", "global_name": null, "avatar": null,
        "public_flags": 0, "flags": 0, "primary_guild": null, "bot": bot
    })
}

/// The message Discord answers a create or edit with.
fn created_message(channel_id: &str, body: &Value) -> Value {
    let mut message = json!({
        "id": "1400000000000000000", "channel_id": channel_id, "type": 0,
        "content": body.get("content").cloned().unwrap_or(Value::Null),
        "author": user("1300000000000000000", "steward", true),
        "timestamp": "2026-11-21T12:00:00.000000+00:00", "edited_timestamp": null, "tts": false, "flags": 0,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
        "components": [], "pinned": false
    });
    // Discord echoes a nonce, and leaves the field out when there was none.
    if let Some(nonce) = body.get("nonce") {
        message["nonce"] = nonce.clone();
    }
    message
}

/// A guild member, as `GET` and `PATCH /guilds/{g}/members/{u}` answer it.
fn member(user_id: &str, roles: &[RoleId], communication_disabled_until: &Value) -> Value {
    json!({
        "user": user(user_id, "member", false), "roles": roles, "nick": null, "avatar": null, "banner": null,
        "joined_at": "2026-01-01T00:00:00.000000+00:00", "premium_since": null, "pending": false, "flags": 0,
        "mute": false, "deaf": false, "communication_disabled_until": communication_disabled_until
    })
}

/// A guild, as `GET /guilds/{g}` answers it.
#[must_use]
pub fn guild(guild: &GuildRoles) -> Value {
    let roles: Vec<Value> = guild
        .roles
        .iter()
        .map(|role| {
            let name =
                if role.id.get() == guild.guild.get() { "@everyone".to_owned() } else { format!("role {}", role.id) };
            json!({
                "id": role.id, "name": name, "permissions": role.permissions.0.to_string(), "position": role.position,
                "color": 0, "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
                "hoist": false, "managed": false, "mentionable": false, "icon": null, "unicode_emoji": null, "flags": 0
            })
        })
        .collect();
    json!({
        "id": guild.guild, "name": "Fake guild", "owner_id": guild.owner, "roles": roles,
        "icon": null, "description": null, "home_header": null, "splash": null, "discovery_splash": null,
        "banner": null, "features": [], "application_id": null, "region": "deprecated", "afk_channel_id": null,
        "afk_timeout": 300, "system_channel_id": null, "system_channel_flags": 0, "widget_enabled": false,
        "widget_channel_id": null, "verification_level": 0, "default_message_notifications": 0, "mfa_level": 0,
        "explicit_content_filter": 0, "max_presences": null, "max_members": 500_000,
        "max_stage_video_channel_users": 50, "max_video_channel_users": 25, "vanity_url_code": null,
        "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US", "rules_channel_id": null,
        "safety_alerts_channel_id": null, "public_updates_channel_id": null, "premium_progress_bar_enabled": false,
        "nsfw": false, "nsfw_level": 0, "emojis": [], "stickers": [], "incidents_data": null
    })
}

/// A guild invite, as `GET /invites/{code}` answers it.
fn invite(code: &str, guild: GuildId) -> Value {
    json!({
        "type": 0, "code": code, "expires_at": null, "guild_id": guild,
        "guild": {
            "id": guild, "name": "Fake guild", "splash": null, "banner": null, "description": null, "icon": null,
            "features": [], "verification_level": 0, "vanity_url_code": null, "nsfw_level": 0, "nsfw": false,
            "premium_subscription_count": 0
        },
        "channel": {"id": "1210000000000000000", "type": 0, "name": "general"}
    })
}

/// Discord's error body for a JSON `code`.
fn error_body(code: u32) -> Value {
    let message = match code {
        10_004 => "Unknown Guild",
        10_007 => "Unknown Member",
        10_006 => "Unknown Invite",
        10_008 => "Unknown Message",
        10_026 => "Unknown Ban",
        50_007 => "Cannot send messages to this user",
        50_013 => "Missing Permissions",
        _ => "fake failure",
    };
    json!({"code": code, "message": message})
}

/// What the fake answers a request that neither a rate limit nor a failure caught.
fn reply(inner: &Inner, method: &Method, path: &str, body: Value) -> (StatusCode, Option<Value>) {
    let segments: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    let ok = |value| (StatusCode::OK, Some(value));
    let no_content = (StatusCode::NO_CONTENT, None);
    match (method.as_str(), segments.as_slice()) {
        ("DELETE", ["channels", _, "messages", _])
        | ("DELETE", ["guilds", _, "members", _])
        | ("PUT" | "DELETE", ["guilds", _, "bans", _])
        | ("PUT", ["channels", _, "messages", _, "reactions", _, "@me"]) => no_content,
        ("POST", ["users", "@me", "channels"]) => {
            let recipient = body["recipient_id"].as_str().unwrap_or("0");
            ok(json!({
                "id": DM_CHANNEL_ID.to_string(), "type": 1, "flags": 0, "last_message_id": null,
                "recipients": [user(recipient, "member", false)]
            }))
        }
        ("GET", ["guilds", id]) => match id.parse().ok().and_then(|id: u64| inner.guilds.get(&id)) {
            Some(found) => ok(guild(found)),
            None => (StatusCode::NOT_FOUND, Some(error_body(10_004))),
        },
        ("GET" | "PATCH", ["guilds", _, "members", user_id]) => {
            let roles =
                user_id.parse().ok().and_then(|id: u64| inner.member_roles.get(&id)).cloned().unwrap_or_default();
            let until = body.get("communication_disabled_until").cloned().unwrap_or(Value::Null);
            ok(member(user_id, &roles, &until))
        }
        ("GET", ["invites", code]) => match inner.invites.get(*code) {
            Some(guild) => ok(invite(code, *guild)),
            None => (StatusCode::NOT_FOUND, Some(error_body(10_006))),
        },
        ("PUT", [.., "commands"]) => ok(body),
        ("POST", ["channels", channel_id, "messages"]) => ok(created_message(channel_id, &body)),
        _ => ok(created_message("1210000000000000000", &body)),
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_owned();
    if method == Method::GET && path.ends_with("/users/@me") {
        return axum::Json(json!({
            "id": crate::fake_gateway::BOT_USER_ID.to_string(), "username": "steward", "discriminator": "0",
            "global_name": "Steward", "avatar": null, "bot": true, "mfa_enabled": false, "verified": true, "flags": 0
        }))
        .into_response();
    }
    if method == Method::GET && path.ends_with("/applications/@me") {
        let owner = json!({"id": "1", "username": "owner", "discriminator": "0", "avatar": null});
        return axum::Json(json!({
            "id": crate::spawn::APP_ID.to_string(), "name": "Steward", "icon": null, "description": "",
            "rpc_origins": [], "bot_public": true, "bot_require_code_grant": false, "owner": owner,
            "summary": "", "verify_key": "00".repeat(32), "team": null, "flags": 0
        }))
        .into_response();
    }
    if method == Method::GET && path.ends_with("/gateway/bot") {
        let (url, shards) = {
            let inner = inner.lock().unwrap();
            (inner.gateway_url.clone(), inner.shards.max(1))
        };
        // max_concurrency 0 lets the client re-identify without the 5 s wait (tests only).
        return axum::Json(json!({
            "url": url, "shards": shards,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 0}
        }))
        .into_response();
    }
    let repeated_nonce = method == Method::POST && path.ends_with("/messages") && body["enforce_nonce"] == true && {
        let inner = inner.lock().unwrap();
        inner.requests.iter().any(|r| r.path == path && r.body["nonce"] == body["nonce"])
    };
    if repeated_nonce {
        inner.lock().unwrap().deduplicated += 1;
        let channel_id = path.split('/').nth_back(1).unwrap_or_default();
        return axum::Json(created_message(channel_id, &body)).into_response();
    }
    let (status, reply) = {
        let mut inner = inner.lock().unwrap();
        let (status, reply) = if inner.rate_limit_next > 0 {
            inner.rate_limit_next -= 1;
            let body = json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false});
            (StatusCode::TOO_MANY_REQUESTS, Some(body))
        } else if !inner.fail_next.is_empty() {
            let status = StatusCode::from_u16(inner.fail_next.remove(0)).unwrap();
            (status, Some(json!({"message": "fake failure", "code": 0})))
        } else if let Some(failure) =
            inner.route_failures.iter().find(|f| f.method == method && path.contains(&f.fragment))
        {
            (failure.status, Some(error_body(failure.code)))
        } else {
            reply(&inner, &method, &path, body.clone())
        };
        inner.requests.push(Recorded { method, path, headers, body, status, response: reply.clone() });
        (status, reply)
    };
    let mut response = match reply {
        Some(json) => (status, axum::Json(json)).into_response(),
        None => status.into_response(),
    };
    let rate_limit_headers: &[(&str, &str)] = if status == StatusCode::TOO_MANY_REQUESTS {
        &[
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "0.05"),
            ("x-ratelimit-bucket", "fakebucket"),
            ("x-ratelimit-scope", "user"),
            ("retry-after", "1"),
        ]
    } else {
        &[
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-remaining", "4"),
            ("x-ratelimit-reset-after", "1"),
            ("x-ratelimit-bucket", "fakebucket"),
        ]
    };
    let headers = response.headers_mut();
    for (name, value) in rate_limit_headers {
        headers.insert(*name, value.parse().unwrap());
    }
    response
}
