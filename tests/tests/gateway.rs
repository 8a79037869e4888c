//! The gateway daemon against the fake Discord gateway: answering in the channel end to end
//! (standalone app), and the connection's resilience (the daemon library with a counting sink).

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use steward_daemon::gateway::forward::CountingSink;
use steward_daemon::gateway::metrics::Metrics;
use steward_daemon::gateway::settings_cache::SettingsCache;
use steward_daemon::gateway::{self, Exit, Gateway, GatewayOptions};
use steward_domain::ids::{ApplicationId, GuildId};
use steward_domain::ports::SettingsStore;
use steward_domain::settings::{GuildSettings, ResponseMode};
use steward_domain::testing::MemoryStore;
use steward_tests::fake_discord::Recorded;
use steward_tests::fake_gateway::BOT_USER_ID;
use steward_tests::{FakeDiscord, FakeGateway, MessageSpec, SpawnOptions, message_create, spawn_app, spawn_app_with};
use tokio::sync::watch;

const GUILD: u64 = 1_200_000_000_000_000_000;
const CHANNEL: u64 = 1_210_000_000_000_000_000;
const WAIT: Duration = Duration::from_secs(10);
const KB: &str =
    "# Refunds\nRefunds are issued within 14 days of purchase.\n\n# Pro plan\nThe Pro plan costs 20 euros a month.";

fn channel_posts(discord: &FakeDiscord) -> Vec<Recorded> {
    discord.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/messages")).collect()
}

async fn wait_posts(discord: &FakeDiscord, count: usize) -> Vec<Recorded> {
    discord.wait_for(&format!("/channels/{CHANNEL}/messages"), count, WAIT).await;
    channel_posts(discord)
}

#[tokio::test]
async fn a_mention_is_answered_as_a_reply_that_pings_only_the_asker() {
    let app = spawn_app().await;
    app.add_document("global", "Billing", KB).await;
    app.wait_for_gateway().await;

    app.gateway.message(message_create(MessageSpec {
        id: 501,
        content: "how long do refunds take?",
        mentions_bot: true,
        ..MessageSpec::default()
    }));

    let posts = wait_posts(&app.discord, 1).await;
    assert_eq!(posts.len(), 1);
    let reply = &posts[0].body;
    assert!(reply["content"].as_str().unwrap().contains("14 days"), "{reply}");
    assert_eq!(reply["message_reference"]["message_id"], "501");
    assert_eq!(reply["allowed_mentions"], json!({"parse": [], "replied_user": true}));
    assert_eq!(posts[0].headers["authorization"], "Bot fake-bot-token");
    assert!(!app.discord.requests_to(&format!("/channels/{CHANNEL}/typing")).is_empty(), "typing indicator shown");
    // The model saw the question without the mention.
    let question =
        app.llm.requests()[0]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(question.ends_with(": how long do refunds take?"), "{question}");
    app.stop().await;
}

#[tokio::test]
async fn mention_mode_ignores_chat_and_bots_but_answers_replies_to_the_bot() {
    let app = spawn_app().await;
    app.add_document("global", "Billing", KB).await;
    app.wait_for_gateway().await;

    app.gateway.message(message_create(MessageSpec {
        id: 601,
        content: "how long do refunds take?",
        ..MessageSpec::default()
    }));
    app.gateway.message(message_create(MessageSpec {
        id: 602,
        author: 77,
        author_is_bot: true,
        content: "beep",
        mentions_bot: true,
        ..MessageSpec::default()
    }));
    app.gateway.message(message_create(MessageSpec {
        id: 603,
        content: "and how much is pro?",
        reply_to_bot: Some(600),
        ..MessageSpec::default()
    }));

    let posts = wait_posts(&app.discord, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts_after = channel_posts(&app.discord);
    assert_eq!(posts_after.len(), 1, "only the reply to the bot is answered: {posts:?}");
    assert_eq!(posts_after[0].body["message_reference"]["message_id"], "603");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("steward_gateway_events_dropped_total{reason=\"not_addressed\"} 1"), "{metrics}");
    assert!(metrics.contains("steward_gateway_events_dropped_total{reason=\"bot\"} 1"), "{metrics}");
    assert!(metrics.contains("steward_gateway_events_forwarded_total 1"), "{metrics}");
    app.stop().await;
}

