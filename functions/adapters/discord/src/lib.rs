//! Discord's REST API for Steward, over twilight-http.
//!
//! twilight-http keeps Discord's per-route buckets, waits out 429s by their headers and retries,
//! and stops after a 401 on the bot token. This adapter adds what it leaves to callers: an overall
//! deadline per call (so a storm of 429s cannot hold a worker forever), a short backoff on 5xx and
//! network errors, and `allowed_mentions` that ping no one (or only the one member a message
//! names) on every message. Moderation's calls are in `moderation.rs`.

mod commands;
mod moderation;

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use steward_domain::ids::{ApplicationId, ChannelId, GuildId, InteractionToken, MessageId};
use steward_domain::message::OutboundMessage;
use steward_domain::ports::{DiscordError, DiscordErrorKind, DiscordRest};
use twilight_http::Client;
use twilight_http::error::ErrorType;
use twilight_http::request::channel::reaction::RequestReactionType;
use twilight_http::request::{Request, RequestBuilder};
use twilight_http::response::marker::EmptyBody;
use twilight_http::routing::Route;
use twilight_model::channel::message::{AllowedMentions, MessageFlags};
use twilight_model::id::Id;

/// Discord's real API base.
pub const DISCORD_API: &str = "https://discord.com/api/v10";
/// How many times one call is retried after a 5xx or network error.
const RETRIES: u32 = 3;

/// A `DISCORD_API_BASE` that is not `http(s)://host[:port]/api/v10`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DISCORD_API_BASE `{0}` must look like https://discord.com/api/v10 or http://127.0.0.1:PORT/api/v10")]
pub struct ApiBaseError(String);

/// The Discord REST adapter.
#[derive(Debug)]
pub struct TwilightRest {
    client: Client,
    no_pings: AllowedMentions,
    deadline: Duration,
}

/// Settings for [`TwilightRest`].
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// `DISCORD_API_BASE`.
    pub api_base: String,
    /// The bot token, needed for command registration and moderation; interaction webhooks
    /// work without it.
    pub bot_token: Option<SecretString>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The most one call may take, rate-limit waits and retries included.
    pub deadline: Duration,
}

impl RestConfig {
    /// Settings for `api_base` with no token and a 10 s timeout.
    #[must_use]
    pub fn new(api_base: impl Into<String>) -> Self {
        Self {
            api_base: api_base.into(),
            bot_token: None,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
        }
    }

    /// Settings for `api_base` acting as the bot with `bot_token` (when configured).
    #[must_use]
    pub fn bot(api_base: impl Into<String>, bot_token: Option<SecretString>) -> Self {
        Self { bot_token, ..Self::new(api_base) }
    }
}

/// `POST /channels/{channel.id}/messages`'s body, as Discord's API describes it.
#[derive(serde::Serialize)]
struct NewMessage<'a> {
    content: &'a str,
    allowed_mentions: AllowedMentions,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_reference: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    enforce_nonce: bool,
}

/// The message a reply answers.
#[derive(serde::Serialize)]
struct Reference {
    message_id: MessageId,
    fail_if_not_exists: bool,
}

/// Splits an API base into twilight's proxy host and whether it is plain HTTP.
///
/// # Errors
/// Returns [`ApiBaseError`] unless the base is `http(s)://host[:port]/api/v10`.
pub fn proxy_of(api_base: &str) -> Result<Option<(String, bool)>, ApiBaseError> {
    let base = api_base.trim_end_matches('/');
    if base == DISCORD_API {
        return Ok(None);
    }
    let (use_http, rest) = if let Some(rest) = base.strip_prefix("http://") {
        (true, rest)
    } else if let Some(rest) = base.strip_prefix("https://") {
        (false, rest)
    } else {
        return Err(ApiBaseError(api_base.to_owned()));
    };
    match rest.split_once('/') {
        Some((host, "api/v10")) if !host.is_empty() => Ok(Some((host.to_owned(), use_http))),
        _ => Err(ApiBaseError(api_base.to_owned())),
    }
}

impl TwilightRest {
    /// Builds the client.
    ///
    /// # Errors
    /// Returns [`ApiBaseError`] for a malformed `api_base`.
    pub fn new(config: &RestConfig) -> Result<Self, ApiBaseError> {
        let mut builder = Client::builder().timeout(config.timeout);
        if let Some(token) = &config.bot_token {
            builder = builder.token(format!("Bot {}", token.expose_secret().trim_start_matches("Bot ")));
        }
        if let Some((host, use_http)) = proxy_of(&config.api_base)? {
            builder = builder.proxy(host, use_http);
        }
        Ok(Self { client: builder.build(), no_pings: AllowedMentions::default(), deadline: config.deadline })
    }

