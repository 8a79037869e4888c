//! The `/ask` flow (F7, F9, F10, F27): the endpoint's intake and the worker's answer.

mod intake;
mod worker;

use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionId, InteractionToken, UserId};

pub use self::intake::{AskIntake, IntakeReply};
pub use self::worker::{AskOutcome, AskWorker};

/// The slash command's name.
pub const ASK_COMMAND: &str = "ask";
/// The slash command's one option.
pub const QUESTION_OPTION: &str = "question";
/// The longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 1_000;

/// An `/ask` as the endpoint received it, already authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskCommand {
    /// The interaction.
    pub interaction_id: InteractionId,
    /// The application it was sent to.
    pub application_id: ApplicationId,
    /// Its continuation token.
    pub token: InteractionToken,
    /// The guild, or `None` in a DM.
    pub guild_id: Option<GuildId>,
    /// The channel.
    pub channel_id: ChannelId,
    /// Who asked.
    pub user_id: UserId,
    /// Their display name.
    pub user_name: String,
    /// The question as typed.
    pub question: String,
    /// Their Discord locale.
    pub locale: Option<String>,
}
