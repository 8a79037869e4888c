//! Conversation cases.

use std::time::Duration;

use super::guild;
use crate::clock::Timestamp;
use crate::conversation::{ConversationKey, Speaker, Turn};
use crate::ids::{ChannelId, UserId};
use crate::ports::ConversationStore;

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
