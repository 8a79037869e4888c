//! Creating the table, for tests against a local emulator and for `steward` dev setups.
//! In AWS the table comes from `template.yaml`; keep the two definitions identical.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};
use steward_domain::ports::{StoreError, StoreErrorKind};

use crate::error::sdk_error;

/// Creates Steward's table (`PK`/`SK` strings, on-demand billing, TTL on `expires_at`).
///
/// # Errors
/// Returns the SDK's error, e.g. when the table already exists.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    const OP: &str = "create table";
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| StoreError::new(StoreErrorKind::Other, OP, e))
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::new(StoreErrorKind::Other, OP, e))
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("PK")?)
        .attribute_definitions(attribute("SK")?)
        .key_schema(key("PK", KeyType::Hash)?)
        .key_schema(key("SK", KeyType::Range)?)
        .send()
        .await
        .map_err(sdk_error(OP))?;
    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name("expires_at")
        .build()
        .map_err(|e| StoreError::new(StoreErrorKind::Other, OP, e))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(sdk_error(OP))?;
    Ok(())
}
