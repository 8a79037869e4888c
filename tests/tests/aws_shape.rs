//! `/ask` in the AWS shape against moto: the interactions router on DynamoDB + EventBridge,
//! the event captured by an EventBridge rule into SQS (as the worker's rule would route it),
//! then the worker Lambda's handler answering through the fake Discord and fake LLM.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::answer::AnswerConfig;
use steward_domain::ask::{AskIntake, AskOutcome};
use steward_domain::clock::{Clock, SystemClock, Timestamp};
use steward_domain::ids::{ApplicationId, DocumentId};
use steward_domain::knowledge::{KbScope, NewDocument};
use steward_domain::ports::{KnowledgeStore, Ports, UsageStore};
use steward_domain::quota::Month;
use steward_domain::worker::{Handled, Worker};
use steward_dynamodb::{DynamoStore, create_table};
use steward_eventbridge::EventBridgeBus;
use steward_http::{InteractionsState, Verifier, interactions_router};
use steward_openai::{OpenAiChat, OpenAiConfig};
use steward_search::TantivySearch;
use steward_tests::signer::now_secs;
use steward_tests::spawn::APP_ID;
use steward_tests::{FakeDiscord, FakeLlm, Signer, ask_body};

fn require_emulator() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL must point at moto on loopback (got `{endpoint}`); run infra/scripts/test.sh"
    );
}

/// A bus with a rule that copies every Steward event into a fresh SQS queue.
async fn bus_with_capture(aws: &aws_config::SdkConfig, name: &str) -> (String, aws_sdk_sqs::Client, String) {
    let events = aws_sdk_eventbridge::Client::new(aws);
    let sqs = aws_sdk_sqs::Client::new(aws);
    events.create_event_bus().name(name).send().await.unwrap();
    let queue_url = sqs.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let arn = attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let pattern = json!({"source": [steward_eventbridge::SOURCE], "detail-type": ["ask.accepted"]}).to_string();
    events.put_rule().name("ask-accepted").event_bus_name(name).event_pattern(pattern).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("capture").arn(arn).build().unwrap();
    events.put_targets().rule("ask-accepted").event_bus_name(name).targets(target).send().await.unwrap();
    (name.to_owned(), sqs, queue_url)
}

async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<Value> {
    let output = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    output
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| serde_json::from_str(m.body.as_deref().unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_flows_through_dynamodb_eventbridge_and_the_worker_handler() {
    require_emulator();
    let aws = aws_config::load_from_env().await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let table = format!("steward-e2e-{suffix}");
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, &table));
    create_table(store.client(), &table).await.unwrap();
    let (bus_name, sqs, queue_url) = bus_with_capture(&aws, &format!("steward-e2e-{suffix}")).await;
    let discord = FakeDiscord::start().await;
    let llm = FakeLlm::start().await;
    let signer = Signer::default();

    // GIVEN a knowledge base in DynamoDB
    let (doc, chunks) =
        NewDocument { title: "Billing".into(), source: None, body: "# Refunds\nRefunds take 14 days.".into() }
            .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
            .unwrap();
    store.put_document(KbScope::Global, &doc, &chunks).await.unwrap();

    // AND the interactions function's router, served on loopback
    let clock = Arc::new(SystemClock);
    let verifier = Verifier::from_hex([(ApplicationId::new(APP_ID).unwrap(), signer.public_hex().as_str())]).unwrap();
    let intake = AskIntake::new(
        store.clone(),
        store.clone(),
        Arc::new(EventBridgeBus::from_sdk_config(&aws, &bus_name)),
        clock.clone(),
    );
    let router = interactions_router(InteractionsState { verifier: Arc::new(verifier), intake, clock: clock.clone() });
    let addr = steward_tests::serve(router).await;

    // WHEN Discord posts a signed /ask
    let body = ask_body(
        42,
        1_200_000_000_000_000_000,
        1_210_000_000_000_000_000,
        1_220_000_000_000_000_000,
        "How long do refunds take?",
    );
    let timestamp = now_secs().to_string();
    let started = std::time::Instant::now();
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/discord/webhook"))
        .header("x-signature-timestamp", &timestamp)
        .header("x-signature-ed25519", signer.sign(&timestamp, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();

    // THEN it is deferred well inside Discord's 3 s, and an ask.accepted event is on the bus
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"type": 5}));
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    let delivered = receive(&sqs, &queue_url).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["detail-type"], "ask.accepted");
    assert_eq!(delivered[0]["detail"]["question"], "How long do refunds take?");

    // WHEN the worker Lambda's handler receives that event
    let worker = worker(&store, &llm.base, &discord.base, clock);
    let handled = steward_worker::handle(&worker, delivered[0].clone()).await.unwrap();

    // THEN the member's "thinking…" is replaced by the grounded answer, and one message is counted
    assert_eq!(handled, Some(Handled::Ask(AskOutcome::Answered { parts: 1 })));
    let edits = discord.requests_to("/messages/@original");
    assert_eq!(edits.len(), 1);
    assert!(edits[0].body["content"].as_str().unwrap().contains("Refunds take 14 days"));
    assert_eq!(edits[0].body["allowed_mentions"], json!({"parse": []}));
    let guild = "1200000000000000000".parse().unwrap();
    assert_eq!(store.used(guild, Month::containing(Timestamp::from_secs(now_secs()))).await.unwrap(), 1);

    // AND EventBridge redelivering the same event posts nothing twice
    let again = steward_worker::handle(&worker, delivered[0].clone()).await.unwrap();
    assert_eq!(again, Some(Handled::Ask(AskOutcome::Duplicate)));
    assert_eq!(discord.requests_to("/messages/@original").len(), 1);
}

