//! Lambda: Discord's interactions endpoint. Verifies, answers PING, defers `/ask` onto the bus.

use std::sync::Arc;

use steward_config::Config;
use steward_domain::ask::AskIntake;
use steward_domain::clock::SystemClock;
use steward_dynamodb::DynamoStore;
use steward_eventbridge::EventBridgeBus;
use steward_http::{InteractionsState, Verifier, interactions_router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let app = *Config::require(&config.discord.application_id, "DISCORD_APPLICATION_ID")?;
    let public_key = Config::require(&config.discord.public_key, "DISCORD_PUBLIC_KEY")?;
    let verifier = Verifier::from_hex([(app, public_key.as_str())])?;
    let aws = aws_config::load_from_env().await;
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, Config::require(&config.table, "STEWARD_TABLE")?));
    let bus = EventBridgeBus::from_sdk_config(&aws, Config::require(&config.event_bus, "STEWARD_EVENT_BUS")?);
    store.warm_up().await;
    let clock = Arc::new(SystemClock);
    let intake = AskIntake::new(store.clone(), store, Arc::new(bus), clock.clone());
    lambda_http::run(interactions_router(InteractionsState { verifier: Arc::new(verifier), intake, clock })).await
}
