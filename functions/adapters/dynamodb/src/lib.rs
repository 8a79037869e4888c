//! The DynamoDB store: every Steward store port over one table (`PK`, `SK`, TTL on `expires_at`).
//!
//! Item layout (attribute maps never leave this crate):
//!
//! | item | PK | SK |
//! |---|---|---|
//! | guild settings | `GUILD#{guild}` | `SETTINGS` |
//! | knowledge document | `KB#{scope}` | `DOC#{id}` |
//! | knowledge chunk | `KB#{scope}` | `CHUNK#{document}#{index:06}` |
//! | knowledge version | `KB#{scope}` | `VERSION` |
//! | conversation turn | `CONV#{guild}#{channel}#{user}` | `TURN#{millis:013}#{nonce}` |
//! | channel line | `CHAN#{guild}#{channel}` | `LINE#{millis:013}#{nonce}` |
//! | monthly usage | `USAGE#{guild}` | `MONTH#{yyyy-mm}` |
//! | idempotency claim | `CLAIM#{key}` | `CLAIM` |
//! | knowledge gap | `GAPS#{guild}` | `GAP#{key}` (cut to DynamoDB's 1 KB sort-key limit) |
//! | case counter | `CASES#{guild}` | `COUNTER` |
//! | moderation case | `CASES#{guild}` | `CASE#{id:020}` |
//! | strike | `STRIKES#{guild}#{member}` | `{case:020}` |
//!
//! `expires_at` holds epoch seconds for DynamoDB's TTL; since TTL deletes late, reads also filter
//! on `expires_ms`, the same instant in milliseconds. A claim item is a lease (`done` false) or a
//! completion (`done` true) that ends at `expires_ms`. Quota reservations are one conditional
//! `UpdateItem` and claims one conditional `PutItem`, so both are atomic. A knowledge gap counts
//! an asking with one `UpdateItem` (`ADD count`), conditional on the item not having expired;
//! an expired one is replaced by a conditional `PutItem` that starts the count over. A case takes
//! its number with one `UpdateItem` (`ADD next` on the counter) and is written by a `PutItem`
//! conditional on the number being free, so concurrent openings never share a number.
//!
//! One module per port, each an `impl Port for DynamoStore`; `item` holds the attribute helpers
//! and the reads and writes every port shares.

mod cases;
mod channel_history;
mod claims;
mod conversations;
mod error;
mod gaps;
mod item;
mod knowledge;
mod settings;
mod table;
mod usage;

use aws_sdk_dynamodb::Client;

pub use table::create_table;

/// Every store port over one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// Wraps a client and a table name.
    #[must_use]
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Builds a client from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::from_sdk_config(&aws_config::load_from_env().await, table)
    }

    /// Builds a client from an already loaded SDK configuration.
    #[must_use]
    pub fn from_sdk_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    /// Opens the connection (TLS handshake, credentials) with one cheap read, so the first
    /// real request of a cold Lambda does not pay for it. Errors are logged, not returned.
    pub async fn warm_up(&self) {
        let probe = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item::key("WARMUP".to_owned(), "WARMUP")))
            .send()
            .await;
        if let Err(error) = probe {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&error), "DynamoDB warm-up failed");
        }
    }

    /// The underlying client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }
}
