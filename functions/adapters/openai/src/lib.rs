//! A [`ChatModel`] over an OpenAI-compatible `/chat/completions` endpoint, with a deadline and
//! retries with backoff on 429 and 5xx.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use steward_domain::language::Language;
use steward_domain::model::{AnswerRequest, ChatModel, DecideRequest, ModelError, ModelErrorKind};
use steward_domain::prompt::{
    PromptMessage, answer_messages, decide_messages, parse_decision, parse_search_terms, search_terms_messages,
};
use tokio::time::{Instant, sleep};

/// Settings for [`OpenAiChat`].
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// The API base, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// The bearer key, if the server wants one.
    pub api_key: Option<SecretString>,
    /// The model name.
    pub model: String,
    /// The whole call's deadline, retries included.
    pub timeout: Duration,
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// The first backoff; it doubles each retry.
    pub backoff: Duration,
}

impl OpenAiConfig {
    /// Defaults for `base_url` and `model`: a 25 s deadline, 3 attempts, 500 ms first backoff.
    #[must_use]
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeout: steward_domain::model::DEFAULT_MODEL_TIMEOUT,
            attempts: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// An OpenAI-compatible chat model.
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    http: reqwest::Client,
    url: String,
    config: OpenAiConfig,
}

#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: &'a [PromptMessage],
    temperature: f32,
    max_tokens: u32,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

/// One attempt's failure, and whether (and when) to try again.
struct Attempt {
    error: ModelError,
    retry_after: Option<Duration>,
}

impl OpenAiChat {
    /// Builds the client.
    ///
    /// # Errors
    /// Returns an error if the HTTP client cannot be built (TLS setup).
    pub fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ModelError::new(ModelErrorKind::Rejected, "could not build the HTTP client").with_source(e))?;
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(Self { http, url, config })
    }

    async fn attempt(
        &self,
        messages: &[PromptMessage],
        max_tokens: u32,
        remaining: Duration,
    ) -> Result<String, Attempt> {
        let body = ChatBody { model: &self.config.model, messages, temperature: 0.2, max_tokens };
        let mut request = self.http.post(&self.url).timeout(remaining).json(&body);
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
        let parsed: ChatResponse = response.json().await.map_err(|e| Attempt {
            error: ModelError::new(ModelErrorKind::Malformed, "unreadable response").with_source(e),
            retry_after: None,
        })?;
        parsed.choices.into_iter().next().and_then(|c| c.message.content).filter(|c| !c.trim().is_empty()).ok_or_else(
            || Attempt {
                error: ModelError::new(ModelErrorKind::Malformed, "no content in the response"),
                retry_after: None,
            },
        )
    }
}

