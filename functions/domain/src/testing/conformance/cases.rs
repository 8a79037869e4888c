//! Moderation case and strike cases.

use std::time::Duration;

use super::guild;
use crate::clock::Timestamp;
use crate::ids::{ChannelId, MessageId, UserId};
use crate::moderation::case::{Action, ActionRecord, ActionStatus, CASE_RETENTION, NewCase, Outcome, Reversal, Source};
use crate::ports::CaseStore;

fn new_case(message: u64, at: Timestamp) -> NewCase {
    NewCase {
        message_id: MessageId::new(message).unwrap(),
        channel_id: ChannelId::new(3).unwrap(),
        member_id: UserId::new(4).unwrap(),
        content: "Buy cheap followers at scam.example «ünïcode» 🎉".into(),
        rules: vec![1, 3],
        reason: "Advertising".into(),
        source: Source::Ai,
        dry_run: false,
        outcome: Outcome::Pending,
        created_at: at,
        actions: vec![ActionRecord { action: Action::Delete, status: ActionStatus::Planned, detail: None }],
        strike: true,
    }
}

/// Cases are numbered per guild from 1, read back whole, updated, listed newest first with
/// paging, and expire after the retention.
pub async fn cases_are_numbered_listed_and_updated(store: &dyn CaseStore) {
    let (g, other) = (guild(21), guild(22));
    let now = Timestamp::from_secs(1_800_000_000);
    let first = store.open_case(g, new_case(1, now)).await.unwrap();
    let second = store.open_case(g, new_case(2, now)).await.unwrap();
    let elsewhere = store.open_case(other, new_case(3, now)).await.unwrap();
    assert_eq!((first.id, second.id, elsewhere.id), (1, 2, 1), "numbered per guild");
    assert_eq!(store.case(g, 1, now).await.unwrap(), Some(first.clone()));
    assert_eq!(store.case(g, 9, now).await.unwrap(), None);

    let mut done = second.clone();
    done.body.outcome = Outcome::Acted;
    done.body.actions[0].status = ActionStatus::AlreadyDone;
    done.reversal = Some(Reversal { at: now, note: Some("appealed".into()), reversed: vec!["remove_strike".into()] });
    store.save_case(g, &done).await.unwrap();
    assert_eq!(store.case(g, 2, now).await.unwrap(), Some(done.clone()));

    let third = store.open_case(g, new_case(4, now)).await.unwrap();
    let ids = |cases: Vec<crate::moderation::case::Case>| cases.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(store.cases(g, None, 10, now).await.unwrap()), [3, 2, 1], "newest first");
    assert_eq!(ids(store.cases(g, None, 2, now).await.unwrap()), [3, 2]);
    assert_eq!(ids(store.cases(g, Some(third.id), 10, now).await.unwrap()), [2, 1], "before pages back");

    let later = now.plus(CASE_RETENTION).plus(Duration::from_secs(1));
    assert!(store.cases(g, None, 10, later).await.unwrap().is_empty(), "content is kept 90 days");
    assert_eq!(store.case(g, 1, later).await.unwrap(), None);
    let fresh = store.open_case(g, new_case(5, later)).await.unwrap();
    assert_eq!(fresh.id, 4, "numbers are never reused");
}

/// Strikes count from a time on, per member, and an undo removes one.
pub async fn strikes_count_within_the_window(store: &dyn CaseStore) {
    let g = guild(23);
    let (member, other) = (UserId::new(4).unwrap(), UserId::new(5).unwrap());
    let day = Duration::from_secs(86_400);
    let start = Timestamp::from_secs(1_800_000_000);
    let keep = |at: Timestamp| at.plus(day * 30);
    for (case, at) in [(1, start), (2, start.plus(day * 10)), (3, start.plus(day * 20))] {
        store.add_strike(g, member, case, at, keep(at)).await.unwrap();
    }
    store.add_strike(g, other, 4, start, keep(start)).await.unwrap();
    assert_eq!(store.strikes(g, member, start).await.unwrap(), 3);
    assert_eq!(store.strikes(g, member, start.plus(day * 5)).await.unwrap(), 2);
    assert_eq!(store.strikes(g, other, start).await.unwrap(), 1);
    assert!(store.remove_strike(g, member, 2).await.unwrap());
    assert!(!store.remove_strike(g, member, 2).await.unwrap(), "removed once");
    assert_eq!(store.strikes(g, member, start).await.unwrap(), 2);
}

/// Concurrent openings in one guild each get their own number: 1 to 20, none twice, none lost.
pub async fn cases_are_numbered_atomically_under_concurrency(store: &dyn CaseStore) {
    let g = guild(26);
    let now = Timestamp::from_secs(1_800_000_000);
    let results = futures::future::join_all((1..=20).map(|m| store.open_case(g, new_case(m, now)))).await;
    let mut ids: Vec<u64> = results.into_iter().map(|r| r.unwrap().id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>(), "each opening has its own number");
    let listed = store.cases(g, None, 50, now).await.unwrap();
    assert_eq!(listed.len(), 20, "every case is stored");
    let mut messages: Vec<u64> = listed.iter().map(|c| c.body.message_id.get()).collect();
    messages.sort_unstable();
    assert_eq!(messages, (1..=20).collect::<Vec<_>>(), "each under its own number");
}
