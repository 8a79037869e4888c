//! A fake OpenAI-compatible `/v1/chat/completions` and `/v1/embeddings` server on 127.0.0.1.
//!
//! By default it answers like a well-behaved grounded model: it quotes the first passage of the
//! system prompt and cites it as `[1]`, or says it does not know. Other behaviours simulate
//! failures and misbehaviour.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

/// How the fake answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmBehaviour {
    /// Quote the first passage with a `[1]` citation.
    Grounded,
    /// Answer 500 to everything.
    Fail,
    /// Never answer within any sane deadline.
    Hang,
    /// Echo the system prompt back (a prompt-injection success).
    LeakSystemPrompt,
    /// Answer this fixed text.
    Fixed(String),
}

struct Inner {
    behaviour: LlmBehaviour,
    requests: Vec<Value>,
    embedded: Vec<String>,
    verdicts: Vec<Value>,
}

/// The words the fake moderation judge takes for a clear violation of R1 (it quotes them).
pub const FAKE_VIOLATION: &str = "cheap followers";

/// Words the fake embeddings model takes to mean the same (`money` back is a refund).
pub const FAKE_SYNONYMS: &[&[&str]] = &[&["refunds", "refund", "money", "reembolso"]];

/// The fake; clone it freely.
#[derive(Clone)]
pub struct FakeLlm {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakeLlm {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            behaviour: LlmBehaviour::Grounded,
            requests: Vec::new(),
            embedded: Vec::new(),
            verdicts: Vec::new(),
        }));
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .route("/v1/embeddings", post(embeddings))
            .with_state(inner.clone());
        let addr = crate::serve(app).await;
        Self { inner, base: format!("http://{addr}/v1") }
    }

    /// Changes how it answers from now on.
    pub fn set(&self, behaviour: LlmBehaviour) {
        self.inner.lock().unwrap().behaviour = behaviour;
    }

    /// Every chat request body received.
    pub fn requests(&self) -> Vec<Value> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Queues a verdict the judge answers next instead of its own (a model that was fooled).
    pub fn push_verdict(&self, verdict: Value) {
        self.inner.lock().unwrap().verdicts.push(verdict);
    }

    /// Every moderation request received (the data between the markers, parsed).
    pub fn judged(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .filter(|body| body["messages"][0]["content"].as_str().is_some_and(|s| s.starts_with(JUDGE_PROMPT)))
            .filter_map(|body| judged_data(body["messages"][1]["content"].as_str().unwrap_or_default()))
            .collect()
    }

    /// Every text embedded, in order.
    pub fn embedded(&self) -> Vec<String> {
        self.inner.lock().unwrap().embedded.clone()
    }
}

/// Embeds each input with the word-hashing stand-in that knows [`FAKE_SYNONYMS`]; fails like
/// the chat endpoint when told to.
async fn embeddings(State(inner): State<Arc<Mutex<Inner>>>, Json(body): Json<Value>) -> Response {
    let inputs: Vec<String> = body["input"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let behaviour = {
        let mut inner = inner.lock().unwrap();
        inner.embedded.extend(inputs.iter().cloned());
        inner.behaviour.clone()
    };
    if behaviour == LlmBehaviour::Fail {
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response();
    }
    let embedder = steward_domain::testing::WordEmbedder::with_synonyms(FAKE_SYNONYMS);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": embedder.vector(text)}))
        .collect();
    Json(json!({"object": "list", "model": body["model"], "data": data})).into_response()
}

fn reply(content: &str) -> Response {
    Json(json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]
    }))
    .into_response()
}

/// How Steward's moderation prompt starts.
const JUDGE_PROMPT: &str = "You are the moderation judge";

/// The JSON between `<<DATA-…>>` and `<<END-…>>` in a moderation request.
fn judged_data(user: &str) -> Option<Value> {
    let start = user.find(">>\n")? + 3;
    let end = user.rfind("\n<<END-")?;
    serde_json::from_str(user.get(start..end)?).ok()
}

/// The fake judge: a message containing [`FAKE_VIOLATION`] clearly breaks R1; others are clean.
fn judge(data: &Value) -> Value {
    let verdicts: Vec<Value> = data["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| {
                    let content = m["content"].as_str().unwrap_or_default().to_lowercase();
                    let violation = content.contains(FAKE_VIOLATION);
                    json!({
                        "ref": m["ref"], "violation": violation,
                        "rule_ids": if violation { json!(["R1"]) } else { json!([]) },
                        "severity": if violation { "high" } else { "none" },
                        "confidence": 0.95,
                        "evidence": if violation { FAKE_VIOLATION } else { "" },
                        "reason": if violation { "Advertising." } else { "Fine." }
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "verdicts": verdicts })
}

/// The first passage's text in a Steward system prompt, if any.
fn first_passage(system: &str) -> Option<String> {
    let start = system.find("\n[1] ")?;
    let rest = &system[start + 1..];
    let body_start = rest.find('\n')? + 1;
    let body = &rest[body_start..];
    let end = body.find("\n[2] ").unwrap_or(body.len());
    Some(body[..end].trim().to_owned())
}

async fn complete(State(inner): State<Arc<Mutex<Inner>>>, Json(body): Json<Value>) -> Response {
    let behaviour = {
        let mut inner = inner.lock().unwrap();
        inner.requests.push(body.clone());
        inner.behaviour.clone()
    };
    let system = body["messages"][0]["content"].as_str().unwrap_or_default().to_owned();
    if system.starts_with(JUDGE_PROMPT) {
        let forged = {
            let mut inner = inner.lock().unwrap();
            (!inner.verdicts.is_empty()).then(|| inner.verdicts.remove(0))
        };
        if behaviour == LlmBehaviour::Fail {
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response();
        }
        let data = judged_data(body["messages"][1]["content"].as_str().unwrap_or_default()).unwrap_or_default();
        let verdict = forged.unwrap_or_else(|| judge(&data));
        return reply(&verdict.to_string());
    }
    if system.starts_with("You watch a Discord community channel") {
        // The smart-mode decision: a question with matching passages deserves an answer.
        let message = body["messages"][1]["content"].as_str().unwrap_or_default();
        let covered = !system.contains("(none matched)");
        return reply(if message.contains('?') && covered { "YES" } else { "NO" });
    }
    match behaviour {
        LlmBehaviour::Grounded => match first_passage(&system) {
            Some(passage) => reply(&format!("According to the docs: {passage} [1]")),
            None => reply("I don't know; please ask a moderator."),
        },
        LlmBehaviour::Fail => (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
        LlmBehaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            reply("too late")
        }
        LlmBehaviour::LeakSystemPrompt => reply(&format!("My instructions are: {system}")),
        LlmBehaviour::Fixed(text) => reply(&text),
    }
}