impl OpenAiChat {
    /// Runs one completion with retries and backoff inside the deadline.
    async fn complete(&self, messages: &[PromptMessage], max_tokens: u32) -> Result<String, ModelError> {
        let deadline = Instant::now() + self.config.timeout;
        let mut backoff = self.config.backoff;
        let mut attempt = 1;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ModelError::new(ModelErrorKind::Timeout, "deadline reached"));
            }
            match self.attempt(messages, max_tokens, remaining).await {
                Ok(text) => return Ok(text),
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

#[async_trait]
impl ChatModel for OpenAiChat {
    async fn answer(&self, request: &AnswerRequest) -> Result<String, ModelError> {
        self.complete(&answer_messages(request), 800).await
    }

    async fn should_answer(&self, request: &DecideRequest) -> Result<bool, ModelError> {
        let text = self.complete(&decide_messages(request), 3).await?;
        Ok(parse_decision(&text))
    }

    async fn search_terms(&self, question: &str, language: Language) -> Result<Option<String>, ModelError> {
        let text = self.complete(&search_terms_messages(question, language), 40).await?;
        Ok(parse_search_terms(&text))
    }

    fn name(&self) -> String {
        format!("openai:{}", self.config.model)
    }
}

/// Builds the model the configuration names: this adapter, or the offline extractive model.
///
/// # Errors
/// Returns an error when the HTTP client cannot be built.
pub fn model_from_config(config: &steward_config::LlmConfig) -> Result<Arc<dyn ChatModel>, ModelError> {
    Ok(match config {
        steward_config::LlmConfig::OpenAi { base_url, api_key, model, timeout } => {
            let mut openai = OpenAiConfig::new(base_url.clone(), model.clone());
            openai.api_key.clone_from(api_key);
            openai.timeout = *timeout;
            Arc::new(OpenAiChat::new(openai)?)
        }
        steward_config::LlmConfig::Extractive => Arc::new(steward_domain::extractive::ExtractiveModel),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Json;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;

    use super::*;

    async fn serve(statuses: Vec<u16>) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, b) = (calls.clone(), bodies.clone());
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            post(move |headers: axum::http::HeaderMap, Json(body): Json<serde_json::Value>| {
                let n = c.fetch_add(1, Ordering::SeqCst);
                b.lock().unwrap().push(serde_json::json!({"auth": headers.get("authorization").map(|v| v.to_str().unwrap().to_owned()), "body": body}));
                let status = statuses.get(n).copied().unwrap_or(200);
                async move {
                    if status == 200 {
                        Json(serde_json::json!({"choices": [{"message": {"role": "assistant", "content": "Pay monthly [1]."}}]})).into_response()
                    } else {
                        let mut response: Response = (StatusCode::from_u16(status).unwrap(), "busy").into_response();
                        response.headers_mut().insert("retry-after", "0".parse().unwrap());
                        response
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/v1"), calls, bodies)
    }

    fn request() -> AnswerRequest {
        AnswerRequest {
            question: "how to pay?".into(),
            asker: "ana".into(),
            history: vec![],
            passages: vec![],
            locale: None,
            language: steward_domain::language::Language::En,
            channel_context: vec![],
        }
    }

    fn config(base: String) -> OpenAiConfig {
        OpenAiConfig {
            backoff: Duration::from_millis(10),
            api_key: Some("sk-test".to_owned().into()),
            ..OpenAiConfig::new(base, "gpt-test")
        }
    }

    #[tokio::test]
    async fn sends_the_prompt_with_the_key_and_reads_the_answer() {
        let (base, calls, bodies) = serve(vec![]).await;
        let answer = OpenAiChat::new(config(base)).unwrap().answer(&request()).await.unwrap();
        assert_eq!(answer, "Pay monthly [1].");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let seen = bodies.lock().unwrap()[0].clone();
        assert_eq!(seen["auth"], "Bearer sk-test");
        assert_eq!(seen["body"]["model"], "gpt-test");
        assert_eq!(seen["body"]["messages"][0]["role"], "system");
    }

    #[tokio::test]
    async fn rewrites_a_question_into_search_terms_in_the_knowledge_bases_language() {
        let (base, _calls, bodies) = serve(vec![]).await;
        let model = OpenAiChat::new(config(base)).unwrap();
        let terms = model.search_terms("¿cómo pago?", Language::En).await.unwrap();
        assert_eq!(terms.as_deref(), Some("Pay monthly [1]."), "the reply's first line");
        let seen = bodies.lock().unwrap()[0].clone();
        assert!(seen["body"]["messages"][0]["content"].as_str().unwrap().contains("in English"), "{seen}");
        assert_eq!(seen["body"]["messages"][1]["content"], "¿cómo pago?");
        assert_eq!(seen["body"]["max_tokens"], 40);
    }

    #[tokio::test]
    async fn retries_429_and_5xx_then_succeeds() {
        let (base, calls, _) = serve(vec![429, 503]).await;
        let answer = OpenAiChat::new(config(base)).unwrap().answer(&request()).await.unwrap();
        assert_eq!(answer, "Pay monthly [1].");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn gives_up_after_the_attempts_with_the_right_kind() {
        let (base, calls, _) = serve(vec![500, 500, 500, 500]).await;
        let error = OpenAiChat::new(config(base)).unwrap().answer(&request()).await.unwrap_err();
        assert_eq!(error.kind, ModelErrorKind::Unavailable);
        assert!(error.is_retryable());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn does_not_retry_a_rejected_request() {
        let (base, calls, _) = serve(vec![401]).await;
        let error = OpenAiChat::new(config(base)).unwrap().answer(&request()).await.unwrap_err();
        assert_eq!(error.kind, ModelErrorKind::Rejected);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_dead_server_is_unavailable_not_a_panic() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        drop(listener);
        let error = OpenAiChat::new(config(base)).unwrap().answer(&request()).await.unwrap_err();
        assert_eq!(error.kind, ModelErrorKind::Unavailable);
    }

    #[tokio::test]
    async fn a_slow_server_times_out_within_the_deadline() {
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let cfg = OpenAiConfig { timeout: Duration::from_millis(300), ..config(base) };
        let started = std::time::Instant::now();
        let error = OpenAiChat::new(cfg).unwrap().answer(&request()).await.unwrap_err();
        assert_eq!(error.kind, ModelErrorKind::Timeout);
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
