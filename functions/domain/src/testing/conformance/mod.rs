//! The store conformance suite: the same cases run against every store adapter.
//!
//! Each case takes the adapter as a port, so the embedded (SQLite), DynamoDB and in-memory
//! stores prove one behaviour. Cases panic with a message on the first difference.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::time::Duration;

use crate::clock::Timestamp;
use crate::conversation::{ChannelLine, ConversationKey, Speaker, Turn};
use crate::ids::{ChannelId, DocumentId, GuildId, UserId};
use crate::knowledge::{KbScope, NewDocument};
use crate::ports::{ChannelHistory, Claim, ClaimStore, ConversationStore, KnowledgeStore, SettingsStore, UsageStore};
use crate::quota::{Month, Plan, Reservation};
use crate::settings::{GuildSettings, ResponseMode};

fn guild(n: u64) -> GuildId {
    GuildId::new(n).unwrap()
}

/// Unknown guilds have no settings; stored settings round-trip and are isolated per guild.
pub async fn settings_round_trip(store: &dyn SettingsStore) {
    assert_eq!(store.get_settings(guild(1)).await.unwrap(), None, "unknown guild has no stored settings");
    let settings = GuildSettings {
        response_mode: ResponseMode::AllMessages,
        smart_mode: false,
        allowed_channels: vec![ChannelId::new(5).unwrap()],
        plan: Plan::Custom(42),
        ..GuildSettings::default()
    };
    store.put_settings(guild(1), &settings).await.unwrap();
    assert_eq!(store.get_settings(guild(1)).await.unwrap(), Some(settings.clone()));
    assert_eq!(store.get_settings(guild(2)).await.unwrap(), None, "settings are per guild");
    let updated = GuildSettings { enabled: false, ..settings };
    store.put_settings(guild(1), &updated).await.unwrap();
    assert_eq!(store.get_settings(guild(1)).await.unwrap(), Some(updated), "put replaces");
}

/// Documents and chunks are stored per scope; every write changes the version; delete removes chunks.
pub async fn knowledge_documents(store: &dyn KnowledgeStore) {
    let scope = KbScope::Guild(guild(7));
    let v0 = store.version(scope).await.unwrap();
    assert!(store.list_documents(scope).await.unwrap().is_empty());
    let body = format!("# Billing\n{}\n\n# Install\nRun the installer.", "Plans are paid monthly. ".repeat(60));
    let (doc, chunks) = NewDocument { title: "FAQ".into(), source: Some("faq.md".into()), body }
        .into_parts(DocumentId::generate(), Timestamp::from_secs(100))
        .unwrap();
    assert!(chunks.len() >= 2);
    store.put_document(scope, &doc, &chunks).await.unwrap();
    let v1 = store.version(scope).await.unwrap();
    assert_ne!(v0, v1, "a write changes the version");
    assert_eq!(store.list_documents(scope).await.unwrap(), vec![doc.clone()]);
    let mut stored = store.chunks(scope).await.unwrap();
    stored.sort_by_key(|c| c.index);
    assert_eq!(stored, chunks);
    assert!(store.list_documents(KbScope::Global).await.unwrap().iter().all(|d| d.id != doc.id), "scopes are separate");

    let (second, second_chunks) = NewDocument { title: "Guide".into(), source: None, body: "Hello world.".into() }
        .into_parts(DocumentId::generate(), Timestamp::from_secs(200))
        .unwrap();
    store.put_document(scope, &second, &second_chunks).await.unwrap();
    let listed: Vec<_> = store.list_documents(scope).await.unwrap().into_iter().map(|d| d.title).collect();
    assert_eq!(listed, ["FAQ", "Guide"], "oldest first");

    assert!(store.delete_document(scope, &doc.id).await.unwrap());
    assert!(!store.delete_document(scope, &doc.id).await.unwrap(), "second delete finds nothing");
    let v2 = store.version(scope).await.unwrap();
    assert!(v2 != v1, "a delete changes the version");
    let remaining = store.chunks(scope).await.unwrap();
    assert_eq!(remaining, second_chunks, "the deleted document's chunks are gone");
}

