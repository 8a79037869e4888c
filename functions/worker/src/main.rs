//! Lambda: EventBridge events → the worker (answers `/ask` and forwarded channel messages).

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use steward_config::Config;
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::{clock::SystemClock, ports::Ports, worker::Worker};
use steward_dynamodb::DynamoStore;
use steward_search::TantivySearch;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let store = Arc::new(DynamoStore::from_sdk_config(&aws, config.require_table()?));
    store.warm_up().await;
    let discord = TwilightRest::new(&RestConfig::bot(&config.discord.api_base, config.discord.bot_token.clone()))?;
    let model = steward_openai::model_from_config(&config.llm)?;
    let mut search = TantivySearch::new(store.clone());
    if let Some(embedder) = steward_openai::embedder_from_config(config.embeddings.as_ref())? {
        search = search.with_embedder(embedder);
    }
    let ports = Ports::with_store(&store, Arc::new(search), model, Arc::new(discord), Arc::new(SystemClock));
    let worker = &Worker::new(&ports, config.answer_config());
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        steward_worker::handle(worker, event.payload).await.map(|_| ()).map_err(lambda_runtime::Error::from)
    }))
    .await
}
