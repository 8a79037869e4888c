//! A reserved quota message and the one refund policy: a message is charged when an answer
//! reached the member, and given back whenever nothing did.

use std::sync::Arc;

use tracing::warn;

use super::Failure;
use crate::ids::GuildId;
use crate::ports::{StoreError, UsageStore};
use crate::quota::Month;

/// Why no message could be reserved.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The plan's monthly messages are used up.
    Exhausted {
        /// The plan's limit.
        limit: u64,
        /// The month it applies to.
        month: Month,
    },
    /// The counter could not be read or written.
    Store(StoreError),
}

/// One reserved message, to be settled exactly once.
#[must_use = "a reservation must be settled: charged or refunded"]
pub(crate) struct Held {
    usage: Arc<dyn UsageStore>,
    guild: GuildId,
    month: Month,
}

impl Held {
    pub(crate) fn new(usage: Arc<dyn UsageStore>, guild: GuildId, month: Month) -> Self {
        Self { usage, guild, month }
    }

    /// Settles the reservation by what happened: kept when an answer (or part of one) reached
    /// the member, refunded on every other failure: storage, search, model or delivery.
    pub(crate) async fn settle<T>(self, result: Result<T, Failure>) -> Result<T, Failure> {
        let charged = match &result {
            Ok(_) => true,
            Err(failure) => failure.reached_member(),
        };
        if !charged && let Err(error) = self.usage.release(self.guild, self.month).await {
            warn!(error = &error as &dyn std::error::Error, "could not refund the quota");
        }
        result
    }
}
