//! Quota usage cases.

use super::guild;
use crate::ports::UsageStore;
use crate::quota::{Month, Reservation};

/// Reservations count up to the limit and stop; release gives one back; months are separate.
pub async fn usage_counts_and_stops_at_the_limit(store: &dyn UsageStore) {
    let g = guild(9);
    let month = Month { year: 2026, month: 11 };
    assert_eq!(store.used(g, month).await.unwrap(), 0);
    assert_eq!(store.reserve(g, month, 2).await.unwrap(), Reservation::Granted { used: 1 });
    assert_eq!(store.reserve(g, month, 2).await.unwrap(), Reservation::Granted { used: 2 });
    assert_eq!(store.reserve(g, month, 2).await.unwrap(), Reservation::Exhausted);
    assert_eq!(store.used(g, month).await.unwrap(), 2, "an exhausted reservation counts nothing");
    store.release(g, month).await.unwrap();
    assert_eq!(store.used(g, month).await.unwrap(), 1);
    let next = Month { year: 2026, month: 12 };
    assert_eq!(store.used(g, next).await.unwrap(), 0, "the month rolls over by itself");
    assert_eq!(store.reserve(g, next, 2).await.unwrap(), Reservation::Granted { used: 1 });
}

/// With `used = limit − 1`, 50 concurrent reservations let exactly one through.
pub async fn usage_is_atomic_under_concurrency(store: &dyn UsageStore) {
    let g = guild(10);
    let month = Month { year: 2026, month: 11 };
    let limit = 20;
    for _ in 0..limit - 1 {
        assert!(matches!(store.reserve(g, month, limit).await.unwrap(), Reservation::Granted { .. }));
    }
    let attempts = (0..50).map(|_| store.reserve(g, month, limit));
    let results = futures::future::join_all(attempts).await;
    let granted = results.iter().filter(|r| matches!(r, Ok(Reservation::Granted { .. }))).count();
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(errors.is_empty(), "reservations failed: {errors:?}");
    assert_eq!(granted, 1, "exactly one of 50 concurrent reservations may pass");
    assert_eq!(store.used(g, month).await.unwrap(), limit);
}
