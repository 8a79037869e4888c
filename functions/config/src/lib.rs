//! Configuration: every environment variable Steward reads, parsed once, failing fast by name.
//!
//! The README's configuration table documents each variable; keep the two in step.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use steward_domain::ids::ApplicationId;

/// Discord's API base when `DISCORD_API_BASE` is unset.
pub const DEFAULT_DISCORD_API: &str = "https://discord.com/api/v10";
/// The OpenAI-compatible base when `OPENAI_BASE_URL` is unset.
pub const DEFAULT_OPENAI_BASE: &str = "https://api.openai.com/v1";
/// The model when `LLM_MODEL` is unset.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";
/// Where standalone mode listens when `STEWARD_LISTEN` is unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Where `steward gateway` serves health and metrics when `STEWARD_GATEWAY_LISTEN` is unset.
pub const DEFAULT_GATEWAY_LISTEN: &str = "127.0.0.1:9090";

/// The systemd credential (`LoadCredential=`) holding the bot token when `DISCORD_BOT_TOKEN` is unset.
pub const BOT_TOKEN_CREDENTIAL: &str = "discord-bot-token";

/// Reads a systemd credential file; absent means unset.
fn read_credential(path: &std::path::Path) -> Result<Option<SecretString>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()).map(SecretString::from)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => {
            Err(ConfigError::new("CREDENTIALS_DIRECTORY", format!("cannot read {}: {error}", path.display())))
        }
    }
}

/// A variable that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self { variable, message: message.into() }
    }
}

/// The Discord application Steward acts as.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// `DISCORD_APPLICATION_ID`.
    pub application_id: Option<ApplicationId>,
    /// `DISCORD_PUBLIC_KEY`: 64 hex characters (Ed25519), for verifying interactions.
    pub public_key: Option<String>,
    /// `DISCORD_BOT_TOKEN`.
    pub bot_token: Option<SecretString>,
    /// `DISCORD_API_BASE`.
    pub api_base: String,
    /// `DISCORD_GATEWAY_URL`: overrides the gateway URL Discord advertises.
    pub gateway_url: Option<String>,
}

impl DiscordConfig {
    /// `DISCORD_APPLICATION_ID`, for commands, invites and the gateway.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming `DISCORD_APPLICATION_ID` when it is unset.
    pub fn require_application_id(&self) -> Result<ApplicationId, ConfigError> {
        Config::require(&self.application_id, "DISCORD_APPLICATION_ID").copied()
    }

    /// `DISCORD_PUBLIC_KEY` (64 lowercase hex characters), for verifying interactions.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming `DISCORD_PUBLIC_KEY` when it is unset.
    pub fn require_public_key(&self) -> Result<&str, ConfigError> {
        Config::require(&self.public_key, "DISCORD_PUBLIC_KEY").map(String::as_str)
    }

    /// `DISCORD_BOT_TOKEN` (or the systemd credential), for the gateway and REST calls.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming `DISCORD_BOT_TOKEN` when it is unset.
    pub fn require_bot_token(&self) -> Result<&SecretString, ConfigError> {
        Config::require(&self.bot_token, "DISCORD_BOT_TOKEN")
    }
}

/// Which language model answers.
#[derive(Debug, Clone)]
pub enum LlmConfig {
    /// An OpenAI-compatible server.
    OpenAi {
        /// `OPENAI_BASE_URL`.
        base_url: String,
        /// `OPENAI_API_KEY`.
        api_key: Option<SecretString>,
        /// `LLM_MODEL`.
        model: String,
        /// `LLM_TIMEOUT_SECS`.
        timeout: Duration,
    },
    /// The offline extractive fallback (no key needed).
    Extractive,
}

