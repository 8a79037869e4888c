//! The routers in-process with `oneshot`: signatures, PING, `/ask` intake, and the settings API.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use steward_domain::ask::AskIntake;
use steward_domain::clock::Timestamp;
use steward_domain::events::Event;
use steward_domain::ids::ApplicationId;
use steward_domain::ids::UserId;
use steward_domain::moderation::admin::{Deployment, ModerationAdmin};
use steward_domain::testing::{FAKE_BOT, Fakes, ManualClock, MemoryStore, RecordingBus, WordEmbedder};
use steward_http::{InteractionsState, SettingsApiState, Verifier, interactions_router, settings_router};
use tower::ServiceExt;

const NOW: i64 = 1_795_000_000;
const APP: u64 = 111;

struct Fixture {
    router: Router,
    key: SigningKey,
    bus: RecordingBus,
}

fn fixture() -> Fixture {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let public = hex::encode(key.verifying_key().to_bytes());
    let verifier = Verifier::from_hex([(ApplicationId::new(APP).unwrap(), public.as_str())]).unwrap();
    let store = MemoryStore::default();
    let bus = RecordingBus::default();
    let clock = Arc::new(ManualClock::at(Timestamp::from_secs(NOW)));
    let intake = AskIntake::new(Arc::new(store.clone()), Arc::new(store), Arc::new(bus.clone()), clock.clone());
    let router = interactions_router(InteractionsState { verifier: Arc::new(verifier), intake, clock });
    Fixture { router, key, bus }
}

fn signed(key: &SigningKey, timestamp: &str, body: &str) -> Request<Body> {
    let signature = key.sign(format!("{timestamp}{body}").as_bytes());
    Request::post("/discord/webhook")
        .header("content-type", "application/json")
        .header("x-signature-ed25519", hex::encode(signature.to_bytes()))
        .header("x-signature-timestamp", timestamp)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn ping() -> String {
    json!({"type": 1, "id": "1", "application_id": APP.to_string(), "token": "t", "version": 1}).to_string()
}

fn ask(question: &str) -> String {
    json!({
        "type": 2, "id": "900", "application_id": APP.to_string(), "token": "tok", "version": 1,
        "guild_id": "10", "channel_id": "20", "locale": "en-US",
        "member": {"user": {"id": "30", "username": "ana"}, "nick": null},
        "data": {"id": "5", "name": "ask", "type": 1, "options": [{"name": "question", "type": 3, "value": question}]}
    })
    .to_string()
}

#[tokio::test]
async fn ping_gets_pong() {
    let f = fixture();
    let (status, body) = send(&f.router, signed(&f.key, &NOW.to_string(), &ping())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"type": 1}));
}

