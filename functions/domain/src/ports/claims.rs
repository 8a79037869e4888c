//! The claims port: leases that make redelivered work run once, and per-member cooldowns.

use async_trait::async_trait;

use super::StoreError;
use crate::clock::Timestamp;

/// What an attempt to claim a key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the key until the lease it asked for.
    Acquired,
    /// Someone holds an unexpired lease until `until`: work in progress, or a cooldown.
    Held {
        /// When the lease ends and the key can be claimed again.
        until: Timestamp,
    },
    /// The work behind the key was completed; there is nothing left to do.
    Done,
}

/// Leases on keys: a redelivered event is processed once, and one whose worker died mid-way is
/// taken over once its lease has run out.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Takes `key` until `lease_until`, unless at `now` someone holds an unexpired lease or the
    /// work was completed (and that record has not expired). Atomic under concurrency.
    async fn claim(&self, key: &str, now: Timestamp, lease_until: Timestamp) -> Result<Claim, StoreError>;

    /// Records that the work behind `key` is done: claims see [`Claim::Done`] until `keep_until`.
    async fn complete(&self, key: &str, keep_until: Timestamp) -> Result<(), StoreError>;
}
