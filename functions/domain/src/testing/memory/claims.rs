//! The claims port in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::ports::{Claim, ClaimStore, StoreError};

#[async_trait]
impl ClaimStore for MemoryStore {
    async fn claim(&self, key: &str, now: Timestamp, lease_until: Timestamp) -> Result<Claim, StoreError> {
        let mut tables = self.tables();
        match tables.claims.get(key) {
            Some((until, true)) if *until > now => Ok(Claim::Done),
            Some((until, false)) if *until > now => Ok(Claim::Held { until: *until }),
            _ => {
                tables.claims.insert(key.to_owned(), (lease_until, false));
                Ok(Claim::Acquired)
            }
        }
    }

    async fn complete(&self, key: &str, keep_until: Timestamp) -> Result<(), StoreError> {
        self.tables().claims.insert(key.to_owned(), (keep_until, true));
        Ok(())
    }
}
