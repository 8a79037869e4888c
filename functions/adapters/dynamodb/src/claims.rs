//! Claims: one item per key holding a lease or a completion; a claim is one conditional `PutItem`.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use steward_domain::clock::Timestamp;
use steward_domain::ports::{Claim, ClaimStore, StoreError, StoreErrorKind};

use crate::DynamoStore;
use crate::error::sdk_error;
use crate::item::{Item, get_bool, get_n, key, n, set_expiry};

/// The claim item for `claim`, lease or completion, ending at `until`.
fn claim_item(claim: &str, done: bool, until: Timestamp) -> Item {
    let mut item = key(format!("CLAIM#{claim}"), "CLAIM");
    item.insert("done".into(), AttributeValue::Bool(done));
    set_expiry(&mut item, until);
    item
}

/// What the unexpired claim item that refused a new lease holds.
fn refused_by(item: &Item, op: &'static str) -> Result<Claim, StoreError> {
    // Items written before leases have no `done`: they recorded processed work.
    if !item.contains_key("done") || get_bool(item, "done", op)? {
        return Ok(Claim::Done);
    }
    Ok(Claim::Held { until: Timestamp::from_millis(get_n(item, "expires_ms", op)?) })
}

#[async_trait]
impl ClaimStore for DynamoStore {
    async fn claim(&self, claim: &str, now: Timestamp, lease_until: Timestamp) -> Result<Claim, StoreError> {
        const OP: &str = "claim";
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(claim_item(claim, false, lease_until)))
            .condition_expression("attribute_not_exists(PK) OR expires_ms <= :now")
            .expression_attribute_values(":now", n(now.as_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Claim::Acquired),
            Err(error) => error,
        };
        match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(refused)) => match refused.item() {
                Some(item) => refused_by(item, OP),
                None => Err(StoreError::new(
                    StoreErrorKind::Other,
                    OP,
                    "the refused claim came back without the item that refused it",
                )),
            },
            _ => Err(sdk_error(OP)(error)),
        }
    }

    async fn complete(&self, claim: &str, keep_until: Timestamp) -> Result<(), StoreError> {
        self.put(claim_item(claim, true, keep_until), "complete claim").await
    }
}
