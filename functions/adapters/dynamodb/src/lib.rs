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
//!
//! `expires_at` holds epoch seconds for DynamoDB's TTL; since TTL deletes late, reads also filter
//! on it. Quota reservations are one conditional `UpdateItem`, so they are atomic.

mod error;
mod table;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, ReturnValue, WriteRequest};
use steward_domain::clock::Timestamp;
use steward_domain::conversation::{ChannelLine, ConversationKey, Speaker, Turn};
use steward_domain::ids::{ChannelId, DocumentId, GuildId, UserId};
use steward_domain::knowledge::{Chunk, Document, KbScope};
use steward_domain::ports::{
    ChannelHistory, ClaimStore, ConversationStore, KnowledgeStore, SettingsStore, StoreError, StoreErrorKind,
    UsageStore,
};
use steward_domain::quota::{Month, Reservation};
use steward_domain::settings::GuildSettings;

pub use table::create_table;

use error::{condition_failed, corrupt, sdk_error};

type Item = HashMap<String, AttributeValue>;

/// Every store port over one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

fn get_s<'a>(item: &'a Item, name: &str, op: &'static str) -> Result<&'a str, StoreError> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str).ok_or_else(|| missing(name, op))
}

fn get_n<T: std::str::FromStr>(item: &Item, name: &str, op: &'static str) -> Result<T, StoreError> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).ok_or_else(|| missing(name, op))
}

fn missing(name: &str, op: &'static str) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, op, format!("attribute `{name}` missing or of the wrong type"))
}

fn kb_pk(scope: KbScope) -> String {
    format!("KB#{scope}")
}

fn conversation_pk(key: ConversationKey) -> String {
    format!("CONV#{}#{}#{}", key.guild, key.channel, key.user)
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
            .set_key(Some(key("WARMUP".to_owned(), "WARMUP")))
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

    /// All items under `pk` whose sort key starts with `prefix`, following pagination.
    async fn query_prefix(&self, pk: String, prefix: &str, op: &'static str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error(op))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(items),
            }
        }
    }

    /// Writes or deletes items 25 at a time, retrying unprocessed ones with backoff.
    async fn batch_write(&self, mut requests: Vec<WriteRequest>, op: &'static str) -> Result<(), StoreError> {
        let mut attempt = 0u32;
        while !requests.is_empty() {
            let rest = requests.split_off(requests.len().min(25));
            let batch = std::mem::replace(&mut requests, rest);
            let output =
                self.client.batch_write_item().request_items(&self.table, batch).send().await.map_err(sdk_error(op))?;
            let unprocessed: Vec<WriteRequest> =
                output.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
            if !unprocessed.is_empty() {
                attempt += 1;
                if attempt > 8 {
                    return Err(StoreError::new(StoreErrorKind::Throttled, op, "unprocessed items after 8 retries"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 * 2u64.pow(attempt.min(6)))).await;
                requests.extend(unprocessed);
            }
        }
        Ok(())
    }

    /// The newest `limit` unexpired items under `pk` with sort keys starting `prefix`, newest
    /// first. TTL deletes late, so expired items are filtered here; pages continue until enough.
    async fn newest_unexpired(
        &self,
        pk: String,
        prefix: &str,
        limit: usize,
        now: Timestamp,
        op: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        while items.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .filter_expression("expires_ms > :now")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .expression_attribute_values(":now", n(now.as_millis()))
                .scan_index_forward(false)
                .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error(op))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }

    /// Puts an item that expires (TTL in seconds, plus milliseconds for exact filtering).
    async fn put_expiring(&self, mut item: Item, expires_at: Timestamp, op: &'static str) -> Result<(), StoreError> {
        item.insert("expires_at".into(), n(expires_at.as_secs()));
        item.insert("expires_ms".into(), n(expires_at.as_millis()));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(sdk_error(op))?;
        Ok(())
    }

    async fn bump_version(&self, scope: KbScope, op: &'static str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(kb_pk(scope), "VERSION")))
            .update_expression("ADD version :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(sdk_error(op))?;
        Ok(())
    }
}

fn settings_key(guild: GuildId) -> Item {
    key(format!("GUILD#{guild}"), "SETTINGS")
}

