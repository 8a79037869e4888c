//! Every store port in memory, one file per port; the reference the conformance suite checks
//! the real adapters against.

mod cases;
mod channel_history;
mod claims;
mod conversations;
mod gaps;
mod knowledge;
mod settings;
mod usage;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Timestamp;
use crate::conversation::{ChannelLine, ConversationKey, Turn};
use crate::ids::{ChannelId, DocumentId, GuildId, UserId};
use crate::knowledge::{Chunk, Document, KbScope};
use crate::moderation::case::Case;
use crate::ports::Gap;
use crate::quota::Month;
use crate::settings::GuildSettings;

#[derive(Debug, Default)]
struct Tables {
    settings: HashMap<GuildId, GuildSettings>,
    documents: BTreeMap<(KbScope, DocumentId), (Document, Vec<Chunk>)>,
    versions: HashMap<KbScope, u64>,
    turns: HashMap<ConversationKey, Vec<(Turn, Timestamp)>>,
    lines: HashMap<(GuildId, ChannelId), Vec<(ChannelLine, Timestamp)>>,
    usage: HashMap<(GuildId, Month), u64>,
    claims: HashMap<String, (Timestamp, bool)>,
    gaps: HashMap<(GuildId, String), (Gap, Timestamp)>,
    case_numbers: HashMap<GuildId, u64>,
    cases: BTreeMap<(GuildId, u64), Case>,
    strikes: HashMap<(GuildId, UserId, u64), (Timestamp, Timestamp)>,
}

/// Every store port in memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore(Arc<Mutex<Tables>>);

impl MemoryStore {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        super::lock(&self.0)
    }
}