#[tokio::test]
async fn the_trailing_slash_url_works_too() {
    let f = fixture();
    let mut request = signed(&f.key, &NOW.to_string(), &ping());
    *request.uri_mut() = "/discord/webhook/".parse().unwrap();
    assert_eq!(send(&f.router, request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn ask_is_deferred_and_published() {
    let f = fixture();
    let (status, body) = send(&f.router, signed(&f.key, &NOW.to_string(), &ask("how do refunds work?"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"type": 5}));
    let events = f.bus.events();
    let [Event::AskAccepted(event)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(event.question, "how do refunds work?");
    assert_eq!(event.user_name, "ana");
    assert_eq!(event.token.expose(), "tok");
}

#[tokio::test]
async fn an_empty_question_is_answered_ephemerally_without_an_event() {
    let f = fixture();
    let (status, body) = send(&f.router, signed(&f.key, &NOW.to_string(), &ask("   "))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["flags"], 64);
    assert_eq!(body["data"]["allowed_mentions"], json!({"parse": []}));
    assert!(f.bus.events().is_empty());
}

#[tokio::test]
async fn every_signature_failure_is_401_and_nothing_happens() {
    let f = fixture();
    let other = SigningKey::from_bytes(&[7; 32]);
    let now = NOW.to_string();
    let body = ask("hello");
    let mut cases: Vec<(&str, Request<Body>)> = Vec::new();

    let mut missing = signed(&f.key, &now, &body);
    missing.headers_mut().remove("x-signature-ed25519");
    cases.push(("missing signature", missing));
    let mut missing_ts = signed(&f.key, &now, &body);
    missing_ts.headers_mut().remove("x-signature-timestamp");
    cases.push(("missing timestamp", missing_ts));
    let mut short = signed(&f.key, &now, &body);
    short.headers_mut().insert("x-signature-ed25519", "abcd".parse().unwrap());
    cases.push(("short signature", short));
    let mut non_hex = signed(&f.key, &now, &body);
    non_hex.headers_mut().insert("x-signature-ed25519", "z".repeat(128).parse().unwrap());
    cases.push(("non-hex signature", non_hex));
    cases.push(("wrong key", signed(&other, &now, &body)));
    let good = signed(&f.key, &now, &body);
    let (parts, _) = good.into_parts();
    cases.push(("changed body", Request::from_parts(parts, Body::from(ask("hellO")))));
    cases.push(("stale timestamp", signed(&f.key, &(NOW - 301).to_string(), &body)));
    cases.push(("future timestamp", signed(&f.key, &(NOW + 301).to_string(), &body)));
    cases.push(("non-numeric timestamp", signed(&f.key, "yesterday", &body)));
    let foreign = body.replace(&format!("\"{APP}\""), "\"222\"");
    cases.push(("unknown application", signed(&f.key, &now, &foreign)));
    cases.push(("not json", signed(&f.key, &now, "not json")));

    for (name, request) in cases {
        let response = f.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    assert!(f.bus.events().is_empty(), "a refused request published something");
    // Within the window both ways is fine.
    let ok = send(&f.router, signed(&f.key, &(NOW - 299).to_string(), &ping())).await.0;
    assert_eq!(ok, StatusCode::OK);
}

#[tokio::test]
async fn a_signed_but_unreadable_interaction_is_400() {
    let f = fixture();
    let body = json!({"application_id": APP.to_string(), "type": "weird"}).to_string();
    assert_eq!(send(&f.router, signed(&f.key, &NOW.to_string(), &body)).await.0, StatusCode::BAD_REQUEST);
}

fn api(token: Option<&str>) -> (Router, MemoryStore) {
    api_with(token, None)
}

fn api_with(token: Option<&str>, embedder: Option<WordEmbedder>) -> (Router, MemoryStore) {
    let (router, fakes) = api_with_fakes(token, embedder);
    (router, fakes.store)
}

/// The settings API over the domain's fakes, moderation included.
fn api_with_fakes(token: Option<&str>, embedder: Option<WordEmbedder>) -> (Router, Fakes) {
    let fakes = Fakes::default();
    let store = fakes.store.clone();
    let moderation = ModerationAdmin {
        cases: Arc::new(store.clone()),
        usage: Arc::new(store.clone()),
        rest: Arc::new(fakes.discord.clone()),
        model: Arc::new(fakes.model.clone()),
        bot: Some(UserId::new(FAKE_BOT).unwrap()),
        clock: fakes.clock.clone(),
        deployment: Deployment { gateway_running: Some(true), message_content_intent: None },
    };
    let state = SettingsApiState {
        moderation: Some(moderation),
        settings: Arc::new(store.clone()),
        knowledge: Arc::new(store.clone()),
        embedder: embedder.map(|e| Arc::new(e) as Arc<dyn steward_domain::ports::Embedder>),
        usage: Arc::new(store.clone()),
        gaps: Arc::new(store.clone()),
        clock: Arc::new(ManualClock::at(Timestamp::from_secs(NOW))),
        admin_token: token.map(|t| Arc::new(t.to_owned().into())),
    };
    (settings_router(state), fakes)
}

fn call(method: &str, uri: &str, body: Option<Value>) -> Request<Body> {
    let builder = Request::builder().method(method).uri(uri).header("authorization", "Bearer s3cret");
    match body {
        Some(body) => builder.header("content-type", "application/json").body(Body::from(body.to_string())).unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

#[tokio::test]
async fn the_api_requires_the_admin_token() {
    let (router, _) = api(Some("s3cret"));
    let anonymous = Request::get("/api/guilds/10/settings").body(Body::empty()).unwrap();
    assert_eq!(send(&router, anonymous).await.0, StatusCode::UNAUTHORIZED);
    let wrong =
        Request::get("/api/guilds/10/settings").header("authorization", "Bearer nope").body(Body::empty()).unwrap();
    assert_eq!(send(&router, wrong).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&router, call("GET", "/api/guilds/10/settings", None)).await.0, StatusCode::OK);
    let (disabled, _) = api(None);
    assert_eq!(send(&disabled, call("GET", "/api/guilds/10/settings", None)).await.0, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn settings_default_patch_and_name_bad_fields() {
    let (router, _) = api(Some("s3cret"));
    let (status, body) = send(&router, call("GET", "/api/guilds/10/settings", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response_mode"], "mention");
    assert_eq!(body["moderation"]["enabled"], false);

    let patch = json!({"response_mode": "all_messages", "smart_mode": false});
    let (status, body) = send(&router, call("PATCH", "/api/guilds/10/settings", Some(patch))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response_mode"], "all_messages");
    let (_, body) = send(&router, call("GET", "/api/guilds/10/settings", None)).await;
    assert_eq!(body["smart_mode"], false, "the patch was stored");

    let (status, body) =
        send(&router, call("PATCH", "/api/guilds/10/settings", Some(json!({"moderation": {"enabled": 3}})))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "moderation.enabled");
    let (status, body) = send(&router, call("PATCH", "/api/guilds/abc/settings", Some(json!({})))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "guild");
    let raw = Request::patch("/api/guilds/10/settings")
        .header("authorization", "Bearer s3cret")
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_eq!(send(&router, raw).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn knowledge_documents_can_be_added_listed_and_deleted() {
    let (router, _) = api(Some("s3cret"));
    let doc = json!({"title": "FAQ", "source": "faq.md", "body": "# Refunds\nWithin 14 days."});
    let (status, created) = send(&router, call("POST", "/api/knowledge/10/documents", Some(doc))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["chunks"], 1);
    let (_, listed) = send(&router, call("GET", "/api/knowledge/10/documents", None)).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, global) = send(&router, call("GET", "/api/knowledge/global/documents", None)).await;
    assert_eq!(global, json!([]));

    let (status, body) = send(&router, call("POST", "/api/knowledge/10/documents", Some(json!({"title": "x"})))).await;
    assert_eq!((status, body["field"].clone()), (StatusCode::BAD_REQUEST, json!("body")));
    let (status, body) =
        send(&router, call("POST", "/api/knowledge/10/documents", Some(json!({"title": "", "body": "b"})))).await;
    assert_eq!((status, body["field"].clone()), (StatusCode::BAD_REQUEST, json!("title")));

    let id = created["id"].as_str().unwrap();
    let path = format!("/api/knowledge/10/documents/{id}");
    assert_eq!(send(&router, call("DELETE", &path, None)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(send(&router, call("DELETE", &path, None)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn added_documents_get_vectors_and_replace_their_source_and_a_failing_model_is_a_502() {
    use steward_domain::knowledge::KbScope;
    use steward_domain::ports::KnowledgeStore;
    let embedder = WordEmbedder::default();
    let (router, store) = api_with(Some("s3cret"), Some(embedder.clone()));
    let doc = |body: &str| json!({"title": "FAQ", "source": "faq.md", "body": body});
    let (status, _) =
        send(&router, call("POST", "/api/knowledge/global/documents", Some(doc("Within 14 days.")))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) =
        send(&router, call("POST", "/api/knowledge/global/documents", Some(doc("Within 30 days.")))).await;
    assert_eq!(status, StatusCode::CREATED);
    let chunks = store.chunks(KbScope::Global).await.unwrap();
    assert_eq!(chunks.len(), 1, "the same source replaces its document");
    assert_eq!(chunks[0].text, "Within 30 days.");
    assert!(chunks[0].embedding.is_some());

    embedder.fail(true);
    let (status, body) = send(&router, call("POST", "/api/knowledge/global/documents", Some(doc("New.")))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body["error"].as_str().unwrap().contains("EMBEDDINGS_MODEL"), "{body}");
    assert_eq!(store.chunks(KbScope::Global).await.unwrap()[0].text, "Within 30 days.", "nothing is lost");
}

#[tokio::test]
async fn usage_reports_the_plan_and_month() {
    let (router, store) = api(Some("s3cret"));
    use steward_domain::ports::UsageStore;
    let guild = "10".parse().unwrap();
    let month = steward_domain::quota::Month::containing(Timestamp::from_secs(NOW));
    store.reserve(guild, month, 10).await.unwrap();
    let (status, body) = send(&router, call("GET", "/api/guilds/10/usage", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"month": month.to_string(), "used": 1, "limit": 2500, "plan": "starter"}));
}

#[tokio::test]
async fn knowledge_gaps_need_the_admin_token() {
    let (router, _) = api(Some("s3cret"));
    let anonymous = Request::get("/api/guilds/10/knowledge/gaps").body(Body::empty()).unwrap();
    assert_eq!(send(&router, anonymous).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn knowledge_gaps_list_the_most_asked_first() {
    use steward_domain::ports::GapStore;
    // GIVEN a question asked twice, another asked once, and one in another guild
    let (router, store) = api(Some("s3cret"));
    let (guild, other) = ("10".parse().unwrap(), "11".parse().unwrap());
    let at = |secs_ago: i64| Timestamp::from_secs(NOW - secs_ago);
    let keep = Timestamp::from_secs(NOW + 86_400);
    store.record_gap(guild, "password reset", "How do I reset my password?", at(120), keep).await.unwrap();
    store.record_gap(guild, "billing", "Where is billing?", at(60), keep).await.unwrap();
    store.record_gap(guild, "password reset", "reset password?", at(30), keep).await.unwrap();
    store.record_gap(other, "elsewhere", "Elsewhere?", at(10), keep).await.unwrap();

    // WHEN an operator lists the guild's gaps
    let (status, body) = send(&router, call("GET", "/api/guilds/10/knowledge/gaps", None)).await;

    // THEN they come most asked first, with RFC 3339 times, and only this guild's
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!([
            {"question": "reset password?", "count": 2, "last_asked_at": "2026-11-18T11:06:10Z"},
            {"question": "Where is billing?", "count": 1, "last_asked_at": "2026-11-18T11:05:40Z"},
        ])
    );
    let (status, body) = send(&router, call("GET", "/api/guilds/10/knowledge/gaps?limit=1", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 1, "`limit` caps the list");
    assert_eq!(body[0]["question"], "reset password?");
    let (_, body) = send(&router, call("GET", "/api/guilds/12/knowledge/gaps", None)).await;
    assert_eq!(body, json!([]), "a guild with no gaps gets an empty array");
}

#[tokio::test]
async fn a_bad_gaps_limit_is_400_naming_the_field() {
    let (router, _) = api(Some("s3cret"));
    for bad in ["0", "101", "ten", "-1", ""] {
        let uri = format!("/api/guilds/10/knowledge/gaps?limit={bad}");
        let (status, body) = send(&router, call("GET", &uri, None)).await;
        assert_eq!((status, body["field"].clone()), (StatusCode::BAD_REQUEST, json!("limit")), "limit={bad}");
    }
    let (status, _) = send(&router, call("GET", "/api/guilds/10/knowledge/gaps?limit=100", None)).await;
    assert_eq!(status, StatusCode::OK, "100 is allowed");
    let (status, body) = send(&router, call("GET", "/api/guilds/abc/knowledge/gaps", None)).await;
    assert_eq!((status, body["field"].clone()), (StatusCode::BAD_REQUEST, json!("guild")));
}

mod moderation {
    use steward_domain::events::ChannelMessage;
    use steward_domain::ids::{ApplicationId, ChannelId, GuildId, MessageId};
    use steward_domain::moderation::{ModerationPorts, Moderator};
    use steward_domain::settings::GuildSettings;
    use steward_domain::testing::violation;

    use super::*;

    const GUILD: u64 = 10;

    /// Moderates `count` spam messages through the fakes behind the API, banning on severe.
    async fn cases(fakes: &Fakes, count: u64) {
        fakes.discord.standard_guild(GuildId::new(GUILD).unwrap());
        let moderator = Moderator::new(ModerationPorts {
            usage: Arc::new(fakes.store.clone()),
            cases: Arc::new(fakes.store.clone()),
            claims: Arc::new(fakes.store.clone()),
            model: Arc::new(fakes.model.clone()),
            discord: Arc::new(fakes.discord.clone()),
            rest: Arc::new(fakes.discord.clone()),
            clock: fakes.clock.clone(),
        });
        let mut settings = GuildSettings::default();
        settings.moderation.enabled = true;
        settings.moderation.rules = "No spam.".into();
        settings.moderation.actions.ban = true;
        for id in 1..=count {
            fakes.model.push_verdict(Ok(violation(1, "cheap followers", "severe", 0.99)));
            let message = ChannelMessage {
                message_id: MessageId::new(id).unwrap(),
                application_id: ApplicationId::new(1).unwrap(),
                bot_user_id: UserId::new(FAKE_BOT).unwrap(),
                guild_id: GuildId::new(GUILD).unwrap(),
                channel_id: ChannelId::new(5).unwrap(),
                author_id: UserId::new(77).unwrap(),
                author_name: "x".into(),
                content: format!("cheap followers #{id}"),
                mentions_bot: false,
                replies_to_bot: false,
                sent_at: Timestamp::from_secs(NOW),
                author_roles: vec![],
                channel_name: None,
                parent_channel_id: None,
                attachments: 0,
                edited: false,
            };
            moderator.moderate(&message, &settings).await.unwrap();
        }
    }

    #[tokio::test]
    async fn the_log_lists_cases_newest_first_with_paging_and_one_by_id() {
        let (router, fakes) = api_with_fakes(Some("s3cret"), None);
        cases(&fakes, 3).await;
        let (status, log) = send(&router, call("GET", "/api/guilds/10/moderation/log", None)).await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<u64> = log.as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, [3, 2, 1]);
        let first = &log[2];
        assert_eq!(first["content"], "cheap followers #1");
        assert_eq!(first["source"], "ai");
        assert_eq!(first["rules"], json!([1]));
        assert_eq!(first["actions"][0], json!({"action": "delete", "status": "done", "detail": null}));
        let (_, page) = send(&router, call("GET", "/api/guilds/10/moderation/log?before=3&limit=1", None)).await;
        assert_eq!(page.as_array().unwrap().len(), 1);
        assert_eq!(page[0]["id"], 2);
        let (status, one) = send(&router, call("GET", "/api/guilds/10/moderation/log/2", None)).await;
        assert_eq!((status, one["id"].clone()), (StatusCode::OK, json!(2)));
        assert_eq!(send(&router, call("GET", "/api/guilds/10/moderation/log/9", None)).await.0, StatusCode::NOT_FOUND);
        let (status, body) = send(&router, call("GET", "/api/guilds/10/moderation/log?limit=0", None)).await;
        assert_eq!((status, body["field"].clone()), (StatusCode::BAD_REQUEST, json!("limit")));
    }

    #[tokio::test]
    async fn undo_unbans_once_then_answers_409() {
        let (router, fakes) = api_with_fakes(Some("s3cret"), None);
        cases(&fakes, 1).await;
        let (status, case) =
            send(&router, call("POST", "/api/guilds/10/moderation/log/1/undo", Some(json!({"note": "appeal ok"}))))
                .await;
        assert_eq!(status, StatusCode::OK, "{case}");
        assert_eq!(case["reversal"]["note"], "appeal ok");
        let (status, body) = send(&router, call("POST", "/api/guilds/10/moderation/log/1/undo", None)).await;
        assert_eq!((status, body), (StatusCode::CONFLICT, json!({"error": "already_reverted"})));
        let unbans = fakes
            .discord
            .calls()
            .iter()
            .filter(|c| matches!(c, steward_domain::testing::DiscordCall::Unban(..)))
            .count();
        assert_eq!(unbans, 1);
    }

    #[tokio::test]
    async fn the_sandbox_judges_samples_and_refuses_too_many() {
        let (router, fakes) = api_with_fakes(Some("s3cret"), None);
        fakes.model.push_verdict(Ok(violation(1, "cheap followers", "medium", 0.9)));
        let body = json!({"rules": "No spam.", "samples": [{"content": "cheap followers here"}, {"content": "hi"}]});
        let (status, out) = send(&router, call("POST", "/api/guilds/10/moderation/sandbox", Some(body))).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["results"][0]["violation"], true);
        assert_eq!(out["results"][0]["decision"], json!({"actions": ["delete", "warn"]}));
        assert_eq!(out["results"][1]["decision"], json!({"no_action": "clean"}));
        assert!(fakes.discord.calls().is_empty());
        let many: Vec<Value> = (0..51).map(|_| json!({"content": "x"})).collect();
        let (status, out) =
            send(&router, call("POST", "/api/guilds/10/moderation/sandbox", Some(json!({"samples": many})))).await;
        assert_eq!((status, out["field"].clone()), (StatusCode::BAD_REQUEST, json!("samples")));
    }

    #[tokio::test]
    async fn health_and_a_settings_patch_name_missing_permissions() {
        let (router, fakes) = api_with_fakes(Some("s3cret"), None);
        fakes.discord.standard_guild(GuildId::new(GUILD).unwrap());
        let (status, health) = send(&router, call("GET", "/api/guilds/10/moderation/health", None)).await;
        assert_eq!((status, health), (StatusCode::OK, json!({"ok": true, "problems": []})));
        // The standard guild's bot has every moderation permission; take BAN_MEMBERS away.
        let mut roles =
            steward_domain::ports::ModerationRest::guild_roles(&fakes.discord, GuildId::new(GUILD).unwrap())
                .await
                .unwrap();
        for role in &mut roles.roles {
            role.permissions.0 &= !steward_domain::moderation::hierarchy::Permissions::BAN_MEMBERS.0;
        }
        fakes.discord.set_guild(roles);
        let patch = json!({"moderation": {"enabled": true, "rules": "No spam.", "actions": {"ban": true}}});
        let (status, body) = send(&router, call("PATCH", "/api/guilds/10/settings", Some(patch))).await;
        assert_eq!(status, StatusCode::OK, "the settings are saved");
        assert_eq!(body["moderation"]["actions"]["ban"], true);
        let warnings = body["warnings"].as_array().unwrap();
        assert!(
            warnings.iter().any(|w| w["code"] == "missing_permission" && w["permission"] == "BAN_MEMBERS"),
            "{body}"
        );
        let (_, health) = send(&router, call("GET", "/api/guilds/10/moderation/health", None)).await;
        assert_eq!(health["ok"], false);
        let (status, _) =
            send(&router, call("PATCH", "/api/guilds/10/settings", Some(json!({"smart_mode": false})))).await;
        assert_eq!(status, StatusCode::OK);
        let (_, plain) = send(&router, call("GET", "/api/guilds/10/settings", None)).await;
        assert!(plain.get("warnings").is_none());
    }
}