    /// Sends the request `build` makes (once per attempt) through [`Self::with_retries`] and
    /// returns the response body (empty for a 204). Raw requests share the client's buckets and
    /// 429 handling; a body is sent as JSON.
    async fn send<F>(&self, operation: &'static str, build: F) -> Result<Vec<u8>, DiscordError>
    where
        F: Fn() -> RequestBuilder,
    {
        let response = self
            .with_retries(operation, || {
                let request = build().build();
                async move { self.client.request::<EmptyBody>(request?).await }
            })
            .await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| DiscordError::new(DiscordErrorKind::Unavailable, operation).with_source(e))?;
        Ok(bytes.to_vec())
    }

    /// Posts `body` in `channel` and returns the new message's id.
    async fn post_message(
        &self,
        operation: &'static str,
        channel: ChannelId,
        body: &NewMessage<'_>,
    ) -> Result<MessageId, DiscordError> {
        #[derive(serde::Deserialize)]
        struct Created {
            id: MessageId,
        }
        let body = serde_json::to_vec(body)
            .map_err(|e| DiscordError::new(DiscordErrorKind::Rejected, operation).with_source(e))?;
        // twilight's typed builder cannot ask Discord to enforce the nonce.
        let route = Route::CreateMessage { channel_id: channel.get() };
        let bytes = self.send(operation, || Request::builder(&route).body(body.clone())).await?;
        parse::<Created>(operation, &bytes).map(|created| created.id)
    }

    /// Runs `call` within the deadline, retrying 5xx and network errors with a short backoff.
    async fn with_retries<T, F, Fut>(&self, operation: &'static str, call: F) -> Result<T, DiscordError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, twilight_http::Error>>,
    {
        tokio::time::timeout(self.deadline, retry(operation, call)).await.unwrap_or_else(|_| {
            Err(DiscordError::new(DiscordErrorKind::RateLimited, operation)
                .with_source(format!("no answer within {:?} (rate limited or slow)", self.deadline)))
        })
    }
}

async fn retry<T, F, Fut>(operation: &'static str, mut call: F) -> Result<T, DiscordError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, twilight_http::Error>>,
{
    let mut attempt = 0;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let (kind, wait) = classify(&error);
        attempt += 1;
        match wait {
            Some(wait) if attempt <= RETRIES => {
                tracing::info!(operation, attempt, wait_ms = wait.as_millis() as u64, ?kind, "retrying Discord");
                tokio::time::sleep(wait).await;
            }
            _ => return Err(DiscordError::new(kind, operation).with_code(discord_code(&error)).with_source(error)),
        }
    }
}

/// Discord's JSON error code in a refused response (`{"code": 50013, …}`), if any.
fn discord_code(error: &twilight_http::Error) -> Option<u32> {
    match error.kind() {
        twilight_http::error::ErrorType::Response { body, .. } => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("code").and_then(serde_json::Value::as_u64))
            .and_then(|code| u32::try_from(code).ok()),
        _ => None,
    }
}

/// Maps a twilight error to a kind and, when retrying may help, how long to wait first.
fn classify(error: &twilight_http::Error) -> (DiscordErrorKind, Option<Duration>) {
    match error.kind() {
        // twilight waits out and retries 429s itself; one only surfaces here if it gives up.
        ErrorType::Response { status, .. } => match status.get() {
            429 => (DiscordErrorKind::RateLimited, None),
            401 => (DiscordErrorKind::Unauthorized, None),
            403 => (DiscordErrorKind::Forbidden, None),
            404 => (DiscordErrorKind::NotFound, None),
            500..=599 => (DiscordErrorKind::Unavailable, Some(Duration::from_millis(250))),
            _ => (DiscordErrorKind::Rejected, None),
        },
        ErrorType::Unauthorized => (DiscordErrorKind::Unauthorized, None),
        ErrorType::RequestTimedOut | ErrorType::RequestError | ErrorType::RequestCanceled => {
            (DiscordErrorKind::Unavailable, Some(Duration::from_millis(250)))
        }
        _ => (DiscordErrorKind::Rejected, None),
    }
}