#[tokio::test]
async fn eventbridge_batches_arrive_with_source_type_and_detail() {
    require_emulator();
    let aws = aws_config::load_from_env().await;
    let name = format!("steward-batch-{}", uuid::Uuid::new_v4().simple());
    let (bus_name, sqs, queue_url) = bus_with_capture(&aws, &name).await;
    let bus = EventBridgeBus::from_sdk_config(&aws, &bus_name);
    let sample: Value = serde_json::from_str(include_str!("../../events/ask-accepted.json")).unwrap();
    let event = serde_json::from_value::<steward_eventbridge::Envelope>(sample).unwrap().into_event().unwrap();
    let events: Vec<_> = (0..12).map(|_| event.clone()).collect();
    bus.publish_batch(&events).await.unwrap();
    let mut received = Vec::new();
    for _ in 0..5 {
        received.extend(receive(&sqs, &queue_url).await);
        if received.len() >= 12 {
            break;
        }
    }
    assert_eq!(received.len(), 12, "12 events in two PutEvents calls");
    assert!(received.iter().all(|e| e["source"] == "steward" && e["detail"]["user_name"] == "Ana"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_flows_from_the_gateway_daemon_through_eventbridge_to_the_worker() {
    use steward_config::Config;
    use steward_daemon::gateway::forward::{SPOOL_LIMIT_BYTES, Spooled};
    use steward_daemon::gateway::metrics::Metrics;
    use steward_daemon::gateway::{self, Gateway};
    use steward_domain::respond::RespondOutcome;
    use steward_tests::{FakeGateway, MessageSpec, message_create};

    require_emulator();
    let aws = aws_config::load_from_env().await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let table = format!("steward-gw-{suffix}");
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, &table));
    create_table(store.client(), &table).await.unwrap();
    let name = format!("steward-gw-{suffix}");
    let events = aws_sdk_eventbridge::Client::new(&aws);
    let sqs = aws_sdk_sqs::Client::new(&aws);
    events.create_event_bus().name(&name).send().await.unwrap();
    let queue_url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let pattern = json!({"source": ["steward"], "detail-type": ["discord.message"]}).to_string();
    events.put_rule().name("messages").event_bus_name(&name).event_pattern(pattern).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("capture").arn(arn).build().unwrap();
    events.put_targets().rule("messages").event_bus_name(&name).targets(target).send().await.unwrap();
    let (doc, chunks) =
        NewDocument { title: "Billing".into(), source: None, body: "# Refunds\nRefunds take 14 days.".into() }
            .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
            .unwrap();
    store.put_document(KbScope::Global, &doc, &chunks).await.unwrap();

    // GIVEN the AWS-mode daemon: settings from DynamoDB, events to EventBridge via the spool
    let discord = FakeDiscord::start().await;
    let fake_gateway = FakeGateway::start().await;
    discord.set_gateway_url(&fake_gateway.url);
    let state = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::default());
    let spool = Spooled::new(
        Arc::new(EventBridgeBus::from_sdk_config(&aws, &name)),
        &state.path().join("spool"),
        SPOOL_LIMIT_BYTES,
        metrics.clone(),
    )
    .unwrap();
    let state_dir = state.path().display().to_string();
    let env = [
        ("DISCORD_BOT_TOKEN", "fake-bot-token"),
        ("DISCORD_APPLICATION_ID", &APP_ID.to_string()),
        ("DISCORD_API_BASE", &discord.base),
        ("DISCORD_GATEWAY_URL", &fake_gateway.url),
        ("STEWARD_DATA_DIR", &state_dir),
    ]
    .map(|(k, v)| (k, v.to_owned()));
    let config = Config::from_lookup(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())).unwrap();
    let (options, shared) =
        Gateway::from_config(&config, store.clone(), Arc::new(spool), metrics, Arc::new(SystemClock)).unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let daemon = tokio::spawn(gateway::run(options, shared, stop_rx));
    assert!(fake_gateway.wait_until(Duration::from_secs(10), |g| g.identifies() == 1).await);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // WHEN a member mentions the bot
    fake_gateway.message(message_create(MessageSpec {
        id: 4242,
        content: "how long do refunds take?",
        mentions_bot: true,
        ..MessageSpec::default()
    }));

    // THEN a discord.message event reaches the bus
    let mut delivered = Vec::new();
    for _ in 0..5 {
        delivered.extend(receive(&sqs, &queue_url).await);
        if !delivered.is_empty() {
            break;
        }
    }
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["detail-type"], "discord.message");
    assert_eq!(delivered[0]["detail"]["message_id"], "4242");

    // AND the worker Lambda's handler answers it in the channel
    let worker = worker(&store, &FakeLlm::start().await.base, &discord.base, Arc::new(SystemClock));
    let handled = steward_worker::handle(&worker, delivered[0].clone()).await.unwrap();
    assert_eq!(handled, Some(Handled::Message(RespondOutcome::Answered { parts: 1 })));
    let posts = discord.requests_to("/channels/1210000000000000000/messages");
    assert_eq!(posts.len(), 1);
    assert!(posts[0].body["content"].as_str().unwrap().contains("14 days"));
    assert_eq!(posts[0].body["message_reference"]["message_id"], "4242");

    let _ = stop.send(true);
    assert_eq!(daemon.await.unwrap().unwrap(), gateway::Exit::Shutdown);
}

