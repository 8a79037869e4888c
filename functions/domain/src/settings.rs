//! Per-guild settings (F2, F5–F8, F12–F13, F19): defaults, validation and JSON merge patches.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, GuildId};
pub use crate::moderation::settings::{
    InvitePolicy, Ladder, MAX_RULES_CHARS, ModerationActions, ModerationMode, ModerationSettings, Prefilters,
};
use crate::ports::{SettingsStore, StoreError};
use crate::quota::Plan;

/// The most channels an allow-list may name.
pub const MAX_ALLOWED_CHANNELS: usize = 500;

/// The default per-member cooldown between channel answers.
pub const DEFAULT_COOLDOWN_SECONDS: u32 = 10;
/// The longest cooldown accepted.
pub const MAX_COOLDOWN_SECONDS: u32 = 3_600;

/// How members reach the bot in the channel (F5–F7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// The bot answers when tagged (the default, F5).
    #[default]
    Mention,
    /// The AI reads every message and decides whether to answer (F6).
    AllMessages,
    /// Only the `/ask` command; no gateway needed (F7).
    AskOnly,
}

/// Scheduled AI posts (F19); off by default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProactiveSettings {
    /// Whether scheduled posts run.
    pub enabled: bool,
}

/// Everything an operator can set for one guild. Unknown guilds get [`GuildSettings::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuildSettings {
    /// Master switch: when off the bot answers nothing in this guild.
    pub enabled: bool,
    /// How members reach the bot.
    pub response_mode: ResponseMode,
    /// In all-messages mode, answer only when the AI can help (F6a).
    pub smart_mode: bool,
    /// In all-messages mode, show the AI the channel's recent conversation (F6b).
    pub channel_context: bool,
    /// Channels the bot answers in; empty means every channel it can see.
    pub allowed_channels: Vec<ChannelId>,
    /// Moderation settings.
    pub moderation: ModerationSettings,
    /// Proactive post settings.
    pub proactive: ProactiveSettings,
    /// The monthly message plan (F26).
    pub plan: Plan,
    /// Seconds a member waits between two answers in the channel, so one member cannot burn
    /// the quota; 0 turns it off. `/ask` is not limited by it.
    pub cooldown_seconds: u32,
}

impl Default for GuildSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            response_mode: ResponseMode::Mention,
            smart_mode: true,
            channel_context: true,
            allowed_channels: Vec::new(),
            moderation: ModerationSettings::default(),
            proactive: ProactiveSettings::default(),
            plan: Plan::default(),
            cooldown_seconds: DEFAULT_COOLDOWN_SECONDS,
        }
    }
}

/// Why the settings alone keep Steward from answering a message in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    /// Steward is off in the guild.
    Disabled,
    /// The channel is not on the allow-list.
    ChannelNotAllowed,
    /// `/ask`-only mode: nothing is answered in the channel.
    AskOnly,
    /// Mention mode and the message neither mentions nor replies to the bot.
    NotAddressed,
}

impl GuildSettings {
    /// Loads a guild's settings, or the defaults for a guild never configured (F1: ready at once).
    ///
    /// # Errors
    /// Returns the store's error.
    pub async fn load(store: &dyn SettingsStore, guild: GuildId) -> Result<Self, StoreError> {
        Ok(store.get_settings(guild).await?.unwrap_or_default())
    }

    /// Whether these settings let Steward answer a message in `channel`; `addressed` means the
    /// message mentions the bot or replies to it. The one place the answering gate is decided:
    /// the gateway's relay filter and the channel responder both ask it.
    ///
    /// # Errors
    /// Returns why Steward stays silent.
    pub fn answers_in(&self, channel: ChannelId, addressed: bool) -> Result<(), Silence> {
        if !self.enabled {
            return Err(Silence::Disabled);
        }
        if !self.channel_allowed(channel) {
            return Err(Silence::ChannelNotAllowed);
        }
        match self.response_mode {
            ResponseMode::AskOnly => Err(Silence::AskOnly),
            ResponseMode::Mention if !addressed => Err(Silence::NotAddressed),
            ResponseMode::Mention | ResponseMode::AllMessages => Ok(()),
        }
    }
}

/// A setting that failed validation, naming the field (dotted path) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{field}`: {message}")]
pub struct SettingsError {
    /// The dotted path of the offending field, e.g. `moderation.rules`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl SettingsError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl GuildSettings {
    /// Whether the bot may speak in `channel` under the allow-list.
    #[must_use]
    pub fn channel_allowed(&self, channel: ChannelId) -> bool {
        self.allowed_channels.is_empty() || self.allowed_channels.contains(&channel)
    }

