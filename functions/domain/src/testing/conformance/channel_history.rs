//! Channel history cases.

use std::time::Duration;

use super::guild;
use crate::clock::Timestamp;
use crate::conversation::ChannelLine;
use crate::ids::{ChannelId, UserId};
use crate::ports::ChannelHistory;

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