/// Reads a JSON response body Discord sent for `operation`.
fn parse<T: serde::de::DeserializeOwned>(operation: &'static str, bytes: &[u8]) -> Result<T, DiscordError> {
    serde_json::from_slice(bytes).map_err(|e| DiscordError::new(DiscordErrorKind::Rejected, operation).with_source(e))
}

/// Who a channel message may ping: no one, except the member it replies to and the one member
/// it names in [`OutboundMessage::ping`] — never `@everyone`, roles, or other users in the text.
fn mentions(message: &OutboundMessage) -> AllowedMentions {
    AllowedMentions {
        replied_user: message.reply_to.is_some(),
        users: message.ping.map(|user| Id::new(user.get())).into_iter().collect(),
        ..AllowedMentions::default()
    }
}

fn flags(message: &OutboundMessage) -> MessageFlags {
    if message.ephemeral { MessageFlags::EPHEMERAL } else { MessageFlags::empty() }
}

#[async_trait]
impl DiscordRest for TwilightRest {
    async fn edit_original(
        &self,
        app: ApplicationId,
        token: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError> {
        let interaction = self.client.interaction(Id::new(app.get()));
        self.with_retries("edit original response", || {
            interaction
                .update_response(token.expose())
                .content(Some(&message.content))
                .allowed_mentions(Some(&self.no_pings))
                .into_future()
        })
        .await
        .map(drop)
    }

    async fn create_followup(
        &self,
        app: ApplicationId,
        token: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError> {
        let interaction = self.client.interaction(Id::new(app.get()));
        self.with_retries("create follow-up", || {
            interaction
                .create_followup(token.expose())
                .content(&message.content)
                .flags(flags(message))
                .allowed_mentions(Some(&self.no_pings))
                .into_future()
        })
        .await
        .map(drop)
    }

    async fn create_message(&self, channel: ChannelId, message: &OutboundMessage) -> Result<MessageId, DiscordError> {
        let body = NewMessage {
            content: &message.content,
            allowed_mentions: mentions(message),
            // If the member deleted their message meanwhile, post the answer anyway.
            message_reference: message.reply_to.map(|id| Reference { message_id: id, fail_if_not_exists: false }),
            nonce: message.nonce.as_deref(),
            enforce_nonce: message.nonce.is_some(),
        };
        self.post_message("create message", channel, &body).await
    }

    async fn react(&self, channel: ChannelId, message: MessageId, emoji: &str) -> Result<(), DiscordError> {
        let emoji = RequestReactionType::Unicode { name: emoji };
        self.with_retries("add reaction", || {
            self.client.create_reaction(Id::new(channel.get()), Id::new(message.get()), &emoji).into_future()
        })
        .await
        .map(drop)
    }

    async fn trigger_typing(&self, channel: ChannelId) -> Result<(), DiscordError> {
        self.with_retries("trigger typing", || self.client.create_typing_trigger(Id::new(channel.get())).into_future())
            .await
            .map(drop)
    }

    async fn register_commands(&self, app: ApplicationId, guild: Option<GuildId>) -> Result<usize, DiscordError> {
        let commands = commands::steward_commands();
        let interaction = self.client.interaction(Id::new(app.get()));
        match guild {
            Some(guild) => {
                self.with_retries("register guild commands", || {
                    interaction.set_guild_commands(Id::new(guild.get()), &commands).into_future()
                })
                .await?;
            }
            None => {
                self.with_retries("register global commands", || {
                    interaction.set_global_commands(&commands).into_future()
                })
                .await?;
            }
        }
        Ok(commands.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_bases_map_to_twilight_proxies() {
        assert_eq!(proxy_of("https://discord.com/api/v10").unwrap(), None);
        assert_eq!(proxy_of("https://discord.com/api/v10/").unwrap(), None);
        assert_eq!(proxy_of("http://127.0.0.1:4000/api/v10").unwrap(), Some(("127.0.0.1:4000".into(), true)));
        assert_eq!(proxy_of("https://proxy.internal/api/v10").unwrap(), Some(("proxy.internal".into(), false)));
        assert!(proxy_of("http://127.0.0.1:4000").is_err());
        assert!(proxy_of("http://127.0.0.1:4000/api/v9").is_err());
        assert!(proxy_of("ftp://x/api/v10").is_err());
    }
}
