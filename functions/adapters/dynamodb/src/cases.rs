//! Moderation cases and strikes. A case takes its number from a per-guild counter item (one
//! atomic `UpdateItem ADD`) and is then written by a `PutItem` conditional on the number being
//! free; cases and strikes expire by TTL, and reads filter out the expired ones TTL has not yet
//! deleted.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, Select};
use steward_domain::clock::Timestamp;
use steward_domain::ids::{GuildId, UserId};
use steward_domain::moderation::case::{Case, NewCase};
use steward_domain::ports::{CaseStore, StoreError, StoreErrorKind};

use crate::DynamoStore;
use crate::error::{condition_failed, corrupt, sdk_error};
use crate::item::{Item, get_n, get_s, key, n, s, set_expiry};

/// The sort-key prefix of case items (the counter's sort key sorts after every case's).
const CASE_PREFIX: &str = "CASE#";
/// The counter item's sort key.
const COUNTER_SK: &str = "COUNTER";
/// How many numbers an opening tries when the one it took is already used (DynamoDB never
/// hands one out twice; this guards against a counter item restored or recreated behind the cases).
const ATTEMPTS: usize = 3;

fn cases_pk(guild: GuildId) -> String {
    format!("CASES#{guild}")
}

/// The sort key of case `id`, zero-padded so that keys sort as numbers.
fn case_sk(id: u64) -> String {
    format!("{CASE_PREFIX}{id:020}")
}

fn strikes_pk(guild: GuildId, member: UserId) -> String {
    format!("STRIKES#{guild}#{member}")
}

fn strike_key(guild: GuildId, member: UserId, case: u64) -> Item {
    key(strikes_pk(guild, member), format!("{case:020}"))
}

/// The item holding `case`: its JSON in `doc`, expiring with it.
fn case_item(guild: GuildId, case: &Case, op: &'static str) -> Result<Item, StoreError> {
    let mut item = key(cases_pk(guild), case_sk(case.id));
    item.insert("doc".into(), s(serde_json::to_string(case).map_err(corrupt(op))?));
    set_expiry(&mut item, case.expires_at());
    Ok(item)
}

/// The case in `item`, or `None` when it has expired at `now` (TTL deletes late).
fn unexpired_case(item: &Item, now: Timestamp, op: &'static str) -> Result<Option<Case>, StoreError> {
    if get_n::<i64>(item, "expires_ms", op)? <= now.as_millis() {
        return Ok(None);
    }
    serde_json::from_str(get_s(item, "doc", op)?).map(Some).map_err(corrupt(op))
}

impl DynamoStore {
    /// Takes the guild's next case number (1 for the first case).
    async fn next_case_number(&self, guild: GuildId) -> Result<u64, StoreError> {
        const OP: &str = "number case";
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(cases_pk(guild), COUNTER_SK)))
            .update_expression("ADD #next :one")
            .expression_attribute_names("#next", "next")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        let attributes = output
            .attributes
            .ok_or_else(|| StoreError::new(StoreErrorKind::Other, OP, "the counter came back without its value"))?;
        get_n(&attributes, "next", OP)
    }

    /// Writes `case` unless its number is taken. `Ok(false)`: it is.
    async fn put_new_case(&self, guild: GuildId, case: &Case) -> Result<bool, StoreError> {
        const OP: &str = "open case";
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(case_item(guild, case, OP)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(sdk_error(OP)(error)),
        }
    }
}

#[async_trait]
impl CaseStore for DynamoStore {
    async fn open_case(&self, guild: GuildId, case: NewCase) -> Result<Case, StoreError> {
        let mut case = Case { id: 0, body: case, appeal: None, reversal: None };
        for _ in 0..ATTEMPTS {
            // A number taken but not written (a crash between the two calls) is skipped, never reused.
            case.id = self.next_case_number(guild).await?;
            if self.put_new_case(guild, &case).await? {
                return Ok(case);
            }
            tracing::warn!(%guild, id = case.id, "case number already used; the counter is behind, taking the next");
        }
        Err(StoreError::new(
            StoreErrorKind::Other,
            "open case",
            format!("{ATTEMPTS} case numbers in a row were already used: the case counter is behind the cases"),
        ))
    }

    async fn save_case(&self, guild: GuildId, case: &Case) -> Result<(), StoreError> {
        const OP: &str = "save case";
        self.put(case_item(guild, case, OP)?, OP).await
    }

    async fn case(&self, guild: GuildId, id: u64, now: Timestamp) -> Result<Option<Case>, StoreError> {
        const OP: &str = "get case";
        let item = self.get(key(cases_pk(guild), case_sk(id)), OP).await?;
        item.map_or(Ok(None), |item| unexpired_case(&item, now, OP))
    }

    async fn cases(
        &self,
        guild: GuildId,
        before: Option<u64>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<Case>, StoreError> {
        const OP: &str = "list cases";
        if limit == 0 {
            return Ok(Vec::new());
        }
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(cases_pk(guild)))
            .filter_expression("expires_ms > :now")
            .expression_attribute_values(":now", n(now.as_millis()))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        // Nothing else under the partition sorts below `CASE#`, so `SK <` needs no lower bound.
        let query = match before {
            Some(before) => query
                .key_condition_expression("PK = :pk AND SK < :before")
                .expression_attribute_values(":before", s(case_sk(before))),
            None => query
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":prefix", s(CASE_PREFIX)),
        };
        let items = self.query_pages(query, limit, OP).await?;
        let mut cases = Vec::with_capacity(items.len().min(limit));
        for item in &items {
            if let Some(case) = unexpired_case(item, now, OP)? {
                cases.push(case);
            }
        }
        cases.truncate(limit);
        Ok(cases)
    }

    async fn add_strike(
        &self,
        guild: GuildId,
        member: UserId,
        case: u64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        let mut item = strike_key(guild, member, case);
        item.insert("at".into(), n(at.as_millis()));
        self.put_expiring(item, expires, "add strike").await
    }

    async fn remove_strike(&self, guild: GuildId, member: UserId, case: u64) -> Result<bool, StoreError> {
        const OP: &str = "remove strike";
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(strike_key(guild, member, case)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(output.attributes.is_some_and(|old| !old.is_empty()))
    }

    async fn strikes(&self, guild: GuildId, member: UserId, since: Timestamp) -> Result<u32, StoreError> {
        const OP: &str = "count strikes";
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            // TTL deletes late: an expired strike may still be there.
            .filter_expression("#at >= :since AND expires_ms > :since")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":pk", s(strikes_pk(guild, member)))
            .expression_attribute_values(":since", n(since.as_millis()))
            .select(Select::Count)
            .consistent_read(true);
        let mut count: u64 = 0;
        let mut start: Option<Item> = None;
        loop {
            let page = query.clone().set_exclusive_start_key(start.take()).send().await.map_err(sdk_error(OP))?;
            count += u64::try_from(page.count).unwrap_or(0);
            match page.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(u32::try_from(count).unwrap_or(u32::MAX)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_keys_sort_as_numbers_and_below_the_counter() {
        assert_eq!(case_sk(42), "CASE#00000000000000000042");
        assert!(case_sk(9) < case_sk(10));
        assert!(case_sk(u64::MAX).as_str() < COUNTER_SK, "the counter never shows in a `SK <` listing");
        assert!(!COUNTER_SK.starts_with(CASE_PREFIX));
    }
}