/// The worker Lambda's composition over DynamoDB, the fake LLM and the fake Discord.
fn worker(store: &Arc<DynamoStore>, llm_base: &str, discord_base: &str, clock: Arc<dyn Clock>) -> Worker {
    let mut openai = OpenAiConfig::new(llm_base.to_owned(), "fake-model");
    openai.timeout = Duration::from_secs(5);
    let rest = TwilightRest::new(&RestConfig::bot(discord_base, Some("fake-bot-token".to_owned().into()))).unwrap();
    let search = Arc::new(TantivySearch::new(store.clone()));
    let ports = Ports::with_store(store, search, Arc::new(OpenAiChat::new(openai).unwrap()), Arc::new(rest), clock);
    Worker::new(&ports, AnswerConfig::default())
}

#[tokio::test]
async fn moderation_in_ask_only_mode_acts_once_per_eventbridge_delivery_with_cases_in_dynamodb() {
    use steward_domain::ids::{GuildId, RoleId, UserId};
    use steward_domain::moderation::hierarchy::{GuildRoles, Permissions, Role};
    use steward_domain::ports::{CaseStore, SettingsStore};
    use steward_domain::settings::{GuildSettings, ResponseMode};

    require_emulator();
    let aws = aws_config::load_from_env().await;
    let table = format!("steward-mod-{}", uuid::Uuid::new_v4().simple());
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, &table));
    create_table(store.client(), &table).await.unwrap();
    let guild = GuildId::new(1_200_000_000_000_000_000).unwrap();
    let bot = UserId::new(1_300_000_000_000_000_001).unwrap();

    // GIVEN moderation in /ask-only mode, in DynamoDB, and a guild where the bot can moderate
    let mut settings = GuildSettings { response_mode: ResponseMode::AskOnly, ..GuildSettings::default() };
    settings.moderation.enabled = true;
    settings.moderation.rules = "No spam.".into();
    store.put_settings(guild, &settings).await.unwrap();
    let discord = FakeDiscord::start().await;
    let role = RoleId::new(77).unwrap();
    let everyone = RoleId::new(guild.get()).unwrap();
    discord.set_guild(&GuildRoles {
        guild,
        owner: UserId::new(5).unwrap(),
        roles: vec![
            Role { id: everyone, position: 0, permissions: Permissions::SEND_MESSAGES },
            Role {
                id: role,
                position: 3,
                permissions: Permissions(Permissions::MANAGE_MESSAGES.0 | Permissions::SEND_MESSAGES.0),
            },
        ],
    });
    discord.set_member_roles(bot, &[role]);
    let worker = worker(&store, &FakeLlm::start().await.base, &discord.base, Arc::new(SystemClock));

    // WHEN EventBridge delivers a member's spam, and then delivers it again
    let envelope = json!({
        "version": "0", "id": "e1", "detail-type": "discord.message", "source": "steward",
        "account": "000000000000", "time": "2026-11-21T12:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {
            "message_id": "7001", "application_id": APP_ID.to_string(), "bot_user_id": bot.to_string(),
            "guild_id": guild.to_string(), "channel_id": "1210000000000000000", "author_id": "1220000000000000000",
            "author_name": "ana", "content": "cheap followers at followers.example", "mentions_bot": false,
            "replies_to_bot": false, "sent_at": 1_795_000_000_000_i64, "author_roles": [], "channel_name": "general"
        }
    });
    let first = steward_worker::handle(&worker, envelope.clone()).await.unwrap().unwrap();
    let again = steward_worker::handle(&worker, envelope).await.unwrap().unwrap();

    // THEN the message is deleted once, the case is in DynamoDB, and the redelivery does nothing
    assert!(matches!(first, Handled::Moderated(ref m) if m.deleted()), "{first:?}");
    assert!(matches!(again, Handled::Message(_) | Handled::Moderated(_)));
    let deletes: Vec<_> =
        discord.requests().into_iter().filter(|r| r.method == "DELETE" && r.path.ends_with("/messages/7001")).collect();
    assert_eq!(deletes.len(), 1);
    let cases = store.cases(guild, None, 10, Timestamp::from_secs(1_795_000_000)).await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].body.content, "cheap followers at followers.example");
    let used = store.used(guild, Month::containing(SystemClock.now())).await.unwrap();
    assert_eq!(used, 1, "one AI check");
}
