//! The HTTP client every endpoint shares: a bearer key, one deadline per call, and retries
//! with backoff on 429 and 5xx (honouring `Retry-After`).

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use steward_domain::model::{ModelError, ModelErrorKind};
use tokio::time::{Instant, sleep};

use crate::OpenAiConfig;

/// A client for one OpenAI-compatible server.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    pub(crate) config: OpenAiConfig,
}

/// One attempt's failure, and whether (and when) to try again.
struct Attempt {
    error: ModelError,
    retry_after: Option<Duration>,
}

impl Client {
    /// Builds the client.
    pub(crate) fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ModelError::new(ModelErrorKind::Rejected, "could not build the HTTP client").with_source(e))?;
        Ok(Self { http, config })
    }

    /// The URL of `path` (`/chat/completions`) under the configured base.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    async fn attempt<B: Serialize + Sync, R: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
        remaining: Duration,
    ) -> Result<R, Attempt> {
        let mut request = self.http.post(url).timeout(remaining).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request.send().await.map_err(|e| {
            let kind = if e.is_timeout() { ModelErrorKind::Timeout } else { ModelErrorKind::Unavailable };
            Attempt { error: ModelError::new(kind, "request failed").with_source(e), retry_after: Some(Duration::ZERO) }
        })?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64);
            let text = response.text().await.unwrap_or_default();
            let detail: String = text.chars().take(300).collect();
            let (kind, retryable) = match status.as_u16() {
                429 => (ModelErrorKind::RateLimited, true),
                500..=599 => (ModelErrorKind::Unavailable, true),
                _ => (ModelErrorKind::Rejected, false),
            };
            let error = ModelError::new(kind, format!("HTTP {status}: {detail}"));
            return Err(Attempt { error, retry_after: retryable.then(|| retry_after.unwrap_or(Duration::ZERO)) });
        }
        response.json().await.map_err(|e| Attempt {
            error: ModelError::new(ModelErrorKind::Malformed, "unreadable response").with_source(e),
            retry_after: None,
        })
    }

    /// POSTs `body` to `url` and reads the JSON reply, with retries and backoff inside the deadline.
    pub(crate) async fn call<B: Serialize + Sync, R: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<R, ModelError> {
        let deadline = Instant::now() + self.config.timeout;
        let mut backoff = self.config.backoff;
        let mut attempt = 1;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ModelError::new(ModelErrorKind::Timeout, "deadline reached"));
            }
            match self.attempt(url, body, remaining).await {
                Ok(reply) => return Ok(reply),
                Err(Attempt { error, retry_after: Some(after) }) if attempt < self.config.attempts => {
                    let wait = after.max(backoff);
                    if Instant::now() + wait >= deadline {
                        return Err(error);
                    }
                    tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying the model");
                    sleep(wait).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                Err(Attempt { error, .. }) => return Err(error),
            }
        }
    }
}
