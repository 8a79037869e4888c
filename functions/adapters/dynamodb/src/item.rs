//! Attribute maps: building and reading items, and the reads and writes every port shares.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use steward_domain::clock::Timestamp;
use steward_domain::ports::{StoreError, StoreErrorKind};

use crate::DynamoStore;
use crate::error::sdk_error;

/// One item's attributes.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The key of the item at `pk`/`sk`, to look it up or to build the item on.
pub(crate) fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

/// The string attribute `name`; corrupt when missing or of another type.
pub(crate) fn get_s<'a>(item: &'a Item, name: &str, op: &'static str) -> Result<&'a str, StoreError> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str).ok_or_else(|| missing(name, op))
}

/// The number attribute `name`; corrupt when missing, of another type or out of `T`'s range.
pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str, op: &'static str) -> Result<T, StoreError> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).ok_or_else(|| missing(name, op))
}

/// The boolean attribute `name`; corrupt when missing or of another type.
pub(crate) fn get_bool(item: &Item, name: &str, op: &'static str) -> Result<bool, StoreError> {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().ok_or_else(|| missing(name, op))
}

fn missing(name: &str, op: &'static str) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, op, format!("attribute `{name}` missing or of the wrong type"))
}

/// Marks `item` to expire at `expires_at`: seconds for the TTL, milliseconds for exact filtering.
pub(crate) fn set_expiry(item: &mut Item, expires_at: Timestamp) {
    item.insert("expires_at".into(), n(expires_at.as_secs()));
    item.insert("expires_ms".into(), n(expires_at.as_millis()));
}

/// A batch request that writes `item`.
pub(crate) fn put_request(item: Item, op: &'static str) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::new(StoreErrorKind::Other, op, e))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// A batch request that deletes the item at `item_key`.
pub(crate) fn delete_request(item_key: Item, op: &'static str) -> Result<WriteRequest, StoreError> {
    let delete = DeleteRequest::builder()
        .set_key(Some(item_key))
        .build()
        .map_err(|e| StoreError::new(StoreErrorKind::Other, op, e))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

impl DynamoStore {
    /// The item at `item_key`, read consistently.
    pub(crate) async fn get(&self, item_key: Item, op: &'static str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error(op))?;
        Ok(output.item)
    }

    /// Writes `item`, replacing any item with its key.
    pub(crate) async fn put(&self, item: Item, op: &'static str) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(sdk_error(op))?;
        Ok(())
    }

    /// Writes an item that expires at `expires_at` (see [`set_expiry`]).
    pub(crate) async fn put_expiring(
        &self,
        mut item: Item,
        expires_at: Timestamp,
        op: &'static str,
    ) -> Result<(), StoreError> {
        set_expiry(&mut item, expires_at);
        self.put(item, op).await
    }

    /// All items under `pk` whose sort key starts with `prefix`, following pagination.
    pub(crate) async fn query_prefix(
        &self,
        pk: String,
        prefix: &str,
        op: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_pages(self.prefix_query(pk, prefix), usize::MAX, op).await
    }

    /// The newest `limit` unexpired items under `pk` with sort keys starting `prefix`, oldest
    /// first. TTL deletes late, so expired items are filtered here; pages continue until enough.
    pub(crate) async fn newest_unexpired(
        &self,
        pk: String,
        prefix: &str,
        limit: usize,
        now: Timestamp,
        op: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let query = self
            .prefix_query(pk, prefix)
            .filter_expression("expires_ms > :now")
            .expression_attribute_values(":now", n(now.as_millis()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        let mut items = self.query_pages(query, limit, op).await?;
        items.truncate(limit);
        items.reverse();
        Ok(items)
    }

    /// Writes or deletes items 25 at a time, retrying unprocessed ones with backoff.
    pub(crate) async fn batch_write(
        &self,
        mut requests: Vec<WriteRequest>,
        op: &'static str,
    ) -> Result<(), StoreError> {
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
                tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt.min(6)))).await;
                requests.extend(unprocessed);
            }
        }
        Ok(())
    }

    /// A query for the items under `pk` whose sort key starts with `prefix`.
    fn prefix_query(&self, pk: String, prefix: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// Runs `query` page by page until it has `enough` items or the pages run out.
    pub(crate) async fn query_pages(
        &self,
        query: QueryFluentBuilder,
        enough: usize,
        op: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = query.clone().set_exclusive_start_key(start.take()).send().await.map_err(sdk_error(op))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(last) if !last.is_empty() && items.len() < enough => start = Some(last),
                _ => return Ok(items),
            }
        }
    }
}