    /// Checks the constraints serde cannot express.
    ///
    /// # Errors
    /// Returns the first [`SettingsError`] found.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.allowed_channels.len() > MAX_ALLOWED_CHANNELS {
            return Err(SettingsError::new("allowed_channels", format!("at most {MAX_ALLOWED_CHANNELS} channels")));
        }
        self.moderation.validate().map_err(|(field, message)| SettingsError::new(field, message))?;
        if self.cooldown_seconds > MAX_COOLDOWN_SECONDS {
            return Err(SettingsError::new("cooldown_seconds", format!("at most {MAX_COOLDOWN_SECONDS} seconds")));
        }
        self.plan.validate().map_err(|message| SettingsError::new("plan", message))
    }

    /// Applies a JSON merge patch (RFC 7386) to these settings and validates the result.
    ///
    /// # Errors
    /// Returns a [`SettingsError`] naming the field when the patch is not an object, names an
    /// unknown field, has a value of the wrong type, or breaks a constraint.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Self, SettingsError> {
        if !patch.is_object() {
            return Err(SettingsError::new("$", "the body must be a JSON object"));
        }
        let mut document = serde_json::to_value(self)
            .map_err(|e| SettingsError::new("$", format!("could not encode settings: {e}")))?;
        merge_patch(&mut document, patch);
        let updated: Self = serde_path_to_error::deserialize(document).map_err(|error| {
            let field = error.path().to_string();
            let message = error.into_inner().to_string();
            SettingsError::new(if field == "." { "$".to_owned() } else { field }, message)
        })?;
        updated.validate()?;
        Ok(updated)
    }
}

/// RFC 7386: objects merge key by key, `null` removes (restoring the default), anything else replaces.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                merge_patch(target_map.entry(key.clone()).or_insert(serde_json::Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_mention_mode_with_moderation_and_proactive_off() {
        let settings = GuildSettings::default();
        assert_eq!(settings.response_mode, ResponseMode::Mention);
        assert!(settings.enabled && settings.smart_mode && settings.channel_context);
        assert!(!settings.moderation.enabled);
        assert!(!settings.proactive.enabled);
        assert_eq!(settings.plan, Plan::Starter);
        let parsed: GuildSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, settings);
    }

    #[test]
    fn patches_merge_nested_fields() {
        let patched = GuildSettings::default()
            .patched(&json!({"response_mode": "all_messages", "moderation": {"actions": {"ban": true}}}))
            .unwrap();
        assert_eq!(patched.response_mode, ResponseMode::AllMessages);
        assert!(patched.moderation.actions.ban);
        assert!(patched.moderation.actions.delete, "untouched fields keep their value");
    }

    #[test]
    fn bad_patches_name_the_field() {
        let base = GuildSettings::default();
        let err = base.patched(&json!({"response_mode": "shout"})).unwrap_err();
        assert_eq!(err.field, "response_mode");
        let err = base.patched(&json!({"moderation": {"enabled": "yes"}})).unwrap_err();
        assert_eq!(err.field, "moderation.enabled");
        let err = base.patched(&json!({"colour": "blue"})).unwrap_err();
        assert!(err.message.contains("colour"), "{err}");
        let err = base.patched(&json!({"moderation": {"enabled": true}})).unwrap_err();
        assert_eq!(err.field, "moderation.rules");
        let err = base.patched(&json!({"plan": {"custom": 0}})).unwrap_err();
        assert_eq!(err.field, "plan");
        let err = base.patched(&json!({"allowed_channels": ["x"]})).unwrap_err();
        assert_eq!(err.field, "allowed_channels[0]");
        let err = base.patched(&json!([1, 2])).unwrap_err();
        assert_eq!(err.field, "$");
    }

    #[test]
    fn null_restores_the_default() {
        let base = GuildSettings { smart_mode: false, ..GuildSettings::default() };
        assert!(base.patched(&json!({"smart_mode": null})).unwrap().smart_mode);
    }

    #[test]
    fn channel_allow_list() {
        let c1 = ChannelId::new(1).unwrap();
        let c2 = ChannelId::new(2).unwrap();
        let mut settings = GuildSettings::default();
        assert!(settings.channel_allowed(c1));
        settings.allowed_channels = vec![c2];
        assert!(!settings.channel_allowed(c1));
        assert!(settings.channel_allowed(c2));
    }
}
