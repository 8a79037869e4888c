//! Leases on events: a redelivered event is handled once, and one whose worker died mid-answer
//! is taken over by a redelivery once the lease has run out.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::{AnswerConfig, WorkError};
use crate::clock::Clock;
use crate::ports::{Claim, ClaimStore};

/// A held lease on one event; [`Lease::finish`] records the outcome. Services use it through
/// `Answerer::once`.
pub(crate) struct Lease {
    claims: Arc<dyn ClaimStore>,
    clock: Arc<dyn Clock>,
    key: String,
    remember: Duration,
}

impl Lease {
    /// Takes the lease on `key` for `config.lease`, or `None` when another delivery holds an
    /// unexpired lease or the event was already handled.
    pub(crate) async fn take(
        claims: Arc<dyn ClaimStore>,
        clock: Arc<dyn Clock>,
        key: String,
        config: &AnswerConfig,
    ) -> Result<Option<Self>, WorkError> {
        let now = clock.now();
        match claims.claim(&key, now, now.plus(config.lease)).await.map_err(WorkError::Claim)? {
            Claim::Acquired => Ok(Some(Self { claims, clock, key, remember: config.remember })),
            Claim::Held { until } => {
                info!(key, %until, "another delivery is handling this event");
                Ok(None)
            }
            Claim::Done => {
                info!(key, "duplicate delivery ignored");
                Ok(None)
            }
        }
    }

    /// Records the event as handled, unless it failed in a way a redelivery may fix (then the
    /// lease runs out and the redelivery takes over).
    pub(crate) async fn finish<T>(self, result: &Result<T, WorkError>) {
        if matches!(result, Err(error) if error.is_retryable()) {
            return;
        }
        let keep_until = self.clock.now().plus(self.remember);
        if let Err(error) = self.claims.complete(&self.key, keep_until).await {
            warn!(error = &error as &dyn std::error::Error, key = self.key, "could not record the event as handled");
        }
    }
}
