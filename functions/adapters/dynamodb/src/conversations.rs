//! Each member's conversation turns, one expiring item per turn.

use async_trait::async_trait;
use steward_domain::clock::Timestamp;
use steward_domain::conversation::{ConversationKey, Speaker, Turn};
use steward_domain::ports::{ConversationStore, StoreError};

use crate::DynamoStore;
use crate::item::{get_n, get_s, key, n, s};

fn conversation_pk(key: ConversationKey) -> String {
    format!("CONV#{}#{}#{}", key.guild, key.channel, key.user)
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn append_turn(&self, key_: ConversationKey, turn: &Turn, expires_at: Timestamp) -> Result<(), StoreError> {
        const OP: &str = "append turn";
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mut item = key(conversation_pk(key_), format!("TURN#{:013}#{}", turn.at.as_millis(), &nonce[..8]));
        item.insert("speaker".into(), s(turn.speaker.code()));
        item.insert("body".into(), s(&turn.text));
        item.insert("at".into(), n(turn.at.as_millis()));
        self.put_expiring(item, expires_at, OP).await
    }

    async fn recent_turns(&self, key_: ConversationKey, limit: usize, now: Timestamp) -> Result<Vec<Turn>, StoreError> {
        const OP: &str = "load turns";
        let items = self.newest_unexpired(conversation_pk(key_), "TURN#", limit, now, OP).await?;
        items
            .iter()
            .map(|item| {
                Ok(Turn {
                    // Only `bot` marks Steward's turns; any other code reads as the member's.
                    speaker: Speaker::from_code(get_s(item, "speaker", OP)?).unwrap_or(Speaker::Member),
                    text: get_s(item, "body", OP)?.to_owned(),
                    at: Timestamp::from_millis(get_n(item, "at", OP)?),
                })
            })
            .collect()
    }
}
