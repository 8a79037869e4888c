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
    let verifier =
        Verifier::from_hex([(config.discord.require_application_id()?, config.discord.require_public_key()?)])?;
    let aws = aws_config::load_from_env().await;
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, config.require_table()?));
    let bus = EventBridgeBus::from_sdk_config(&aws, config.require_event_bus()?);
    store.warm_up().await;
    let clock = Arc::new(SystemClock);
    let intake = AskIntake::new(store.clone(), store, Arc::new(bus), clock.clone());
    lambda_http::run(interactions_router(InteractionsState { verifier: Arc::new(verifier), intake, clock })).await
}
