//! Lambda: the settings API behind the admin token, plus `/healthz`.

use std::sync::Arc;

use steward_config::Config;
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::clock::SystemClock;
use steward_domain::ids::UserId;
use steward_domain::moderation::admin::{Deployment, ModerationAdmin};
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
    let clock = Arc::new(SystemClock);
    // Undo, the sandbox and health need Discord and the model.
    let discord = TwilightRest::new(&RestConfig::bot(&config.discord.api_base, config.discord.bot_token.clone()))?;
    let moderation = ModerationAdmin {
        cases: store.clone(),
        usage: store.clone(),
        rest: Arc::new(discord),
        model: steward_openai::model_from_config(&config.llm)?,
        bot: config.discord.application_id.and_then(|app| UserId::new(app.get()).ok()),
        clock: clock.clone(),
        // The gateway daemon runs elsewhere; its own /healthz says whether it is connected.
        deployment: Deployment { gateway_running: None, message_content_intent: None },
    };
    let state = SettingsApiState {
        settings: store.clone(),
        knowledge: store.clone(),
        embedder,
        moderation: Some(moderation),
        usage: store.clone(),
        gaps: store,
        clock,
        admin_token: Some(Arc::new(admin_token)),
    };
    lambda_http::run(axum::Router::new().merge(health_router()).merge(settings_router(state))).await
}