/// Turns come back oldest first, limited to the newest N, per member and channel, unexpired only.
pub async fn conversation_turns(store: &dyn ConversationStore) {
    let key = ConversationKey { guild: guild(3), channel: ChannelId::new(4).unwrap(), user: UserId::new(5).unwrap() };
    let other = ConversationKey { user: UserId::new(6).unwrap(), ..key };
    let t0 = Timestamp::from_secs(1_000);
    for i in 0..5 {
        let speaker = if i % 2 == 0 { Speaker::Member } else { Speaker::Bot };
        let turn = Turn { speaker, text: format!("turn {i}"), at: t0.plus(Duration::from_secs(i)) };
        store.append_turn(key, &turn, t0.plus(Duration::from_secs(3_600))).await.unwrap();
    }
    let old = Turn { speaker: Speaker::Member, text: "old".into(), at: t0 };
    store.append_turn(other, &old, t0.plus(Duration::from_secs(10))).await.unwrap();

    let recent = store.recent_turns(key, 3, t0.plus(Duration::from_secs(60))).await.unwrap();
    let texts: Vec<_> = recent.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["turn 2", "turn 3", "turn 4"], "newest three, oldest first");
    assert_eq!(recent[1].speaker, Speaker::Bot);
    assert_eq!(store.recent_turns(other, 10, t0.plus(Duration::from_secs(5))).await.unwrap().len(), 1);
    assert!(
        store.recent_turns(other, 10, t0.plus(Duration::from_secs(11))).await.unwrap().is_empty(),
        "expired turns are not returned"
    );
}

/// Channel lines come back oldest first, from every member, per channel, unexpired only.
pub async fn channel_history(store: &dyn ChannelHistory) {
    let g = guild(11);
    let channel = ChannelId::new(12).unwrap();
    let other = ChannelId::new(13).unwrap();
    let t0 = Timestamp::from_secs(2_000);
    for i in 0..4u64 {
        let line = ChannelLine {
            author_id: UserId::new(100 + i % 2).unwrap(),
            author: format!("member{}", i % 2),
            text: format!("line {i}"),
            at: t0.plus(Duration::from_secs(i)),
        };
        store.append_line(g, channel, &line, t0.plus(Duration::from_secs(600))).await.unwrap();
    }
    let stale = ChannelLine { author_id: UserId::new(9).unwrap(), author: "x".into(), text: "old".into(), at: t0 };
    store.append_line(g, other, &stale, t0.plus(Duration::from_secs(5))).await.unwrap();
    let lines = store.recent_lines(g, channel, 3, t0.plus(Duration::from_secs(10))).await.unwrap();
    let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["line 1", "line 2", "line 3"]);
    assert_eq!(lines[0].author, "member1");
    assert!(
        store.recent_lines(g, other, 10, t0.plus(Duration::from_secs(6))).await.unwrap().is_empty(),
        "expired lines are not returned"
    );
}

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

/// A key is claimed once until it expires.
pub async fn claims_are_exclusive_until_expiry(store: &dyn ClaimStore) {
    let now = Timestamp::from_secs(5_000);
    let until = now.plus(Duration::from_secs(60));
    assert_eq!(store.claim("ask:1", now, until).await.unwrap(), Claim::Acquired);
    assert_eq!(store.claim("ask:1", now, until).await.unwrap(), Claim::Held { until }, "second claim fails");
    assert_eq!(store.claim("ask:2", now, until).await.unwrap(), Claim::Acquired, "other keys are independent");
    let later = now.plus(Duration::from_secs(61));
    assert_eq!(
        store.claim("ask:1", later, later.plus(Duration::from_secs(60))).await.unwrap(),
        Claim::Acquired,
        "expired claims can be taken again"
    );
}

/// Concurrent claims of one key: exactly one wins.
pub async fn claims_are_atomic_under_concurrency(store: &dyn ClaimStore) {
    let now = Timestamp::from_secs(9_000);
    let until = now.plus(Duration::from_secs(60));
    let results = futures::future::join_all((0..20).map(|_| store.claim("ask:race", now, until))).await;
    let won = results.iter().filter(|r| matches!(r, Ok(Claim::Acquired))).count();
    assert_eq!(won, 1, "{results:?}");
}

/// Runs every case; for adapters whose tests want one call.
pub async fn run_all<S>(store: &S)
where
    S: SettingsStore + KnowledgeStore + ConversationStore + ChannelHistory + UsageStore + ClaimStore,
{
    settings_round_trip(store).await;
    knowledge_documents(store).await;
    conversation_turns(store).await;
    channel_history(store).await;
    usage_counts_and_stops_at_the_limit(store).await;
    usage_is_atomic_under_concurrency(store).await;
    claims_are_exclusive_until_expiry(store).await;
    claims_are_atomic_under_concurrency(store).await;
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_store_conforms() {
        super::run_all(&super::super::MemoryStore::default()).await;
    }
}
