//! Knowledge gap cases: grouping, ranking, expiry and atomic counting.

use std::time::Duration;

use super::guild;
use crate::clock::Timestamp;
use crate::ports::{Gap, GapStore};

fn secs(s: i64) -> Timestamp {
    Timestamp::from_secs(s)
}

/// Askings under one key make one gap with the latest wording; gaps rank by count, then
/// recency; `limit` cuts the list; guilds are separate.
pub async fn gaps_group_rewordings_and_rank(store: &dyn GapStore) {
    let (g, other) = (guild(21), guild(22));
    let t0 = 20_000;
    let keep = secs(t0 + 86_400);
    let wordings = ["How do I reset my password?", "how do i reset my password", "reset password — how?"];
    for (wording, i) in wordings.into_iter().zip(0..) {
        store.record_gap(g, "password reset", wording, secs(t0 + i), keep).await.unwrap();
    }
    let now = secs(t0 + 10);
    assert_eq!(
        store.top_gaps(g, 10, now).await.unwrap(),
        [Gap { question: "reset password — how?".into(), count: 3, last_asked_at: secs(t0 + 2) }],
        "one gap per key, with the latest wording and time"
    );

    store.record_gap(g, "account delete", "How do I delete my account?", secs(t0 + 3), keep).await.unwrap();
    store.record_gap(g, "account delete", "delete account", secs(t0 + 4), keep).await.unwrap();
    store.record_gap(g, "billing", "Billing?", secs(t0 + 5), keep).await.unwrap();
    store.record_gap(g, "invoice", "Where is my invoice?", secs(t0 + 6), keep).await.unwrap();
    let top = store.top_gaps(g, 10, now).await.unwrap();
    let ranked: Vec<_> = top.iter().map(|gap| (gap.question.as_str(), gap.count)).collect();
    assert_eq!(
        ranked,
        [("reset password — how?", 3), ("delete account", 2), ("Where is my invoice?", 1), ("Billing?", 1)],
        "most asked first, ties most recently asked first"
    );
    assert_eq!(store.top_gaps(g, 2, now).await.unwrap(), top[..2], "at most `limit`");
    assert!(store.top_gaps(g, 0, now).await.unwrap().is_empty());

    assert!(store.top_gaps(other, 10, now).await.unwrap().is_empty(), "other guilds see nothing");
    store.record_gap(other, "password reset", "password?", secs(t0 + 7), keep).await.unwrap();
    assert_eq!(store.top_gaps(other, 10, now).await.unwrap()[0].count, 1, "counts are per guild");
    assert_eq!(store.top_gaps(g, 1, now).await.unwrap()[0].count, 3, "counts are per guild");
}

/// A gap is listed until its expiry, which each asking renews; once expired it starts over.
pub async fn gaps_expire_unless_asked_again(store: &dyn GapStore) {
    let g = guild(23);
    let t0 = 30_000;
    store.record_gap(g, "once", "asked once", secs(t0), secs(t0 + 10)).await.unwrap();
    store.record_gap(g, "twice", "asked twice", secs(t0), secs(t0 + 10)).await.unwrap();
    store.record_gap(g, "twice", "asked twice", secs(t0 + 5), secs(t0 + 20)).await.unwrap();
    assert_eq!(store.top_gaps(g, 10, secs(t0 + 9)).await.unwrap().len(), 2);
    let listed = store.top_gaps(g, 10, secs(t0 + 10)).await.unwrap();
    assert_eq!(
        listed,
        [Gap { question: "asked twice".into(), count: 2, last_asked_at: secs(t0 + 5) }],
        "expired gaps are not listed; asking again renewed the other"
    );
    assert!(store.top_gaps(g, 10, secs(t0 + 20)).await.unwrap().is_empty(), "a gap ends at its expiry");

    store.record_gap(g, "once", "asked again", secs(t0 + 30), secs(t0 + 40)).await.unwrap();
    assert_eq!(
        store.top_gaps(g, 10, secs(t0 + 30)).await.unwrap(),
        [Gap { question: "asked again".into(), count: 1, last_asked_at: secs(t0 + 30) }],
        "asking after expiry starts a new count"
    );
}

/// Keys far longer than any store's key limit, in multi-byte characters, still count.
pub async fn gaps_with_very_long_keys_are_recorded(store: &dyn GapStore) {
    let g = guild(24);
    let now = secs(40_000);
    let keep = now.plus(Duration::from_secs(3_600));
    let key = "żółć ".repeat(600);
    let question = format!("{key}?");
    store.record_gap(g, &key, &question, now, keep).await.unwrap();
    store.record_gap(g, &key, &question, now, keep).await.unwrap();
    let gaps = store.top_gaps(g, 10, now).await.unwrap();
    assert_eq!(gaps, [Gap { question, count: 2, last_asked_at: now }]);
}

/// Concurrent askings of a known question all count. (The record exists first, as in the
/// usage and claim races: the local DynamoDB emulator can lose one of several concurrent
/// *creations* of an item, which DynamoDB itself never does.)
pub async fn gaps_are_atomic_under_concurrency(store: &dyn GapStore) {
    let g = guild(25);
    let now = secs(50_000);
    let keep = now.plus(Duration::from_secs(3_600));
    store.record_gap(g, "race", "race?", now, keep).await.unwrap();
    let results = futures::future::join_all((0..20).map(|_| store.record_gap(g, "race", "race?", now, keep))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(store.top_gaps(g, 10, now).await.unwrap()[0].count, 21);
}
