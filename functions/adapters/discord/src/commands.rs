//! Steward's slash commands as Discord wants them registered.

use steward_domain::ask::{ASK_COMMAND, MAX_QUESTION_CHARS, QUESTION_OPTION};
use twilight_model::application::command::{Command, CommandOption, CommandOptionType, CommandType};
use twilight_model::application::interaction::InteractionContextType;
use twilight_model::id::Id;
use twilight_model::oauth::ApplicationIntegrationType;

/// Every command Steward registers.
pub(crate) fn steward_commands() -> Vec<Command> {
    vec![ask()]
}

// `Command` has no constructor and still carries the deprecated `dm_permission` field.
#[allow(deprecated)]
fn ask() -> Command {
    let question = CommandOption {
        autocomplete: None,
        channel_types: None,
        choices: None,
        description: "What do you want to know?".into(),
        description_localizations: None,
        kind: CommandOptionType::String,
        max_length: u16::try_from(MAX_QUESTION_CHARS).ok(),
        max_value: None,
        min_length: Some(1),
        min_value: None,
        name: QUESTION_OPTION.into(),
        name_localizations: None,
        options: None,
        file_types: None,
        required: Some(true),
    };
    Command {
        application_id: None,
        contexts: Some(vec![InteractionContextType::Guild]),
        default_member_permissions: None,
        description: "Ask Steward a question about this community".into(),
        description_localizations: None,
        dm_permission: None,
        guild_id: None,
        id: None,
        integration_types: Some(vec![ApplicationIntegrationType::GuildInstall]),
        kind: CommandType::ChatInput,
        name: ASK_COMMAND.into(),
        name_localizations: None,
        nsfw: Some(false),
        options: vec![question],
        version: Id::new(1),
    }
}
