//! Monthly quota counters; a reservation is one conditional `UpdateItem`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use steward_domain::ids::GuildId;
use steward_domain::ports::{StoreError, UsageStore};
use steward_domain::quota::{Month, Reservation};

use crate::DynamoStore;
use crate::error::{condition_failed, sdk_error};
use crate::item::{Item, get_n, key, n};

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
        let item = self.get(usage_key(guild, month), OP).await?;
        item.map_or(Ok(0), |item| get_n(&item, "used", OP))
    }
}