#[tokio::test]
async fn a_bare_mention_gets_a_greeting_that_says_how_to_ask() {
    let app = spawn_app().await;
    app.wait_for_gateway().await;
    app.gateway.message(message_create(MessageSpec {
        id: 701,
        content: "",
        mentions_bot: true,
        ..MessageSpec::default()
    }));
    let posts = wait_posts(&app.discord, 1).await;
    let text = posts[0].body["content"].as_str().unwrap();
    assert!(text.contains("mention me with your question") && text.contains("/ask"), "{text}");
    assert!(app.llm.requests().is_empty(), "a greeting costs no model call");
    app.stop().await;
}

#[tokio::test]
async fn smart_mode_stays_silent_on_chat_and_answers_a_covered_question() {
    // The offline extractive model makes the smart decision itself.
    let app = spawn_app_with(SpawnOptions { extractive: true }).await;
    app.add_document("global", "Billing", KB).await;
    app.settings(GUILD, json!({"response_mode": "all_messages", "cooldown_seconds": 0})).await;
    app.wait_for_gateway().await;

    app.gateway.message(message_create(MessageSpec { id: 801, content: "lol nice", ..MessageSpec::default() }));
    app.gateway.message(message_create(MessageSpec {
        id: 802,
        content: "good morning everyone",
        ..MessageSpec::default()
    }));
    app.gateway.message(message_create(MessageSpec {
        id: 803,
        content: "How long do refunds take?",
        ..MessageSpec::default()
    }));

    let posts = wait_posts(&app.discord, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts = if posts.len() == 1 { channel_posts(&app.discord) } else { posts };
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].body["message_reference"]["message_id"], "803");
    assert!(posts[0].body["content"].as_str().unwrap().contains("> Refunds are issued within 14 days"));
    app.stop().await;
}

#[tokio::test]
async fn smart_mode_off_answers_every_message() {
    let app = spawn_app().await;
    app.add_document("global", "Billing", KB).await;
    app.settings(GUILD, json!({"response_mode": "all_messages", "smart_mode": false, "cooldown_seconds": 0})).await;
    app.wait_for_gateway().await;
    app.gateway.message(message_create(MessageSpec { id: 811, content: "lol nice", ..MessageSpec::default() }));
    let posts = wait_posts(&app.discord, 1).await;
    assert_eq!(posts[0].body["message_reference"]["message_id"], "811");
    app.stop().await;
}