/// The embeddings model for hybrid search, when `EMBEDDINGS_MODEL` is set.
#[derive(Debug, Clone)]
pub struct EmbeddingsConfig {
    /// `EMBEDDINGS_BASE_URL`, else `OPENAI_BASE_URL`, else OpenAI's.
    pub base_url: String,
    /// `EMBEDDINGS_API_KEY`, else `OPENAI_API_KEY`.
    pub api_key: Option<SecretString>,
    /// `EMBEDDINGS_MODEL`.
    pub model: String,
    /// `EMBEDDINGS_MIN_SIMILARITY`: the least similarity of meaning that covers a question.
    pub min_similarity: f32,
    /// `LLM_TIMEOUT_SECS`, shared with the chat model.
    pub timeout: Duration,
}

/// Everything Steward reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Discord settings.
    pub discord: DiscordConfig,
    /// Model settings.
    pub llm: LlmConfig,
    /// Embeddings for hybrid search, when configured.
    pub embeddings: Option<EmbeddingsConfig>,
    /// `STEWARD_LISTEN`.
    pub listen: SocketAddr,
    /// `STEWARD_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `STEWARD_TABLE`: the DynamoDB table (AWS mode).
    pub table: Option<String>,
    /// `STEWARD_EVENT_BUS`: the EventBridge bus (AWS mode).
    pub event_bus: Option<String>,
    /// `STEWARD_ADMIN_TOKEN`: the bearer token of the settings API.
    pub admin_token: Option<SecretString>,
    /// `STEWARD_SHARDS`: overrides Discord's recommended shard count.
    pub shards: Option<u32>,
    /// `STEWARD_GATEWAY_LISTEN`: where `steward gateway` serves `/healthz` and `/metrics`.
    pub gateway_listen: SocketAddr,
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// Returns the first malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut config = Self::from_lookup(|name| std::env::var(name).ok())?;
        if config.discord.bot_token.is_none()
            && let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY")
        {
            config.discord.bot_token = read_credential(&PathBuf::from(dir).join(BOT_TOKEN_CREDENTIAL))?;
        }
        Ok(config)
    }

    /// Reads variables through `lookup`; empty values count as unset.
    ///
    /// # Errors
    /// Returns the first malformed variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let secret = |name: &str| get(name).map(SecretString::from);

        let application_id = get("DISCORD_APPLICATION_ID")
            .map(|v| v.parse().map_err(|_| ConfigError::new("DISCORD_APPLICATION_ID", "must be a numeric Discord id")))
            .transpose()?;
        let public_key = get("DISCORD_PUBLIC_KEY")
            .map(|v| {
                if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(v.to_ascii_lowercase())
                } else {
                    Err(ConfigError::new(
                        "DISCORD_PUBLIC_KEY",
                        "must be the 64 hex characters shown in the Developer Portal",
                    ))
                }
            })
            .transpose()?;
        let api_base = get("DISCORD_API_BASE").unwrap_or_else(|| DEFAULT_DISCORD_API.to_owned());
        if !(api_base.starts_with("http://") || api_base.starts_with("https://")) {
            return Err(ConfigError::new("DISCORD_API_BASE", "must be an http(s) URL ending in /api/v10"));
        }
        let discord = DiscordConfig {
            application_id,
            public_key,
            bot_token: secret("DISCORD_BOT_TOKEN"),
            api_base,
            gateway_url: get("DISCORD_GATEWAY_URL"),
        };

        let base_url = get("OPENAI_BASE_URL");
        let api_key = secret("OPENAI_API_KEY");
        let provider = get("LLM_PROVIDER").map(|p| p.to_ascii_lowercase());
        let provider = provider.as_deref().unwrap_or(if base_url.is_some() || api_key.is_some() {
            "openai"
        } else {
            "extractive"
        });
        let timeout = get("LLM_TIMEOUT_SECS")
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|s| (1..=120).contains(s))
                    .map(Duration::from_secs)
                    .ok_or_else(|| ConfigError::new("LLM_TIMEOUT_SECS", "must be whole seconds between 1 and 120"))
            })
            .transpose()?
            .unwrap_or(steward_domain::model::DEFAULT_MODEL_TIMEOUT);
        let llm = match provider {
            "openai" => LlmConfig::OpenAi {
                base_url: base_url.unwrap_or_else(|| DEFAULT_OPENAI_BASE.to_owned()),
                api_key,
                model: get("LLM_MODEL").unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
                timeout,
            },
            "extractive" => LlmConfig::Extractive,
            "bedrock" => {
                return Err(ConfigError::new(
                    "LLM_PROVIDER",
                    "bedrock is not available in this version; use openai (any compatible server) or extractive",
                ));
            }
            other => {
                return Err(ConfigError::new(
                    "LLM_PROVIDER",
                    format!("unknown provider `{other}`; use openai or extractive"),
                ));
            }
        };

        let embeddings = get("EMBEDDINGS_MODEL")
            .map(|model| {
                let min_similarity = get("EMBEDDINGS_MIN_SIMILARITY")
                    .map(|v| {
                        v.parse::<f32>().ok().filter(|s| *s > 0.0 && *s <= 1.0).ok_or_else(|| {
                            ConfigError::new(
                                "EMBEDDINGS_MIN_SIMILARITY",
                                "must be a cosine similarity above 0 and at most 1, like 0.5",
                            )
                        })
                    })
                    .transpose()?
                    .unwrap_or(steward_domain::answer::DEFAULT_MIN_SIMILARITY);
                Ok::<_, ConfigError>(EmbeddingsConfig {
                    base_url: get("EMBEDDINGS_BASE_URL")
                        .or_else(|| get("OPENAI_BASE_URL"))
                        .unwrap_or_else(|| DEFAULT_OPENAI_BASE.to_owned()),
                    api_key: secret("EMBEDDINGS_API_KEY").or_else(|| secret("OPENAI_API_KEY")),
                    model,
                    min_similarity,
                    timeout,
                })
            })
            .transpose()?;

        let listen = get("STEWARD_LISTEN")
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned())
            .parse()
            .map_err(|_| ConfigError::new("STEWARD_LISTEN", "must be an address like 127.0.0.1:8080"))?;
        let shards = get("STEWARD_SHARDS")
            .map(|v| {
                v.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| ConfigError::new("STEWARD_SHARDS", "must be a shard count between 1 and 1024"))
            })
            .transpose()?;
        let gateway_listen = get("STEWARD_GATEWAY_LISTEN")
            .unwrap_or_else(|| DEFAULT_GATEWAY_LISTEN.to_owned())
            .parse()
            .map_err(|_| ConfigError::new("STEWARD_GATEWAY_LISTEN", "must be an address like 127.0.0.1:9090"))?;
        Ok(Self {
            shards,
            gateway_listen,
            discord,
            llm,
            embeddings,
            listen,
            data_dir: get("STEWARD_DATA_DIR").map_or_else(|| PathBuf::from("./data"), PathBuf::from),
            table: get("STEWARD_TABLE"),
            event_bus: get("STEWARD_EVENT_BUS"),
            admin_token: secret("STEWARD_ADMIN_TOKEN"),
        })
    }

    /// How answers are made: the defaults, with the similarity threshold of the configured
    /// embeddings model.
    #[must_use]
    pub fn answer_config(&self) -> steward_domain::answer::AnswerConfig {
        let mut answer = steward_domain::answer::AnswerConfig::default();
        if let Some(embeddings) = &self.embeddings {
            answer.thresholds.similarity = embeddings.min_similarity;
        }
        answer
    }

    /// A variable AWS mode cannot run without.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming the variable when it is unset.
    pub fn require<'a, T>(value: &'a Option<T>, variable: &'static str) -> Result<&'a T, ConfigError> {
        value.as_ref().ok_or_else(|| ConfigError::new(variable, "must be set"))
    }

    /// `STEWARD_TABLE`, which AWS mode cannot run without.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming `STEWARD_TABLE` when it is unset.
    pub fn require_table(&self) -> Result<&str, ConfigError> {
        Self::require(&self.table, "STEWARD_TABLE").map(String::as_str)
    }

    /// `STEWARD_EVENT_BUS`, which AWS mode cannot run without.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming `STEWARD_EVENT_BUS` when it is unset.
    pub fn require_event_bus(&self) -> Result<&str, ConfigError> {
        Self::require(&self.event_bus, "STEWARD_EVENT_BUS").map(String::as_str)
    }

    /// `STEWARD_ADMIN_TOKEN`, which the settings API cannot run without in AWS mode.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming `STEWARD_ADMIN_TOKEN` when it is unset.
    pub fn require_admin_token(&self) -> Result<&SecretString, ConfigError> {
        Self::require(&self.admin_token, "STEWARD_ADMIN_TOKEN")
    }

    /// What is missing for Discord to reach this deployment, as operator-facing lines.
    #[must_use]
    pub fn missing_for_live(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.discord.application_id.is_none() {
            missing.push("DISCORD_APPLICATION_ID is not set: `/ask` cannot be registered or answered");
        }
        if self.discord.public_key.is_none() {
            missing.push("DISCORD_PUBLIC_KEY is not set: the interactions endpoint refuses every request");
        }
        if self.discord.bot_token.is_none() {
            missing.push(
                "DISCORD_BOT_TOKEN is not set: no gateway (@mention and all-messages modes), no command registration",
            );
        }
        if matches!(self.llm, LlmConfig::Extractive) {
            missing.push("no LLM configured (OPENAI_BASE_URL / OPENAI_API_KEY): answers quote the knowledge base");
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn embeddings_are_off_unless_a_model_is_named_and_share_the_openai_server_by_default() {
        let c = config(&[("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"), ("OPENAI_API_KEY", "sk-x")]).unwrap();
        assert!(c.embeddings.is_none());
        assert!(
            (c.answer_config().thresholds.similarity - steward_domain::answer::DEFAULT_MIN_SIMILARITY).abs()
                < f32::EPSILON
        );
        let c = config(&[
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ("OPENAI_API_KEY", "sk-x"),
            ("EMBEDDINGS_MODEL", "text-embedding-3-small"),
            ("EMBEDDINGS_MIN_SIMILARITY", "0.42"),
        ])
        .unwrap();
        let embeddings = c.embeddings.clone().unwrap();
        assert_eq!(embeddings.base_url, "http://127.0.0.1:1/v1");
        assert!(embeddings.api_key.is_some());
        assert_eq!(embeddings.model, "text-embedding-3-small");
        assert!((c.answer_config().thresholds.similarity - 0.42).abs() < f32::EPSILON);
        let own = config(&[("EMBEDDINGS_MODEL", "nomic-embed-text"), ("EMBEDDINGS_BASE_URL", "http://127.0.0.1:2/v1")])
            .unwrap();
        assert_eq!(own.embeddings.unwrap().base_url, "http://127.0.0.1:2/v1");
        assert!(matches!(own.llm, LlmConfig::Extractive), "embeddings alone do not switch the chat model on");
        for bad in ["0", "1.5", "high"] {
            let error = config(&[("EMBEDDINGS_MODEL", "m"), ("EMBEDDINGS_MIN_SIMILARITY", bad)]).unwrap_err();
            assert_eq!(error.variable, "EMBEDDINGS_MIN_SIMILARITY");
        }
    }

    #[test]
    fn nothing_set_means_standalone_defaults_and_the_extractive_model() {
        let c = config(&[]).unwrap();
        assert!(matches!(c.llm, LlmConfig::Extractive));
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.discord.api_base, DEFAULT_DISCORD_API);
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.missing_for_live().len(), 4);
    }

    #[test]
    fn an_openai_base_url_selects_openai() {
        let c = config(&[("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"), ("LLM_MODEL", "llama3")]).unwrap();
        assert!(matches!(c.llm, LlmConfig::OpenAi { ref model, .. } if model == "llama3"));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        assert_eq!(config(&[("DISCORD_PUBLIC_KEY", "xyz")]).unwrap_err().variable, "DISCORD_PUBLIC_KEY");
        assert_eq!(config(&[("DISCORD_APPLICATION_ID", "abc")]).unwrap_err().variable, "DISCORD_APPLICATION_ID");
        assert_eq!(config(&[("STEWARD_LISTEN", "nowhere")]).unwrap_err().variable, "STEWARD_LISTEN");
        assert_eq!(config(&[("LLM_PROVIDER", "magic")]).unwrap_err().variable, "LLM_PROVIDER");
        assert_eq!(config(&[("LLM_TIMEOUT_SECS", "0")]).unwrap_err().variable, "LLM_TIMEOUT_SECS");
        assert_eq!(config(&[("DISCORD_API_BASE", "discord.com")]).unwrap_err().variable, "DISCORD_API_BASE");
        assert_eq!(config(&[("STEWARD_SHARDS", "0")]).unwrap_err().variable, "STEWARD_SHARDS");
        assert_eq!(config(&[("STEWARD_GATEWAY_LISTEN", "x")]).unwrap_err().variable, "STEWARD_GATEWAY_LISTEN");
    }

    #[test]
    fn required_variables_are_named_when_missing() {
        let c = config(&[]).unwrap();
        let message = |e: ConfigError| e.to_string();
        assert_eq!(message(c.require_table().unwrap_err()), "STEWARD_TABLE: must be set");
        assert_eq!(message(c.require_event_bus().unwrap_err()), "STEWARD_EVENT_BUS: must be set");
        assert_eq!(message(c.require_admin_token().unwrap_err()), "STEWARD_ADMIN_TOKEN: must be set");
        assert_eq!(message(c.discord.require_application_id().unwrap_err()), "DISCORD_APPLICATION_ID: must be set");
        assert_eq!(message(c.discord.require_public_key().unwrap_err()), "DISCORD_PUBLIC_KEY: must be set");
        assert_eq!(message(c.discord.require_bot_token().unwrap_err()), "DISCORD_BOT_TOKEN: must be set");
    }

    #[test]
    fn required_variables_are_returned_when_set() {
        let key = "AB".repeat(32);
        let c = config(&[
            ("STEWARD_TABLE", "steward-table"),
            ("STEWARD_EVENT_BUS", "steward-bus"),
            ("STEWARD_ADMIN_TOKEN", "admin-secret"),
            ("DISCORD_APPLICATION_ID", "123"),
            ("DISCORD_PUBLIC_KEY", &key),
            ("DISCORD_BOT_TOKEN", "bot-secret"),
        ])
        .unwrap();
        assert_eq!(c.require_table().unwrap(), "steward-table");
        assert_eq!(c.require_event_bus().unwrap(), "steward-bus");
        assert_eq!(secrecy::ExposeSecret::expose_secret(c.require_admin_token().unwrap()), "admin-secret");
        assert_eq!(c.discord.require_application_id().unwrap(), ApplicationId::new(123).unwrap());
        assert_eq!(c.discord.require_public_key().unwrap(), "ab".repeat(32));
        assert_eq!(secrecy::ExposeSecret::expose_secret(c.discord.require_bot_token().unwrap()), "bot-secret");
    }

    #[test]
    fn the_bot_token_can_come_from_a_systemd_credential() {
        let dir = std::env::temp_dir().join(format!("steward-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(BOT_TOKEN_CREDENTIAL), "token-from-credential\n").unwrap();
        let token = read_credential(&dir.join(BOT_TOKEN_CREDENTIAL)).unwrap().unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&token), "token-from-credential");
        assert!(read_credential(&dir.join("missing")).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = config(&[("DISCORD_BOT_TOKEN", "very-secret-token"), ("STEWARD_ADMIN_TOKEN", "admin-secret")]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret-token") && !shown.contains("admin-secret"), "{shown}");
    }
}
