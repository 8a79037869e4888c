//! The gateway connection (D3, F5, F6, F28): holds Discord's gateway with twilight and hands on
//! the MESSAGE_CREATE events some feature needs, dropping the rest before any cost is paid.
//!
//! Resilience comes from twilight (heartbeats, zombie detection, RESUME after drops and op 7,
//! op 9 handled as Discord specifies) plus what is ours: the checkpoint advances only after an
//! event was handed on, is saved on shutdown (and every second), and a restart resumes from it;
//! close codes that must not reconnect end the process with a distinct exit status.

pub mod checkpoint;
pub mod convert;
pub mod directory;
pub mod forward;
pub mod metrics;
pub mod settings_cache;
mod shard;
#[cfg(test)]
mod testing;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use secrecy::{ExposeSecret, SecretString};
use steward_config::{Config, ConfigError};
use steward_domain::clock::Clock;
use steward_domain::ids::ApplicationId;
use steward_domain::ports::SettingsStore;
use tokio::sync::watch;
use twilight_gateway::queue::InMemoryQueue;
use twilight_gateway::{ConfigBuilder, Intents, Session, Shard, ShardId};

use self::forward::Forward;
use self::metrics::Metrics;
use self::settings_cache::SettingsCache;

/// The intents Steward asks for: guilds, guild messages and their content; no member cache.
pub const INTENTS: Intents = Intents::GUILDS.union(Intents::GUILD_MESSAGES).union(Intents::MESSAGE_CONTENT);
/// How old a checkpoint may be and still be worth a RESUME.
const RESUMABLE_FOR: Duration = Duration::from_secs(10 * 60);
/// The first wait after `GET /gateway/bot` fails; each further failure doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between `GET /gateway/bot` attempts.
const LAST_RETRY: Duration = Duration::from_secs(60);

/// Why the gateway stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A requested shutdown; sessions were saved for resuming.
    Shutdown,
    /// Discord closed with a code that must not be retried.
    Fatal(u16),
}

impl Exit {
    /// The process exit status: 0 for a shutdown; for fatal close codes, a distinct status that
    /// the systemd unit lists in `RestartPreventExitStatus`.
    #[must_use]
    pub const fn status(self) -> u8 {
        match self {
            Self::Shutdown => 0,
            Self::Fatal(4004) => 78,
            Self::Fatal(4010..=4012) => 79,
            Self::Fatal(4013 | 4014) => 80,
            Self::Fatal(_) => 1,
        }
    }

    /// What the operator should do, for the log line.
    #[must_use]
    pub const fn advice(self) -> &'static str {
        match self {
            Self::Shutdown => "stopped",
            Self::Fatal(4004) => "Discord rejected the bot token (4004): check DISCORD_BOT_TOKEN",
            Self::Fatal(4010..=4012) => {
                "Discord rejected the sharding or API version (4010-4012): check STEWARD_SHARDS"
            }
            Self::Fatal(4013 | 4014) => {
                "Discord rejected the intents (4013/4014): enable MESSAGE CONTENT INTENT for the bot in the Developer Portal"
            }
            Self::Fatal(_) => "Discord closed the gateway with a fatal code",
        }
    }
}

