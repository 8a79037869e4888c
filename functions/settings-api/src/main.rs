//! Lambda: the settings API behind the admin token, plus `/healthz`.

use std::sync::Arc;

use steward_config::Config;
use steward_domain::clock::SystemClock;
use steward_dynamodb::DynamoStore;
use steward_http::{SettingsApiState, health_router, settings_router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let admin_token = config.require_admin_token()?.clone();
    let aws = aws_config::load_from_env().await;
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, config.require_table()?));
    let embedder = steward_openai::embedder_from_config(config.embeddings.as_ref())?;
    let state = SettingsApiState {
        settings: store.clone(),
        knowledge: store.clone(),
        embedder,
        moderation: None,
        usage: store.clone(),
        gaps: store,
        clock: Arc::new(SystemClock),
        admin_token: Some(Arc::new(admin_token)),
    };
    lambda_http::run(axum::Router::new().merge(health_router()).merge(settings_router(state))).await
}
