//! The sample events in `events/` replayed through the same conversion the Lambda runtime uses
//! (API Gateway HTTP API v2 → `http::Request`) into the interactions router.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use http_body_util::BodyExt;
use serde_json::{Value, json};
use steward_domain::ask::AskIntake;
use steward_domain::clock::Timestamp;
use steward_domain::events::Event;
use steward_domain::ids::ApplicationId;
use steward_domain::testing::{ManualClock, MemoryStore, RecordingBus};
use steward_http::{InteractionsState, Verifier, interactions_router};
use tower::ServiceExt;

/// The public half of the fixed test key in `events/fixture-key.txt`.
const FIXTURE_PUBLIC_KEY: &str = "51b1fd5fd3e9fd210bdcf45b7b1c6e75ab945b238e038600b49024a103af13a3";
const FIXTURE_APP: u64 = 1_300_000_000_000_000_000;
const FIXTURE_TIMESTAMP: i64 = 1_795_300_000;

async fn replay(event: &str, clock_secs: i64) -> (u16, Value, RecordingBus) {
    let verifier = Verifier::from_hex([(ApplicationId::new(FIXTURE_APP).unwrap(), FIXTURE_PUBLIC_KEY)]).unwrap();
    let store = MemoryStore::default();
    let bus = RecordingBus::default();
    let clock = Arc::new(ManualClock::at(Timestamp::from_secs(clock_secs)));
    let intake = AskIntake::new(Arc::new(store.clone()), Arc::new(store), Arc::new(bus.clone()), clock.clone());
    let router = interactions_router(InteractionsState { verifier: Arc::new(verifier), intake, clock });
    let request = lambda_http::request::from_str(event).unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null), bus)
}

#[tokio::test]
async fn the_sample_ping_gets_pong() {
    let (status, body, _) = replay(include_str!("../../events/apigw-ping.json"), FIXTURE_TIMESTAMP).await;
    assert_eq!((status, body), (200, json!({"type": 1})));
}

#[tokio::test]
async fn the_sample_ask_is_deferred_and_becomes_the_sample_event() {
    let (status, body, bus) = replay(include_str!("../../events/apigw-ask.json"), FIXTURE_TIMESTAMP + 1).await;
    assert_eq!((status, body), (200, json!({"type": 5})));
    let events = bus.events();
    let [Event::AskAccepted(published)] = events.as_slice() else { panic!("{events:?}") };
    // The worker's sample event (events/ask-accepted.json) is exactly what this request publishes.
    let sample: Value = serde_json::from_str(include_str!("../../events/ask-accepted.json")).unwrap();
    let mut expected: steward_domain::events::AskAccepted = serde_json::from_value(sample["detail"].clone()).unwrap();
    expected.accepted_at = published.accepted_at;
    assert_eq!(published, &expected);
}

#[tokio::test]
async fn the_samples_are_refused_once_their_timestamp_is_stale() {
    let (status, _, bus) = replay(include_str!("../../events/apigw-ask.json"), FIXTURE_TIMESTAMP + 301).await;
    assert_eq!(status, 401);
    assert!(bus.events().is_empty());
}