/// A failure before any shard could run.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// `GET /gateway/bot` failed.
    #[error("could not read the gateway settings from Discord (GET /gateway/bot)")]
    GatewayInfo(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The REST base is malformed.
    #[error(transparent)]
    ApiBase(#[from] steward_discord::ApiBaseError),
    /// The state directory cannot be used.
    #[error("the gateway state directory is not usable")]
    State(#[source] std::io::Error),
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// The bot token.
    pub token: SecretString,
    /// `DISCORD_API_BASE`, for `GET /gateway/bot`.
    pub api_base: String,
    /// `DISCORD_GATEWAY_URL`: overrides the gateway address (tests, proxies).
    pub gateway_url: Option<String>,
    /// `STEWARD_SHARDS`: overrides Discord's recommended shard count.
    pub shards: Option<u32>,
    /// Where checkpoints live.
    pub state_dir: PathBuf,
}

/// What every shard shares.
pub struct Gateway {
    /// Guild settings for the relay filter.
    pub settings: Arc<SettingsCache>,
    /// Where events go.
    pub forward: Arc<dyn Forward>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The application the bot token belongs to.
    pub application_id: ApplicationId,
    /// Channel names, thread parents and guild roles seen on the gateway.
    pub directory: directory::Directory,
}

impl Gateway {
    /// The gateway `config` describes, for `steward run` and `steward gateway` alike: connection
    /// options, and what the shards share (settings cached over `settings`, events to `forward`,
    /// time from `clock`).
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming `DISCORD_BOT_TOKEN` or `DISCORD_APPLICATION_ID` when
    /// either is unset.
    pub fn from_config(
        config: &Config,
        settings: Arc<dyn SettingsStore>,
        forward: Arc<dyn Forward>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Result<(GatewayOptions, Arc<Self>), ConfigError> {
        let token = config.discord.require_bot_token()?.clone();
        let application_id = config.discord.require_application_id()?;
        let options = GatewayOptions {
            token,
            api_base: config.discord.api_base.clone(),
            gateway_url: config.discord.gateway_url.clone(),
            shards: config.shards,
            state_dir: config.data_dir.clone(),
        };
        let settings = Arc::new(SettingsCache::with_clock(settings, settings_cache::TTL, clock));
        Ok((
            options,
            Arc::new(Self { settings, forward, metrics, application_id, directory: directory::Directory::default() }),
        ))
    }

    /// The gateway's clock (checkpoint times, resume ages): the one its settings cache ages
    /// entries by, so a gateway has exactly one notion of "now".
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.settings.clock()
    }
}

#[derive(serde::Deserialize)]
struct GatewayBot {
    shards: u32,
    session_start_limit: StartLimit,
}

#[derive(serde::Deserialize)]
struct StartLimit {
    total: u32,
    remaining: u32,
    reset_after: u64,
    max_concurrency: u16,
}

/// Why `GET /gateway/bot` failed.
#[derive(Debug)]
enum InfoError {
    /// Discord refused the token: as fatal as close code 4004.
    Unauthorized,
    /// Anything else; worth retrying unless the API base itself is malformed.
    Other(GatewayError),
}

/// Reads the gateway settings, retrying transient failures with backoff until `shutdown`.
async fn gateway_bot_with_retry(
    options: &GatewayOptions,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<GatewayBot>, InfoError> {
    with_backoff(|| gateway_bot(options), shutdown).await
}

/// Calls `attempt` until it succeeds or fails for good, waiting [`FIRST_RETRY`], then twice as
/// long each time (at most [`LAST_RETRY`]) after transient failures. `Ok(None)`: `shutdown`
/// turned true while waiting.
async fn with_backoff<T, F, Fut>(mut attempt: F, shutdown: &mut watch::Receiver<bool>) -> Result<Option<T>, InfoError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, InfoError>>,
{
    let mut wait = FIRST_RETRY;
    loop {
        match attempt().await {
            Ok(info) => return Ok(Some(info)),
            Err(InfoError::Unauthorized) => return Err(InfoError::Unauthorized),
            Err(InfoError::Other(GatewayError::ApiBase(error))) => return Err(InfoError::Other(error.into())),
            Err(InfoError::Other(error)) => {
                tracing::warn!(error = &error as &dyn std::error::Error, retry_in = ?wait, "gateway settings unavailable");
            }
        }
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return Ok(None),
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(LAST_RETRY);
    }
}

/// Reads the recommended shard count and the session-start budget.
async fn gateway_bot(options: &GatewayOptions) -> Result<GatewayBot, InfoError> {
    let mut builder = twilight_http::Client::builder().token(format!("Bot {}", options.token.expose_secret()));
    if let Some((host, use_http)) =
        steward_discord::proxy_of(&options.api_base).map_err(|e| InfoError::Other(e.into()))?
    {
        builder = builder.proxy(host, use_http);
    }
    let client = builder.build();
    let other = |e: Box<dyn std::error::Error + Send + Sync>| InfoError::Other(GatewayError::GatewayInfo(e));
    let response = match client.gateway().authed().await {
        Ok(response) => response,
        Err(error) => {
            let unauthorized = match error.kind() {
                twilight_http::error::ErrorType::Unauthorized => true,
                twilight_http::error::ErrorType::Response { status, .. } => status.get() == 401,
                _ => false,
            };
            return Err(if unauthorized { InfoError::Unauthorized } else { other(Box::new(error)) });
        }
    };
    let bytes = response.bytes().await.map_err(|e| other(Box::new(e)))?;
    serde_json::from_slice(&bytes).map_err(|e| other(Box::new(e)))
}

/// Connects every shard and runs until `shutdown` turns true or a shard closes fatally.
///
/// Transient failures to read the gateway settings are retried with backoff; a refused token
/// is reported as [`Exit::Fatal`]`(4004)`.
///
/// # Errors
/// Returns [`GatewayError`] for a malformed API base or an unusable state directory.
pub async fn run(
    options: GatewayOptions,
    gateway: Arc<Gateway>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Exit, GatewayError> {
    std::fs::create_dir_all(&options.state_dir).map_err(GatewayError::State)?;
    let info = match gateway_bot_with_retry(&options, &mut shutdown).await {
        Ok(Some(info)) => info,
        Ok(None) => return Ok(Exit::Shutdown),
        Err(InfoError::Unauthorized) => return Ok(Exit::Fatal(4004)),
        Err(InfoError::Other(error)) => return Err(error),
    };
    let count = options.shards.unwrap_or(info.shards).max(1);
    gateway.metrics.shards_total.store(u64::from(count), Ordering::Relaxed);
    let limit = &info.session_start_limit;
    if limit.remaining < count {
        tracing::warn!(
            remaining = limit.remaining,
            reset_after_ms = limit.reset_after,
            "Discord's session-start budget is nearly used up; identifies will wait for it to reset"
        );
    }
    let queue = InMemoryQueue::new(
        limit.max_concurrency,
        limit.remaining,
        Duration::from_millis(limit.reset_after),
        limit.total,
    );
    tracing::info!(shards = count, max_concurrency = limit.max_concurrency, "connecting to the gateway");
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..count {
        let (shard, bot) = build_shard(&options, ShardId::new(id, count), queue.clone(), gateway.clock().as_ref());
        let path = checkpoint::path(&options.state_dir, id);
        tasks.spawn(shard::run(shard, bot, Arc::clone(&gateway), path, shutdown.clone()));
    }
    let mut exit = Exit::Shutdown;
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(Exit::Fatal(code)) => {
                exit = Exit::Fatal(code);
                // One fatal shard means the token or intents are wrong for all: stop the rest.
                tasks.abort_all();
            }
            Ok(Exit::Shutdown) => {}
            Err(error) if error.is_cancelled() => {}
            Err(error) => tracing::error!(%error, "a shard task failed"),
        }
    }
    Ok(exit)
}

/// A shard, resuming the saved session when it is recent, and the bot id that session had.
fn build_shard(
    options: &GatewayOptions,
    id: ShardId,
    queue: InMemoryQueue,
    clock: &dyn Clock,
) -> (Shard<InMemoryQueue>, Option<steward_domain::ids::UserId>) {
    let mut bot = None;
    let mut builder = ConfigBuilder::new(options.token.expose_secret().to_owned(), INTENTS).queue(queue);
    if let Some(url) = &options.gateway_url {
        builder = builder.proxy_url(url.trim_end_matches('/').to_owned());
    }
    if let Some(saved) = checkpoint::load(&checkpoint::path(&options.state_dir, id.number())) {
        let age = clock.now().as_secs().saturating_sub(saved.saved_at);
        if u64::try_from(age).unwrap_or(u64::MAX) < RESUMABLE_FOR.as_secs() {
            tracing::info!(shard = id.number(), sequence = saved.sequence, "resuming the saved gateway session");
            bot = saved.bot_user_id;
            builder = builder.session(Session::new(saved.sequence, saved.session_id));
            if let Some(url) = saved.resume_url {
                builder = builder.resume_url(url);
            }
        }
    }
    (Shard::with_config(id, builder.build()), bot)
}

/// `/healthz`: 200 once every shard [`run`] started has a session; 503 before, including
/// while the shard count is not known yet.
pub fn health_router(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/healthz",
        get(move || {
            let (status, body) = health(&metrics);
            async move { (status, axum::Json(body)) }
        }),
    )
}

/// The health verdict and its body: ready only when the shard count is known and every shard
/// has a session.
fn health(metrics: &Metrics) -> (StatusCode, serde_json::Value) {
    let total = metrics.shards_total.load(Ordering::Relaxed);
    let ready = metrics.shards_ready.load(Ordering::Relaxed);
    let status = if total > 0 && ready >= total { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, serde_json::json!({ "shards": total, "shards_ready": ready }))
}

/// `/metrics` in Prometheus' text format.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = metrics.render();
            async move { ([("content-type", "text/plain; version=0.0.4")], text).into_response() }
        }),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::time::Instant;

    use super::*;

    #[test]
    fn health_waits_for_the_shard_count_and_every_shard() {
        let metrics = Metrics::default();
        assert_eq!(health(&metrics).0, StatusCode::SERVICE_UNAVAILABLE, "shard count unknown");
        metrics.shards_total.store(2, Ordering::Relaxed);
        metrics.shards_ready.store(1, Ordering::Relaxed);
        assert_eq!(
            health(&metrics),
            (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"shards": 2, "shards_ready": 1}))
        );
        metrics.shards_ready.store(2, Ordering::Relaxed);
        assert_eq!(health(&metrics).0, StatusCode::OK);
    }

    fn unavailable() -> InfoError {
        InfoError::Other(GatewayError::GatewayInfo("503 from Discord".into()))
    }

    #[tokio::test(start_paused = true)]
    async fn gateway_settings_are_retried_with_capped_exponential_backoff() {
        let (_stop, mut shutdown) = watch::channel(false);
        let started = Instant::now();
        let calls = Mutex::new(Vec::new());
        let result = with_backoff(
            || {
                let mut calls = calls.lock().unwrap();
                calls.push(started.elapsed().as_secs());
                let failed = calls.len() <= 8;
                async move { if failed { Err(unavailable()) } else { Ok(()) } }
            },
            &mut shutdown,
        )
        .await;
        assert!(matches!(result, Ok(Some(()))));
        // Waits of 1, 2, 4, 8, 16, 32, then 60, 60 seconds.
        assert_eq!(*calls.lock().unwrap(), [0, 1, 3, 7, 15, 31, 63, 123, 183]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_token_is_not_retried_and_shutdown_ends_the_wait() {
        let (stop, mut shutdown) = watch::channel(false);
        let refused = with_backoff(|| async { Err::<(), _>(InfoError::Unauthorized) }, &mut shutdown).await;
        assert!(matches!(refused, Err(InfoError::Unauthorized)));

        let waiting =
            tokio::spawn(async move { with_backoff(|| async { Err::<(), _>(unavailable()) }, &mut shutdown).await });
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        stop.send(true).unwrap();
        assert!(matches!(waiting.await.unwrap(), Ok(None)));
    }
}
