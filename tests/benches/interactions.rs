//! Benchmarks of the `/ask` edge: Ed25519 verification, and the interactions router handling a
//! signed `/ask` in-process with the embedded store (criterion, then p50/p99 over 5,000 calls).
//!
//! `cargo bench -p steward-tests --bench interactions`

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group};
use steward_domain::ask::AskIntake;
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::events::Event;
use steward_domain::ids::ApplicationId;
use steward_domain::ports::{BusError, EventBus};
use steward_embedded::SqliteStore;
use steward_http::{InteractionsState, Verifier, interactions_router};
use steward_tests::signer::now_secs;
use steward_tests::spawn::APP_ID;
use steward_tests::{Signer, ask_body};
use tower::ServiceExt;

/// A bus that accepts and forgets, so the bench measures the edge, not a queue.
#[derive(Debug)]
struct DiscardBus;

#[async_trait]
impl EventBus for DiscardBus {
    async fn publish(&self, _: &Event) -> Result<(), BusError> {
        Ok(())
    }
}

fn setup() -> (Router, Signer, Verifier, tempfile::TempDir) {
    let signer = Signer::default();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_in(dir.path()).unwrap());
    let verifier = Verifier::from_hex([(ApplicationId::new(APP_ID).unwrap(), signer.public_hex().as_str())]).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let intake = AskIntake::new(store.clone(), store, Arc::new(DiscardBus), clock.clone());
    let router = interactions_router(InteractionsState { verifier: Arc::new(verifier.clone()), intake, clock });
    (router, signer, verifier, dir)
}

fn sample_body() -> String {
    ask_body(
        1,
        1_200_000_000_000_000_000,
        1_210_000_000_000_000_000,
        1_220_000_000_000_000_000,
        "How long do refunds take?",
    )
}

fn signed_request(signer: &Signer, body: &str) -> Request<Body> {
    let timestamp = now_secs().to_string();
    Request::post("/discord/webhook")
        .header("x-signature-timestamp", &timestamp)
        .header("x-signature-ed25519", signer.sign(&timestamp, body))
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (router, signer, verifier, _dir) = setup();
    let body = sample_body();
    let timestamp = now_secs().to_string();
    let signature = signer.sign(&timestamp, &body);
    let app = Some(ApplicationId::new(APP_ID).unwrap());

    c.bench_function("verify_ed25519", |b| {
        b.iter(|| {
            verifier.verify(app, Some(&signature), Some(&timestamp), body.as_bytes(), SystemClock.now()).unwrap()
        });
    });
    c.bench_function("router_signed_ask_embedded_store", |b| {
        b.to_async(&runtime).iter(|| {
            let request = signed_request(&signer, &body);
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await.unwrap();
                assert_eq!(response.status(), 200);
            }
        });
    });
}

/// p50/p99 of the router over 5,000 sequential signed `/ask` requests (signing excluded).
fn latency_percentiles() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (router, signer, _verifier, _dir) = setup();
    let body = sample_body();
    let requests: Vec<_> = (0..5_500).map(|_| signed_request(&signer, &body)).collect();
    let mut samples: Vec<Duration> = runtime.block_on(async {
        let mut samples = Vec::with_capacity(requests.len());
        for request in requests {
            let started = Instant::now();
            let response = router.clone().oneshot(request).await.unwrap();
            samples.push(started.elapsed());
            assert_eq!(response.status(), 200);
        }
        samples
    });
    samples.drain(..500); // warm-up
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "router_signed_ask_embedded_store latency over {} requests: p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        at(0.50),
        at(0.99),
        samples[samples.len() - 1]
    );
}

criterion_group!(group, benches);

fn main() {
    group();
    latency_percentiles();
    Criterion::default().configure_from_args().final_summary();
}
