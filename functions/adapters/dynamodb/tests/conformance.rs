//! The store conformance suite against a real local DynamoDB emulator (moto server).
//!
//! The README's test command starts moto on a loopback port and exports `AWS_ENDPOINT_URL`.
//! Without it these tests fail loudly rather than skip.

#![allow(clippy::unwrap_used)]

use steward_domain::testing::conformance;
use steward_dynamodb::{DynamoStore, create_table};

async fn fresh_store() -> DynamoStore {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL must point at a local DynamoDB emulator on loopback (got `{endpoint}`); \
         run the README's test command (infra/scripts/test.sh), which starts moto_server"
    );
    let table = format!("steward-test-{}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::from_env(&table).await;
    create_table(store.client(), &table).await.unwrap();
    store
}

#[tokio::test]
async fn settings() {
    conformance::settings_round_trip(&fresh_store().await).await;
}

#[tokio::test]
async fn knowledge() {
    conformance::knowledge_documents(&fresh_store().await).await;
}

#[tokio::test]
async fn knowledge_embeddings() {
    conformance::knowledge_embeddings(&fresh_store().await).await;
}

#[tokio::test]
async fn conversations() {
    conformance::conversation_turns(&fresh_store().await).await;
}

#[tokio::test]
async fn channel_history() {
    conformance::channel_history(&fresh_store().await).await;
}

#[tokio::test]
async fn usage() {
    conformance::usage_counts_and_stops_at_the_limit(&fresh_store().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_is_atomic() {
    conformance::usage_is_atomic_under_concurrency(&fresh_store().await).await;
}

#[tokio::test]
async fn claims() {
    conformance::claims_are_exclusive_until_expiry(&fresh_store().await).await;
}

#[tokio::test]
async fn completed_claims() {
    conformance::completed_claims_are_done_until_kept(&fresh_store().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_atomic() {
    conformance::claims_are_atomic_under_concurrency(&fresh_store().await).await;
}

#[tokio::test]
async fn gaps() {
    conformance::gaps_group_rewordings_and_rank(&fresh_store().await).await;
}

#[tokio::test]
async fn gaps_expire() {
    conformance::gaps_expire_unless_asked_again(&fresh_store().await).await;
}

#[tokio::test]
async fn gaps_with_very_long_keys() {
    conformance::gaps_with_very_long_keys_are_recorded(&fresh_store().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_are_atomic() {
    conformance::gaps_are_atomic_under_concurrency(&fresh_store().await).await;
}

#[tokio::test]
async fn cases() {
    conformance::cases_are_numbered_listed_and_updated(&fresh_store().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_are_atomic() {
    conformance::cases_are_numbered_atomically_under_concurrency(&fresh_store().await).await;
}

#[tokio::test]
async fn strikes() {
    conformance::strikes_count_within_the_window(&fresh_store().await).await;
}