#[tokio::test]
async fn channel_context_carries_another_members_message_into_the_prompt() {
    let app = spawn_app().await;
    app.add_document("global", "Billing", KB).await;
    app.settings(GUILD, json!({"response_mode": "all_messages", "cooldown_seconds": 0})).await;
    app.wait_for_gateway().await;

    // Member A states a fact without asking; smart mode stays silent but remembers it.
    app.gateway.message(message_create(MessageSpec {
        id: 901,
        author: 11,
        author_name: "bea",
        content: "I bought the Pro plan on Monday and want my money back",
        ..MessageSpec::default()
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Member B asks about it.
    app.gateway.message(message_create(MessageSpec {
        id: 902,
        author: 12,
        author_name: "carl",
        content: "can she still get a refund?",
        mentions_bot: true,
        ..MessageSpec::default()
    }));

    let posts = wait_posts(&app.discord, 1).await;
    assert_eq!(posts.last().unwrap().body["message_reference"]["message_id"], "902");
    let answer = app
        .llm
        .requests()
        .into_iter()
        .rev()
        .find(|r| r["messages"][0]["content"].as_str().unwrap().starts_with("You are Steward"))
        .unwrap();
    let system = answer["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("bea: I bought the Pro plan on Monday and want my money back"), "{system}");
    app.stop().await;
}

#[tokio::test]
async fn a_member_cannot_burn_the_quota_within_the_cooldown() {
    let app = spawn_app().await;
    app.add_document("global", "Billing", KB).await;
    app.settings(GUILD, json!({"cooldown_seconds": 60})).await;
    app.wait_for_gateway().await;
    for id in [1001, 1002, 1003] {
        app.gateway.message(message_create(MessageSpec {
            id,
            content: "refunds?",
            mentions_bot: true,
            ..MessageSpec::default()
        }));
    }
    wait_posts(&app.discord, 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(channel_posts(&app.discord).len(), 1);
    let (_, usage) = app.api(reqwest::Method::GET, &format!("/api/guilds/{GUILD}/usage"), None).await;
    assert_eq!(usage["used"], 1);
    app.stop().await;
}

#[tokio::test]
async fn socket_drops_mid_stream_lose_no_message_and_duplicate_none() {
    let app = spawn_app().await;
    app.add_document("global", "Billing", KB).await;
    app.wait_for_gateway().await;
    let ask = |id: u64| {
        message_create(MessageSpec {
            id,
            author: 2_000 + id,
            content: "refunds?",
            mentions_bot: true,
            ..MessageSpec::default()
        })
    };
    for id in 1..=5 {
        app.gateway.message(ask(id));
    }
    app.gateway.drop_connection();
    // Dispatched while the client is away: Discord would replay these on RESUME.
    for id in 6..=10 {
        app.gateway.message(ask(id));
    }
    let posts = wait_posts(&app.discord, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut answered: Vec<String> = channel_posts(&app.discord)
        .iter()
        .map(|p| p.body["message_reference"]["message_id"].as_str().unwrap().to_owned())
        .collect();
    answered.sort_by_key(|id| id.parse::<u64>().unwrap());
    assert_eq!(answered, (1..=10).map(|i| i.to_string()).collect::<Vec<_>>(), "{} posts", posts.len());
    assert!(app.gateway.resumes() >= 1, "the client resumed");
    assert_eq!(app.gateway.identifies(), 1, "no new session was needed");
    app.stop().await;
}

#[tokio::test]
async fn standalone_run_ends_with_the_fatal_status_and_stops_serving() {
    let app = spawn_app().await;
    app.wait_for_gateway().await;
    let health = app.url("/healthz");
    app.gateway.close(4004);
    assert_eq!(app.exit_status(WAIT).await, 78);
    assert!(reqwest::get(health).await.is_err(), "the HTTP server stopped too");
}

/// The daemon library alone, with a counting sink.
struct Daemon {
    gateway: FakeGateway,
    sink: Arc<CountingSink>,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Exit>,
    state: tempfile::TempDir,
}

async fn daemon(gateway: FakeGateway, state: Option<tempfile::TempDir>) -> Daemon {
    let discord = FakeDiscord::start().await;
    discord.set_gateway_url(&gateway.url);
    let store = MemoryStore::default();
    let all = GuildSettings { response_mode: ResponseMode::AllMessages, ..GuildSettings::default() };
    store.put_settings(GuildId::new(GUILD).unwrap(), &all).await.unwrap();
    let sink = Arc::new(CountingSink::default());
    let metrics = Arc::new(Metrics::default());
    let shared = Arc::new(Gateway {
        settings: Arc::new(SettingsCache::new(Arc::new(store))),
        forward: sink.clone(),
        metrics: metrics.clone(),
        application_id: ApplicationId::new(steward_tests::spawn::APP_ID).unwrap(),
    });
    let state = state.unwrap_or_else(|| tempfile::tempdir().unwrap());
    let options = GatewayOptions {
        token: "fake-bot-token".to_owned().into(),
        api_base: discord.base.clone(),
        gateway_url: Some(gateway.url.clone()),
        shards: None,
        state_dir: state.path().to_owned(),
    };
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(async move { gateway::run(options, shared, stop_rx).await.unwrap() });
    assert!(gateway.wait_until(WAIT, |g| g.identifies() + g.resumes() > 0).await);
    Daemon { gateway, sink, metrics, stop, task, state }
}

impl Daemon {
    fn forwarded(&self) -> u64 {
        self.sink.0.load(Ordering::Relaxed)
    }

    async fn wait_forwarded(&self, count: u64) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if self.forwarded() >= count {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    fn chat(&self, id: u64) {
        self.gateway.message(message_create(MessageSpec { id, content: "hello there", ..MessageSpec::default() }));
    }
}

#[tokio::test]
async fn close_code_4004_ends_the_daemon_without_reconnecting() {
    let d = daemon(FakeGateway::start().await, None).await;
    d.gateway.close(4004);
    let exit = tokio::time::timeout(WAIT, d.task).await.unwrap().unwrap();
    assert_eq!(exit, Exit::Fatal(4004));
    assert_eq!(exit.status(), 78);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(d.gateway.connections(), 1, "no reconnect after 4004");
}

#[tokio::test]
async fn disallowed_intents_have_their_own_exit_status() {
    let d = daemon(FakeGateway::start().await, None).await;
    d.gateway.close(4014);
    let exit = tokio::time::timeout(WAIT, d.task).await.unwrap().unwrap();
    assert_eq!((exit, exit.status()), (Exit::Fatal(4014), 80));
    assert!(exit.advice().contains("MESSAGE CONTENT INTENT"));
}

#[tokio::test]
async fn a_zombie_connection_is_detected_and_resumed() {
    let gateway = FakeGateway::start_with_heartbeat(Duration::from_millis(300)).await;
    let d = daemon(gateway, None).await;
    d.chat(1);
    assert!(d.wait_forwarded(1).await);
    d.gateway.ack_heartbeats(false);
    assert!(d.gateway.wait_until(WAIT, |g| g.resumes() >= 1).await, "no RESUME after missing heartbeat ACKs");
    d.gateway.ack_heartbeats(true);
    d.chat(2);
    assert!(d.wait_forwarded(2).await, "events flow again after the resume");
    assert_eq!(d.gateway.identifies(), 1);
    assert!(d.metrics.reconnects.load(Ordering::Relaxed) >= 1);
    let _ = d.stop.send(true);
}

#[tokio::test]
async fn op7_resumes_and_op9_is_handled_as_discord_specifies() {
    let d = daemon(FakeGateway::start().await, None).await;
    d.gateway.reconnect();
    assert!(d.gateway.wait_until(WAIT, |g| g.resumes() == 1).await, "op 7 → RESUME");
    d.gateway.invalidate_session(true);
    assert!(d.gateway.wait_until(WAIT, |g| g.resumes() == 2).await, "op 9 resumable → RESUME");
    assert_eq!(d.gateway.identifies(), 1);
    d.gateway.invalidate_session(false);
    assert!(d.gateway.wait_until(WAIT, |g| g.identifies() == 2).await, "op 9 not resumable → IDENTIFY anew");
    d.chat(3);
    assert!(d.wait_forwarded(1).await);
    let _ = d.stop.send(true);
}

#[tokio::test]
async fn a_clean_shutdown_saves_the_session_and_a_restart_resumes_it() {
    let gateway = FakeGateway::start().await;
    let d = daemon(gateway.clone(), None).await;
    d.chat(1);
    assert!(d.wait_forwarded(1).await);
    let _ = d.stop.send(true);
    assert_eq!(tokio::time::timeout(WAIT, d.task).await.unwrap().unwrap(), Exit::Shutdown);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(d.state.path().join("gateway-shard-0.json")).unwrap()).unwrap();
    assert_eq!(saved["session_id"], "session-1");

    // While the daemon is down, members keep talking.
    for id in [2, 3] {
        gateway.message(message_create(MessageSpec { id, content: "hello there", ..MessageSpec::default() }));
    }
    let restarted = daemon(gateway, Some(d.state)).await;
    assert!(restarted.wait_forwarded(2).await, "the events sent while down were replayed");
    assert_eq!(restarted.forwarded(), 2, "and the one handed on before the restart was not");
    assert_eq!(restarted.gateway.identifies(), 1, "resumed, not re-identified");
    assert_eq!(restarted.gateway.resumes(), 1);
    let _ = restarted.stop.send(true);
}

#[tokio::test]
async fn the_health_endpoint_reports_ready_shards_and_metrics_render() {
    let d = daemon(FakeGateway::start().await, None).await;
    let router = gateway::health_router(d.metrics.clone(), 1).merge(gateway::metrics_router(d.metrics.clone()));
    let addr = steward_tests::serve(router).await;
    let client = reqwest::Client::new();
    let mut status = 0;
    for _ in 0..100 {
        status = client.get(format!("http://{addr}/healthz")).send().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 200);
    d.chat(1);
    assert!(d.wait_forwarded(1).await);
    let text = client.get(format!("http://{addr}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("steward_gateway_events_received_total 1"), "{text}");
    assert!(text.contains("steward_gateway_forward_latency_seconds_count 1"), "{text}");
    let _ = d.stop.send(true);
    let _ = BOT_USER_ID;
}