#[async_trait]
impl SettingsStore for DynamoStore {
    async fn get_settings(&self, guild: GuildId) -> Result<Option<GuildSettings>, StoreError> {
        const OP: &str = "get settings";
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(settings_key(guild)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        output.item.map(|item| serde_json::from_str(get_s(&item, "doc", OP)?).map_err(corrupt(OP))).transpose()
    }

    async fn put_settings(&self, guild: GuildId, settings: &GuildSettings) -> Result<(), StoreError> {
        const OP: &str = "put settings";
        let mut item = settings_key(guild);
        item.insert("doc".into(), s(serde_json::to_string(settings).map_err(corrupt(OP))?));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(sdk_error(OP))?;
        Ok(())
    }
}

fn chunk_sk(document: &DocumentId, index: u32) -> String {
    format!("CHUNK#{document}#{index:06}")
}

fn put_request(item: Item, op: &'static str) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::new(StoreErrorKind::Other, op, e))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete_request(item_key: Item, op: &'static str) -> Result<WriteRequest, StoreError> {
    let delete = DeleteRequest::builder()
        .set_key(Some(item_key))
        .build()
        .map_err(|e| StoreError::new(StoreErrorKind::Other, op, e))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

#[async_trait]
impl KnowledgeStore for DynamoStore {
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError> {
        const OP: &str = "put document";
        let pk = kb_pk(scope);
        let mut requests = Vec::with_capacity(chunks.len() + 1);
        for chunk in chunks {
            let mut item = key(pk.clone(), chunk_sk(&chunk.document, chunk.index));
            item.insert("document".into(), s(chunk.document.as_str()));
            item.insert("idx".into(), n(chunk.index));
            item.insert("title".into(), s(&chunk.title));
            item.insert("heading".into(), s(&chunk.heading));
            item.insert("body".into(), s(&chunk.text));
            requests.push(put_request(item, OP)?);
        }
        // The document item goes last: a reader never sees a document whose chunks are missing.
        let mut item = key(pk, format!("DOC#{}", document.id));
        item.insert("id".into(), s(document.id.as_str()));
        item.insert("title".into(), s(&document.title));
        if let Some(source) = &document.source {
            item.insert("source".into(), s(source));
        }
        item.insert("created_at".into(), n(document.created_at.as_millis()));
        item.insert("chars".into(), n(document.chars));
        item.insert("chunks".into(), n(document.chunks));
        self.batch_write(requests, OP).await?;
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(sdk_error(OP))?;
        self.bump_version(scope, OP).await
    }

    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError> {
        const OP: &str = "list documents";
        let items = self.query_prefix(kb_pk(scope), "DOC#", OP).await?;
        let mut documents = items
            .iter()
            .map(|item| {
                Ok(Document {
                    id: DocumentId::parse(get_s(item, "id", OP)?)
                        .map_err(|e| StoreError::new(StoreErrorKind::Corrupt, OP, e))?,
                    title: get_s(item, "title", OP)?.to_owned(),
                    source: item.get("source").and_then(|v| v.as_s().ok()).cloned(),
                    created_at: Timestamp::from_millis(get_n(item, "created_at", OP)?),
                    chars: get_n(item, "chars", OP)?,
                    chunks: get_n(item, "chunks", OP)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        documents.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(documents)
    }

    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError> {
        const OP: &str = "delete document";
        let pk = kb_pk(scope);
        let removed = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), format!("DOC#{id}"))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_error(OP))?
            .attributes
            .is_some_and(|a| !a.is_empty());
        let chunks = self.query_prefix(pk.clone(), &format!("CHUNK#{id}#"), OP).await?;
        let requests = chunks
            .iter()
            .map(|item| delete_request(key(pk.clone(), get_s(item, "SK", OP)?), OP))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(requests, OP).await?;
        if removed {
            self.bump_version(scope, OP).await?;
        }
        Ok(removed)
    }

    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError> {
        const OP: &str = "load chunks";
        let items = self.query_prefix(kb_pk(scope), "CHUNK#", OP).await?;
        items
            .iter()
            .map(|item| {
                Ok(Chunk {
                    document: DocumentId::parse(get_s(item, "document", OP)?)
                        .map_err(|e| StoreError::new(StoreErrorKind::Corrupt, OP, e))?,
                    index: get_n(item, "idx", OP)?,
                    title: get_s(item, "title", OP)?.to_owned(),
                    heading: get_s(item, "heading", OP)?.to_owned(),
                    text: get_s(item, "body", OP)?.to_owned(),
                })
            })
            .collect()
    }

    async fn version(&self, scope: KbScope) -> Result<u64, StoreError> {
        const OP: &str = "read knowledge version";
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(kb_pk(scope), "VERSION")))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        output.item.map_or(Ok(0), |item| get_n(&item, "version", OP))
    }
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn append_turn(&self, key_: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError> {
        const OP: &str = "append turn";
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mut item = key(conversation_pk(key_), format!("TURN#{:013}#{}", turn.at.as_millis(), &nonce[..8]));
        item.insert(
            "speaker".into(),
            s(match turn.speaker {
                Speaker::Member => "member",
                Speaker::Bot => "bot",
            }),
        );
        item.insert("body".into(), s(&turn.text));
        item.insert("at".into(), n(turn.at.as_millis()));
        self.put_expiring(item, expires_at, OP).await
    }

    async fn recent_turns(&self, key_: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError> {
        const OP: &str = "load turns";
        let items = self.newest_unexpired(conversation_pk(key_), "TURN#", limit, now, OP).await?;
        let mut turns = items
            .iter()
            .map(|item| {
                let speaker = if get_s(item, "speaker", OP)? == "bot" { Speaker::Bot } else { Speaker::Member };
                Ok(Turn {
                    speaker,
                    text: get_s(item, "body", OP)?.to_owned(),
                    at: Timestamp::from_millis(get_n(item, "at", OP)?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        turns.reverse();
        Ok(turns)
    }
}

fn channel_pk(guild: GuildId, channel: ChannelId) -> String {
    format!("CHAN#{guild}#{channel}")
}

#[async_trait]
impl ChannelHistory for DynamoStore {
    async fn append_line(
        &self,
        guild: GuildId,
        channel: ChannelId,
        line: &ChannelLine,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mut item = key(channel_pk(guild, channel), format!("LINE#{:013}#{}", line.at.as_millis(), &nonce[..8]));
        item.insert("author_id".into(), s(line.author_id.to_string()));
        item.insert("author".into(), s(&line.author));
        item.insert("body".into(), s(&line.text));
        item.insert("at".into(), n(line.at.as_millis()));
        self.put_expiring(item, expires_at, "append channel line").await
    }

    async fn recent_lines(
        &self,
        guild: GuildId,
        channel: ChannelId,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<ChannelLine>, StoreError> {
        const OP: &str = "load channel lines";
        let items = self.newest_unexpired(channel_pk(guild, channel), "LINE#", limit, now, OP).await?;
        let mut lines = items
            .iter()
            .map(|item| {
                let author_id: UserId = get_s(item, "author_id", OP)?
                    .parse()
                    .map_err(|e| StoreError::new(StoreErrorKind::Corrupt, OP, e))?;
                Ok(ChannelLine {
                    author_id,
                    author: get_s(item, "author", OP)?.to_owned(),
                    text: get_s(item, "body", OP)?.to_owned(),
                    at: Timestamp::from_millis(get_n(item, "at", OP)?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lines.reverse();
        Ok(lines)
    }
}

fn usage_key(guild: GuildId, month: Month) -> Item {
    key(format!("USAGE#{guild}"), format!("MONTH#{month}"))
}

#[async_trait]
impl UsageStore for DynamoStore {
    async fn reserve(&self, guild: GuildId, month: Month, limit: u64) -> Result<Reservation, StoreError> {
        const OP: &str = "reserve quota";
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(usage_key(guild, month)))
            .update_expression("ADD used :one")
            .condition_expression("attribute_not_exists(used) OR used < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let used = output.attributes.as_ref().map_or(Ok(1), |a| get_n(a, "used", OP))?;
                Ok(Reservation::Granted { used })
            }
            Err(error) if condition_failed(&error) => Ok(Reservation::Exhausted),
            Err(error) => Err(sdk_error(OP)(error)),
        }
    }

    async fn release(&self, guild: GuildId, month: Month) -> Result<(), StoreError> {
        const OP: &str = "release quota";
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(usage_key(guild, month)))
            .update_expression("ADD used :minus")
            .condition_expression("used > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(sdk_error(OP)(error)),
        }
    }

    async fn used(&self, guild: GuildId, month: Month) -> Result<u64, StoreError> {
        const OP: &str = "read usage";
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(usage_key(guild, month)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        output.item.map_or(Ok(0), |item| get_n(&item, "used", OP))
    }
}

#[async_trait]
impl ClaimStore for DynamoStore {
    async fn claim(&self, claim: &str, now: Timestamp, expires_at: Timestamp) -> Result<bool, StoreError> {
        const OP: &str = "claim";
        let mut item = key(format!("CLAIM#{claim}"), "CLAIM");
        item.insert("expires_at".into(), n(expires_at.as_secs()));
        item.insert("expires_ms".into(), n(expires_at.as_millis()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR expires_ms <= :now")
            .expression_attribute_values(":now", n(now.as_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(sdk_error(OP)(error)),
        }
    }
}
