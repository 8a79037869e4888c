//! Unanswered questions per guild, one expiring item per question; each asking is one atomic
//! `UpdateItem`.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use steward_domain::clock::Timestamp;
use steward_domain::ids::GuildId;
use steward_domain::ports::{Gap, GapStore, StoreError, StoreErrorKind, rank_gaps};

use crate::DynamoStore;
use crate::error::sdk_error;
use crate::item::{Item, get_n, get_s, key, n, s, set_expiry};

/// DynamoDB's limit on a sort key, in bytes.
const MAX_SORT_KEY_BYTES: usize = 1024;
/// The sort key's prefix before the gap's key.
const SK_PREFIX: &str = "GAP#";
/// How many times an asking retries when a concurrent asking keeps changing an expired record.
const ATTEMPTS: usize = 3;

fn gaps_pk(guild: GuildId) -> String {
    format!("GAPS#{guild}")
}

/// The sort key for `key`, cut at a character boundary to fit DynamoDB's limit. Keys that differ
/// only beyond the first kilobyte share a record: they are the same question for any reader.
fn gap_sk(key: &str) -> String {
    let mut end = key.len().min(MAX_SORT_KEY_BYTES - SK_PREFIX.len());
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{SK_PREFIX}{}", &key[..end])
}

fn gap_of(item: &Item, op: &'static str) -> Result<Gap, StoreError> {
    Ok(Gap {
        question: get_s(item, "question", op)?.to_owned(),
        count: get_n(item, "count", op)?,
        last_asked_at: Timestamp::from_millis(get_n(item, "last_at", op)?),
    })
}

impl DynamoStore {
    /// Counts one more asking of an unexpired (or absent) record. `Ok(false)`: the record has
    /// expired at `at` (TTL deletes late) and must be started over.
    async fn count_gap(
        &self,
        item_key: Item,
        question: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        const OP: &str = "record gap";
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .update_expression("ADD #count :one SET question = :q, last_at = :at, expires_at = :ttl, expires_ms = :ms")
            .condition_expression("attribute_not_exists(PK) OR expires_ms > :at")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":q", s(question))
            .expression_attribute_values(":at", n(at.as_millis()))
            .expression_attribute_values(":ttl", n(expires_at.as_secs()))
            .expression_attribute_values(":ms", n(expires_at.as_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if matches!(error.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) =>
            {
                Ok(false)
            }
            Err(error) => Err(sdk_error(OP)(error)),
        }
    }

    /// Replaces a record that has expired at `at` with a new one counting this asking.
    /// `Ok(false)`: someone renewed it meanwhile, so it must be counted instead.
    async fn restart_gap(
        &self,
        mut item: Item,
        question: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        const OP: &str = "record gap";
        item.insert("question".into(), s(question));
        item.insert("count".into(), n(1));
        item.insert("last_at".into(), n(at.as_millis()));
        set_expiry(&mut item, expires_at);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR expires_ms <= :at")
            .expression_attribute_values(":at", n(at.as_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
            {
                Ok(false)
            }
            Err(error) => Err(sdk_error(OP)(error)),
        }
    }
}

#[async_trait]
impl GapStore for DynamoStore {
    async fn record_gap(
        &self,
        guild: GuildId,
        key_: &str,
        question: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let item_key = key(gaps_pk(guild), gap_sk(key_));
        for _ in 0..ATTEMPTS {
            if self.count_gap(item_key.clone(), question, at, expires_at).await?
                || self.restart_gap(item_key.clone(), question, at, expires_at).await?
            {
                return Ok(());
            }
        }
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "record gap",
            format!("the record kept changing under {ATTEMPTS} attempts"),
        ))
    }

    async fn top_gaps(&self, guild: GuildId, limit: usize, now: Timestamp) -> Result<Vec<Gap>, StoreError> {
        const OP: &str = "list gaps";
        let items = self.query_prefix(gaps_pk(guild), SK_PREFIX, OP).await?;
        let mut gaps = Vec::with_capacity(items.len());
        for item in &items {
            // TTL deletes late: an expired item may still be there.
            if get_n::<i64>(item, "expires_ms", OP)? > now.as_millis() {
                gaps.push(gap_of(item, OP)?);
            }
        }
        rank_gaps(&mut gaps);
        gaps.truncate(limit);
        Ok(gaps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_kept_whole() {
        assert_eq!(gap_sk("password reset"), "GAP#password reset");
    }

    #[test]
    fn long_keys_are_cut_to_the_sort_key_limit_at_a_character_boundary() {
        let ascii = "a".repeat(5_000);
        let sk = gap_sk(&ascii);
        assert_eq!(sk.len(), MAX_SORT_KEY_BYTES);
        assert!(format!("GAP#{ascii}").starts_with(&sk));

        // 2-byte characters after the 4-byte prefix: byte 1020 falls on a boundary, so shift
        // by one ASCII byte to land the limit mid-character.
        let multibyte = format!("x{}", "ż".repeat(2_000));
        let sk = gap_sk(&multibyte);
        assert!(sk.len() <= MAX_SORT_KEY_BYTES, "{}", sk.len());
        assert_eq!(sk.len(), MAX_SORT_KEY_BYTES - 1, "cut before the character that would not fit");
        assert!(format!("GAP#{multibyte}").starts_with(&sk), "a prefix of the whole key");

        let emoji = "🦀".repeat(1_000);
        let sk = gap_sk(&emoji);
        assert!(sk.len() <= MAX_SORT_KEY_BYTES);
        assert!(sk.len() > MAX_SORT_KEY_BYTES - 4, "no more than one character is dropped at the cut");
    }
}
