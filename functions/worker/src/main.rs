//! Lambda: EventBridge events → the worker (answers `/ask`).

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use steward_config::Config;
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::ask::AskConfig;
use steward_domain::clock::SystemClock;
use steward_domain::respond::RespondPorts;
use steward_domain::worker::Worker;
use steward_dynamodb::DynamoStore;
use steward_search::TantivySearch;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, Config::require(&config.table, "STEWARD_TABLE")?));
    let discord = TwilightRest::new(&RestConfig {
        bot_token: config.discord.bot_token.clone(),
        ..RestConfig::new(config.discord.api_base.clone())
    })?;
    store.warm_up().await;
    let ports = RespondPorts {
        settings: store.clone(),
        usage: store.clone(),
        conversations: store.clone(),
        history: store.clone(),
        claims: store.clone(),
        search: Arc::new(TantivySearch::new(store)),
        model: steward_openai::model_from_config(&config.llm)?,
        discord: Arc::new(discord),
        clock: Arc::new(SystemClock),
    };
    let worker = &Worker::from_ports(ports, AskConfig::default());
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        steward_worker::handle(worker, event.payload).await.map(|_| ()).map_err(lambda_runtime::Error::from)
    }))
    .await
}
