//! The resume checkpoint: a shard's session id, the sequence of the last event handed on, and
//! the resume URL, written atomically so a restart can RESUME and Discord replays the rest.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a shard needs to resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The gateway session.
    pub session_id: String,
    /// The last sequence whose event was handed on (or dropped on purpose).
    pub sequence: u64,
    /// Where to resume.
    pub resume_url: Option<String>,
    /// When it was written (Unix seconds); Discord forgets sessions after a few minutes.
    pub saved_at: i64,
    /// The bot's user id from READY: a resumed session gets no READY, and without it the
    /// daemon could not tell mentions of the bot or its own messages.
    #[serde(default)]
    pub bot_user_id: Option<steward_domain::ids::UserId>,
}

/// The checkpoint file of one shard.
#[must_use]
pub fn path(dir: &Path, shard: u32) -> PathBuf {
    dir.join(format!("gateway-shard-{shard}.json"))
}

/// Loads a checkpoint, or `None` when absent or unreadable (then the shard identifies anew).
#[must_use]
pub fn load(path: &Path) -> Option<Checkpoint> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(checkpoint) => Some(checkpoint),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "ignoring an unreadable gateway checkpoint");
            None
        }
    }
}

/// Writes a checkpoint atomically (temp file, then rename).
///
/// # Errors
/// Returns the I/O error.
pub fn save(path: &Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(checkpoint).map_err(std::io::Error::other)?)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), 0);
        assert_eq!(load(&file), None);
        let checkpoint = Checkpoint {
            session_id: "abc".into(),
            sequence: 42,
            resume_url: Some("wss://x".into()),
            saved_at: 1,
            bot_user_id: steward_domain::ids::UserId::new(7).ok(),
        };
        save(&file, &checkpoint).unwrap();
        assert_eq!(load(&file), Some(checkpoint));
        std::fs::write(&file, "{not json").unwrap();
        assert_eq!(load(&file), None);
    }
}
