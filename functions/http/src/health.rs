//! `GET /healthz`: liveness for load balancers, systemd and humans.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

/// The health route.
pub fn health_router() -> Router {
    Router::new().route("/healthz", get(health))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
