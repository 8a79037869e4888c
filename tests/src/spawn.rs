//! `spawn_app()`: the real standalone app on 127.0.0.1:0 with a temp store, wired to fakes.

use std::collections::HashMap;
use std::net::SocketAddr;

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use steward_config::Config;
use steward_daemon::standalone::App;
use tokio::sync::oneshot;

use crate::signer::now_secs;
use crate::{FakeDiscord, FakeGateway, FakeLlm, Signer};

/// The application id the fakes use.
pub const APP_ID: u64 = 1_300_000_000_000_000_000;

/// Options for [`spawn_app`].
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// Use the offline extractive model instead of the fake LLM.
    pub extractive: bool,
    /// Hybrid search with the fake LLM's embeddings (`EMBEDDINGS_MODEL`).
    pub embeddings: bool,
}

/// A running standalone Steward and its fakes.
pub struct TestApp {
    pub addr: SocketAddr,
    pub discord: FakeDiscord,
    pub gateway: FakeGateway,
    pub llm: FakeLlm,
    pub signer: Signer,
    pub admin_token: String,
    pub http: reqwest::Client,
    _data: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<u8>>>,
}

/// Starts Steward with the fake LLM.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(SpawnOptions::default()).await
}

/// Starts Steward with `options`.
pub async fn spawn_app_with(options: SpawnOptions) -> TestApp {
    let discord = FakeDiscord::start().await;
    let gateway = FakeGateway::start().await;
    discord.set_gateway_url(&gateway.url);
    let llm = FakeLlm::start().await;
    let signer = Signer::default();
    let data = tempfile::tempdir().unwrap();
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DISCORD_APPLICATION_ID", APP_ID.to_string()),
        ("DISCORD_PUBLIC_KEY", signer.public_hex()),
        ("DISCORD_BOT_TOKEN", "fake-bot-token".to_owned()),
        ("DISCORD_API_BASE", discord.base.clone()),
        ("DISCORD_GATEWAY_URL", gateway.url.clone()),
        ("STEWARD_DATA_DIR", data.path().display().to_string()),
        ("STEWARD_LISTEN", "127.0.0.1:0".to_owned()),
        ("LLM_TIMEOUT_SECS", "3".to_owned()),
    ]);
    if options.extractive {
        vars.insert("LLM_PROVIDER", "extractive".to_owned());
    } else {
        vars.insert("OPENAI_BASE_URL", llm.base.clone());
        vars.insert("LLM_MODEL", "fake-model".to_owned());
    }
    if options.embeddings {
        vars.insert("EMBEDDINGS_MODEL", "fake-embeddings".to_owned());
        vars.insert("EMBEDDINGS_BASE_URL", llm.base.clone());
        // The stand-in's similarities run lower than a real model's.
        vars.insert("EMBEDDINGS_MIN_SIMILARITY", "0.4".to_owned());
    }
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let app = App::build(&config).await.unwrap();
    let admin_token = app.admin_token().expose_secret().to_owned();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        discord,
        gateway,
        llm,
        signer,
        admin_token,
        http: reqwest::Client::new(),
        _data: data,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// A `/ask` interaction body as Discord sends it.
#[must_use]
pub fn ask_body(interaction: u64, guild: u64, channel: u64, user: u64, question: &str) -> String {
    json!({
        "type": 2,
        "id": interaction.to_string(),
        "application_id": APP_ID.to_string(),
        "token": format!("token-{interaction}"),
        "version": 1,
        "guild_id": guild.to_string(),
        "channel_id": channel.to_string(),
        "channel": {"id": channel.to_string(), "type": 0},
        "locale": "en-US",
        "app_permissions": "2248473465835073",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild.to_string()},
        "attachment_size_limit": 26214400,
        "context": 0,
        "member": {
            "user": {"id": user.to_string(), "username": format!("member{user}"), "global_name": null, "discriminator": "0", "avatar": null},
            "nick": null, "roles": [], "joined_at": "2026-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0,
            "permissions": "2248473465835073"
        },
        "data": {"id": "1350000000000000000", "name": "ask", "type": 1,
                 "options": [{"name": "question", "type": 3, "value": question}]}
    })
    .to_string()
}

impl TestApp {
    /// The app's base URL.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a body to the interactions endpoint, signed now.
    pub async fn post_signed(&self, body: &str) -> reqwest::Response {
        let timestamp = now_secs().to_string();
        self.post_interaction(body, &timestamp, &self.signer.sign(&timestamp, body)).await
    }

    /// POSTs a body with the given timestamp and signature headers.
    pub async fn post_interaction(&self, body: &str, timestamp: &str, signature: &str) -> reqwest::Response {
        self.http
            .post(self.url("/discord/webhook"))
            .header("content-type", "application/json")
            .header("x-signature-timestamp", timestamp)
            .header("x-signature-ed25519", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// Sends a signed `/ask` and returns the immediate JSON reply.
    pub async fn ask(&self, interaction: u64, guild: u64, channel: u64, user: u64, question: &str) -> Value {
        let response = self.post_signed(&ask_body(interaction, guild, channel, user, question)).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Calls the settings API with the admin token.
    pub async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Adds a knowledge-base document through the settings API.
    pub async fn add_document(&self, scope: &str, title: &str, body: &str) {
        let (status, _) = self
            .api(
                reqwest::Method::POST,
                &format!("/api/knowledge/{scope}/documents"),
                Some(json!({"title": title, "body": body, "source": format!("{title}.md")})),
            )
            .await;
        assert_eq!(status, 201);
    }

    /// Patches a guild's settings through the API.
    pub async fn settings(&self, guild: u64, patch: Value) {
        let (status, body) =
            self.api(reqwest::Method::PATCH, &format!("/api/guilds/{guild}/settings"), Some(patch)).await;
        assert_eq!(status, 200, "{body}");
    }

    /// Waits until the gateway connection is ready (a session is live).
    pub async fn wait_for_gateway(&self) {
        let ready =
            self.gateway.wait_until(std::time::Duration::from_secs(10), |g| g.identifies() + g.resumes() > 0).await;
        assert!(ready, "the app never identified with the fake gateway");
        // READY travels after IDENTIFY; give the client a moment to process it.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while tokio::time::Instant::now() < deadline {
            let metrics = self.http.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
            if metrics.contains("steward_gateway_shards_ready 1") {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the gateway never became ready");
    }

    /// Waits for the app to end by itself (a fatal gateway close) and returns its exit status.
    pub async fn exit_status(mut self, timeout: std::time::Duration) -> u8 {
        let server = self.server.take().unwrap();
        tokio::time::timeout(timeout, server).await.expect("the app did not stop").unwrap().unwrap()
    }

    /// Stops the server and waits for in-flight work.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}
