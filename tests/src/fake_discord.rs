//! A fake Discord REST API on 127.0.0.1: records every request and can answer 429 with
//! Discord's rate-limit headers and body.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
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

/// The message Discord answers a create or edit with.
fn created_message(body: &Value) -> Value {
    json!({
        "id": "1400000000000000000", "channel_id": "1210000000000000000", "type": 0,
        "content": body.get("content").cloned().unwrap_or(Value::Null),
        "author": {"id": "1300000000000000000", "username": "steward", "discriminator": "0", "avatar": null},
        "timestamp": "2026-11-21T12:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": false,
        "nonce": body.get("nonce").cloned().unwrap_or(Value::Null)
    })
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
        return axum::Json(created_message(&body)).into_response();
    }
    let (limited, failure) = {
        let mut inner = inner.lock().unwrap();
        inner.requests.push(Recorded { method: method.clone(), path: path.clone(), headers, body: body.clone() });
        let limited = inner.rate_limit_next > 0;
        if limited {
            inner.rate_limit_next -= 1;
        }
        let failure = if limited || inner.fail_next.is_empty() { None } else { Some(inner.fail_next.remove(0)) };
        (limited, failure)
    };
    if limited {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false})),
        )
            .into_response();
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "0.05"),
            ("x-ratelimit-bucket", "fakebucket"),
            ("x-ratelimit-scope", "user"),
            ("retry-after", "1"),
        ] {
            headers.insert(name, value.parse().unwrap());
        }
        return response;
    }
    if let Some(status) = failure {
        let status = StatusCode::from_u16(status).unwrap();
        return (status, axum::Json(json!({"message": "fake failure", "code": 0}))).into_response();
    }
    if method == Method::PUT && path.contains("/reactions/") {
        return StatusCode::NO_CONTENT.into_response();
    }
    let reply = if method == Method::PUT && path.ends_with("/commands") { body } else { created_message(&body) };
    let mut response = axum::Json(reply).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", "5"),
        ("x-ratelimit-remaining", "4"),
        ("x-ratelimit-reset-after", "1"),
        ("x-ratelimit-bucket", "fakebucket"),
    ] {
        headers.insert(name, value.parse().unwrap());
    }
    response
}
