//! The gateway daemon against the fake Discord gateway: answering in the channel end to end
//! (standalone app), the connection's resilience (the gateway library with a counting sink),
//! and `steward gateway`'s composition (health over every shard).

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use steward_config::Config;
use steward_daemon::daemon::Daemon;
use steward_daemon::gateway::forward::{CountingSink, Forward};
use steward_daemon::gateway::metrics::Metrics;
use steward_daemon::gateway::{self, Exit, Gateway};
use steward_domain::clock::{Clock, SystemClock, Timestamp};
use steward_domain::events::Event;
use steward_domain::ids::GuildId;
use steward_domain::ports::{BoxError, SettingsStore};
use steward_domain::settings::{GuildSettings, ResponseMode};
use steward_domain::testing::{ManualClock, MemoryStore};
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
    let app = spawn_app_with(SpawnOptions { extractive: true, ..SpawnOptions::default() }).await;
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
    // Not a question (smart mode would stay silent), but the knowledge base covers it.
    let content = "so refunds take 14 days";
    app.gateway.message(message_create(MessageSpec { id: 811, content, ..MessageSpec::default() }));
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
async fn a_member_cannot_burn_the_quota_within_the_cooldown_and_is_told_when_to_ask_again() {
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
    // One answer, and one short notice saying when to ask again: never silence.
    let posts = wait_posts(&app.discord, 2).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let posts: Vec<String> = posts.iter().map(|p| p.body["content"].as_str().unwrap().to_owned()).collect();
    assert_eq!(channel_posts(&app.discord).len(), 2, "{posts:?}");
    assert_eq!(posts.iter().filter(|p| p.contains("14 days")).count(), 1, "{posts:?}");
    assert_eq!(posts.iter().filter(|p| p.contains("I can answer you again in")).count(), 1, "{posts:?}");
    // The third message gets a ⏳ reaction instead of more text.
    let reactions: Vec<_> = app.discord.requests().into_iter().filter(|r| r.path.contains("/reactions/")).collect();
    assert_eq!(reactions.len(), 1);
    assert!(reactions[0].path.ends_with("/reactions/%E2%8F%B3/@me"), "{}", reactions[0].path);
    assert_eq!(reactions[0].method, reqwest::Method::PUT);
    let (_, usage) = app.api(reqwest::Method::GET, &format!("/api/guilds/{GUILD}/usage"), None).await;
    assert_eq!(usage["used"], 1, "held-back messages cost nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_reply_to_stewards_answer_is_a_follow_up_and_skips_the_cooldown() {
    let app = spawn_app().await;
    app.add_document("global", "Billing", KB).await;
    app.settings(GUILD, json!({"cooldown_seconds": 60})).await;
    app.wait_for_gateway().await;
    app.gateway.message(message_create(MessageSpec {
        id: 1101,
        content: "refunds?",
        mentions_bot: true,
        ..MessageSpec::default()
    }));
    wait_posts(&app.discord, 1).await;
    tokio::time::sleep(steward_domain::respond::FOLLOW_UP_WINDOW).await;
    app.gateway.message(message_create(MessageSpec {
        id: 1102,
        content: "and how much is the pro plan?",
        reply_to_bot: Some(1_400_000_000_000_000_000),
        ..MessageSpec::default()
    }));
    let posts = wait_posts(&app.discord, 2).await;
    assert!(posts[1].body["content"].as_str().unwrap().contains("20 euros"), "{}", posts[1].body);
    assert_eq!(posts[1].body["message_reference"]["message_id"], "1102");
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

/// The gateway library alone (no HTTP), with a counting sink or another destination.
struct Running<F = CountingSink> {
    gateway: FakeGateway,
    sink: Arc<F>,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Exit>,
    state: tempfile::TempDir,
}

/// The configuration `steward gateway` would read, pointed at the fakes.
fn config(discord: &FakeDiscord, gateway: &FakeGateway, state: &std::path::Path) -> Config {
    let vars = HashMap::from([
        ("DISCORD_BOT_TOKEN", "fake-bot-token".to_owned()),
        ("DISCORD_APPLICATION_ID", steward_tests::spawn::APP_ID.to_string()),
        ("DISCORD_API_BASE", discord.base.clone()),
        ("DISCORD_GATEWAY_URL", gateway.url.clone()),
        ("STEWARD_DATA_DIR", state.display().to_string()),
    ]);
    Config::from_lookup(|name| vars.get(name).cloned()).unwrap()
}

/// A settings store where the test guild answers every message.
async fn all_messages_store() -> MemoryStore {
    let store = MemoryStore::default();
    let all = GuildSettings { response_mode: ResponseMode::AllMessages, ..GuildSettings::default() };
    store.put_settings(GuildId::new(GUILD).unwrap(), &all).await.unwrap();
    store
}

async fn daemon(gateway: FakeGateway, state: Option<tempfile::TempDir>) -> Running {
    daemon_with(gateway, state, Arc::new(CountingSink::default()), Arc::new(SystemClock)).await
}

async fn daemon_with<F: Forward + 'static>(
    gateway: FakeGateway,
    state: Option<tempfile::TempDir>,
    sink: Arc<F>,
    clock: Arc<dyn Clock>,
) -> Running<F> {
    let discord = FakeDiscord::start().await;
    discord.set_gateway_url(&gateway.url);
    let state = state.unwrap_or_else(|| tempfile::tempdir().unwrap());
    let metrics = Arc::new(Metrics::default());
    let config = config(&discord, &gateway, state.path());
    let forward: Arc<dyn Forward> = sink.clone();
    let store = Arc::new(all_messages_store().await);
    let (options, shared) = Gateway::from_config(&config, store, forward, metrics.clone(), clock).unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(async move { gateway::run(options, shared, stop_rx).await.unwrap() });
    assert!(gateway.wait_until(WAIT, |g| g.identifies() + g.resumes() > 0).await);
    Running { gateway, sink, metrics, stop, task, state }
}

impl<F> Running<F> {
    /// Dispatches a chat message in the all-messages guild; returns its sequence.
    fn chat(&self, id: u64) -> u64 {
        self.gateway.message(message_create(MessageSpec { id, content: "hello there", ..MessageSpec::default() }))
    }

    /// Stops the daemon and returns the saved checkpoint of shard 0.
    async fn shut_down(self) -> (Value, tempfile::TempDir) {
        let _ = self.stop.send(true);
        assert_eq!(tokio::time::timeout(WAIT, self.task).await.unwrap().unwrap(), Exit::Shutdown);
        let saved = std::fs::read_to_string(self.state.path().join("gateway-shard-0.json")).unwrap();
        (serde_json::from_str(&saved).unwrap(), self.state)
    }
}

impl Running {
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
}

/// A destination that can be switched off, as when EventBridge and even the disk spool fail.
#[derive(Default)]
struct Switch {
    down: AtomicBool,
    /// Message ids handed on, in order.
    delivered: Mutex<Vec<u64>>,
    /// Message ids offered while down.
    refused: Mutex<Vec<u64>>,
}

impl Switch {
    fn delivered(&self) -> Vec<u64> {
        self.delivered.lock().unwrap().clone()
    }

    fn refused(&self) -> Vec<u64> {
        self.refused.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Forward for Switch {
    async fn forward(&self, events: &[Event]) -> Result<(), BoxError> {
        let ids = events.iter().filter_map(|e| match e {
            Event::MessageCreated(m) => Some(m.message_id.get()),
            Event::AskAccepted(_) => None,
        });
        if self.down.load(Ordering::SeqCst) {
            self.refused.lock().unwrap().extend(ids);
            return Err("the destination and the spool are unavailable".into());
        }
        self.delivered.lock().unwrap().extend(ids);
        Ok(())
    }
}

async fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
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
async fn events_that_could_not_be_handed_on_are_replayed_after_a_restart() {
    // GIVEN a daemon whose destination fails (even the spool) after the first message
    let gateway = FakeGateway::start().await;
    let first = daemon_with(gateway.clone(), None, Arc::new(Switch::default()), Arc::new(SystemClock)).await;
    first.chat(1);
    assert!(eventually(|| first.sink.delivered() == [1]).await);
    first.sink.down.store(true, Ordering::SeqCst);

    // WHEN two messages arrive that cannot be handed on, and the daemon is stopped
    let second_sequence = first.chat(2);
    first.chat(3);
    assert!(eventually(|| first.sink.refused().contains(&3)).await, "both were offered");
    let sink = Arc::clone(&first.sink);
    let (saved, state) = first.shut_down().await;

    // THEN the checkpoint stays behind them
    assert!(saved["sequence"].as_u64().unwrap() < second_sequence, "{saved} vs {second_sequence}");

    // WHEN it restarts with a working destination
    let restarted = daemon_with(gateway, Some(state), Arc::new(Switch::default()), Arc::new(SystemClock)).await;

    // THEN Discord replays them and each reaches the destination exactly once
    assert!(eventually(|| restarted.sink.delivered().len() >= 2).await, "{:?}", restarted.sink.delivered());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.delivered(), [1]);
    assert_eq!(restarted.sink.delivered(), [2, 3]);
    assert_eq!(restarted.gateway.resumes(), 1, "resumed, not re-identified");
    let _ = restarted.stop.send(true);
}

#[tokio::test]
async fn a_failed_hand_off_is_retried_without_waiting_for_another_message() {
    // GIVEN a daemon whose destination is down when a message arrives
    let gateway = FakeGateway::start().await;
    let d = daemon_with(gateway, None, Arc::new(Switch::default()), Arc::new(SystemClock)).await;
    d.chat(1);
    assert!(eventually(|| d.sink.delivered() == [1]).await);
    d.sink.down.store(true, Ordering::SeqCst);
    d.chat(2);
    assert!(eventually(|| d.sink.refused().contains(&2)).await);
    // WHEN the destination comes back and the channel stays quiet
    d.sink.down.store(false, Ordering::SeqCst);
    // THEN the event is handed on by the retry timer alone
    assert!(eventually(|| d.sink.delivered() == [1, 2]).await, "{:?}", d.sink.delivered());
    let _ = d.stop.send(true);
}

#[tokio::test]
async fn the_health_endpoint_reports_ready_shards_and_metrics_render() {
    let d = daemon(FakeGateway::start().await, None).await;
    let router = gateway::health_router(d.metrics.clone()).merge(gateway::metrics_router(d.metrics.clone()));
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

#[tokio::test]
async fn checkpoints_are_stamped_and_aged_by_the_injected_clock() {
    // GIVEN a daemon whose clock stands at a known time
    let clock = Arc::new(ManualClock::at(Timestamp::from_secs(1_000_000)));
    let gateway = FakeGateway::start().await;
    let sink = || Arc::new(CountingSink::default());
    let first = daemon_with(gateway.clone(), None, sink(), clock.clone()).await;
    first.chat(1);
    assert!(first.wait_forwarded(1).await);

    // WHEN it stops, THEN the checkpoint carries that time
    let (saved, state) = first.shut_down().await;
    assert_eq!(saved["saved_at"], 1_000_000);

    // WHEN it restarts nine minutes later by that clock, THEN it resumes
    clock.advance(Duration::from_secs(9 * 60));
    let second = daemon_with(gateway.clone(), Some(state), sink(), clock.clone()).await;
    assert!(gateway.wait_until(WAIT, |g| g.resumes() == 1).await);
    let (saved, state) = second.shut_down().await;
    assert_eq!(saved["saved_at"], 1_000_540);

    // WHEN it restarts eleven minutes after that, THEN the session is too old: it identifies anew
    clock.advance(Duration::from_secs(11 * 60));
    let third = daemon_with(gateway.clone(), Some(state), sink(), clock).await;
    assert!(gateway.wait_until(WAIT, |g| g.identifies() == 2).await, "a new session");
    assert_eq!(gateway.resumes(), 1, "no resume of the stale checkpoint");
    let _ = third.stop.send(true);
}

#[tokio::test]
async fn steward_gateway_is_healthy_only_once_every_recommended_shard_is_ready() {
    // GIVEN Discord recommends two shards (STEWARD_SHARDS unset) and READYs only the first
    let discord = FakeDiscord::start().await;
    let fake = FakeGateway::start().await;
    discord.set_gateway_url(&fake.url);
    discord.set_shards(2);
    fake.withhold_ready_after(1);
    let state = tempfile::tempdir().unwrap();
    let config = config(&discord, &fake, state.path());
    let store = Arc::new(all_messages_store().await);
    let daemon = Daemon::from_ports(&config, store, Arc::new(CountingSink::default()), Arc::new(SystemClock)).unwrap();
    let metrics = daemon.metrics();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(daemon.serve(listener, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let health = || async {
        let response = client.get(format!("{base}/healthz")).send().await.unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };

    // WHEN both shards have identified and one is ready
    assert!(fake.wait_until(WAIT, |g| g.identifies() == 2).await, "both shards connect");
    assert!(eventually(|| metrics.shards_ready.load(Ordering::Relaxed) == 1).await);
    tokio::time::sleep(Duration::from_millis(100)).await;

    // THEN the daemon is not healthy
    let (status, body) = health().await;
    assert_eq!((status, &body), (503, &json!({"shards": 2, "shards_ready": 1})));

    // WHEN the second shard gets READY, THEN it is
    fake.release_ready();
    assert!(eventually(|| metrics.shards_ready.load(Ordering::Relaxed) == 2).await);
    let (status, body) = health().await;
    assert_eq!((status, &body), (200, &json!({"shards": 2, "shards_ready": 2})));
    let text = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("steward_gateway_shards_total 2\n"), "{text}");

    stop.send(()).unwrap();
    assert_eq!(tokio::time::timeout(WAIT, served).await.unwrap().unwrap().unwrap(), 0);
}
