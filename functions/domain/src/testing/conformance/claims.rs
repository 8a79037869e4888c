//! Claim cases: leases, completion and atomicity.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::ports::{Claim, ClaimStore};

/// A key is held by one claimer until its lease ends, then can be taken again.
pub async fn claims_are_exclusive_until_expiry(store: &dyn ClaimStore) {
    let now = Timestamp::from_secs(5_000);
    let until = now.plus(Duration::from_secs(60));
    assert_eq!(store.claim("ask:1", now, until).await.unwrap(), Claim::Acquired);
    assert_eq!(store.claim("ask:1", now, until).await.unwrap(), Claim::Held { until }, "second claim fails");
    assert_eq!(store.claim("ask:2", now, until).await.unwrap(), Claim::Acquired, "other keys are independent");
    let later = now.plus(Duration::from_secs(61));
    let renewed = later.plus(Duration::from_secs(60));
    assert_eq!(
        store.claim("ask:1", later, renewed).await.unwrap(),
        Claim::Acquired,
        "expired claims can be taken again"
    );
    assert_eq!(
        store.claim("ask:1", later, later.plus(Duration::from_secs(5))).await.unwrap(),
        Claim::Held { until: renewed },
        "the new lease's end is reported"
    );
    assert_eq!(
        store.claim("ask:2", until, until.plus(Duration::from_secs(60))).await.unwrap(),
        Claim::Acquired,
        "a lease ends at its end, to the millisecond"
    );
}

/// Completed work reads as done, even past its lease, until the record's end; then it is free.
pub async fn completed_claims_are_done_until_kept(store: &dyn ClaimStore) {
    let now = Timestamp::from_secs(7_000);
    let lease = now.plus(Duration::from_secs(60));
    let kept = now.plus(Duration::from_secs(3_600));
    assert_eq!(store.claim("event:1", now, lease).await.unwrap(), Claim::Acquired);
    store.complete("event:1", kept).await.unwrap();
    assert_eq!(store.claim("event:1", now, lease).await.unwrap(), Claim::Done);
    let past_lease = lease.plus(Duration::from_secs(1));
    assert_eq!(
        store.claim("event:1", past_lease, past_lease.plus(Duration::from_secs(60))).await.unwrap(),
        Claim::Done,
        "completion outlives the lease"
    );
    let just_before = kept.minus(Duration::from_millis(1));
    assert_eq!(store.claim("event:1", just_before, kept).await.unwrap(), Claim::Done, "done until kept");
    let retaken = kept.plus(Duration::from_secs(60));
    assert_eq!(store.claim("event:1", kept, retaken).await.unwrap(), Claim::Acquired, "free once the record ends");
    assert_eq!(
        store.claim("event:1", kept, retaken).await.unwrap(),
        Claim::Held { until: retaken },
        "a new lease replaces the completion"
    );

    assert_eq!(store.claim("event:2", now, lease).await.unwrap(), Claim::Acquired, "completion is per key");
    store.complete("event:3", kept).await.unwrap();
    assert_eq!(store.claim("event:3", now, lease).await.unwrap(), Claim::Done, "completing needs no prior claim");
}

/// Concurrent claims of one key: exactly one wins.
pub async fn claims_are_atomic_under_concurrency(store: &dyn ClaimStore) {
    let now = Timestamp::from_secs(9_000);
    let until = now.plus(Duration::from_secs(60));
    let results = futures::future::join_all((0..20).map(|_| store.claim("ask:race", now, until))).await;
    let won = results.iter().filter(|r| matches!(r, Ok(Claim::Acquired))).count();
    assert_eq!(won, 1, "{results:?}");
    let held = results.iter().filter(|r| matches!(r, Ok(Claim::Held { until: u }) if *u == until)).count();
    assert_eq!(held, 19, "the others see the winner's lease: {results:?}");
}
