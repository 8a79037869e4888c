//! Standalone mode (`steward run`): every service in one process on the embedded store (D5),
//! including the gateway connection when a bot token is configured.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use secrecy::SecretString;
use steward_config::Config;
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::ask::AskIntake;
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::ids::UserId;
use steward_domain::moderation::admin::{Deployment, ModerationAdmin};
use steward_domain::ports::Ports;
use steward_domain::worker::Worker;
use steward_embedded::SqliteStore;
use steward_http::{
    InteractionsState, SettingsApiState, Verifier, health_router, interactions_router, settings_router,
};
use steward_search::TantivySearch;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::gateway::directory::CachedRoles;
use crate::gateway::metrics::Metrics;
use crate::gateway::{self, Gateway, GatewayOptions};
use crate::local_bus::{LocalBus, local_bus, run_worker};

/// Where the generated admin token is kept when `STEWARD_ADMIN_TOKEN` is unset.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Binds `STEWARD_LISTEN`, where every route is served.
///
/// # Errors
/// Returns the I/O error, naming the variable.
pub async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    crate::serve::bind(config.listen, "STEWARD_LISTEN").await
}

/// The composed standalone application: routes, the background worker, and the gateway.
pub struct App {
    router: Router,
    worker: JoinHandle<()>,
    admin_token: Arc<SecretString>,
    store: SqliteStore,
    gateway: Option<(GatewayOptions, Arc<Gateway>)>,
    bus: LocalBus,
    metrics: Arc<Metrics>,
}

impl App {
    /// Opens the embedded store in `STEWARD_DATA_DIR` and wires every service.
    ///
    /// # Errors
    /// Fails when the store cannot be opened, a configured key is invalid, or the model or
    /// Discord client cannot be built.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = SqliteStore::open_in(&config.data_dir)
            .with_context(|| format!("opening the embedded store in {}", config.data_dir.display()))?;
        let admin_token = Arc::new(admin_token(config, &config.data_dir)?);

        let verifier = match (config.discord.application_id, config.discord.public_key.as_deref()) {
            (Some(app), Some(key)) => Verifier::from_hex([(app, key)]).context("DISCORD_PUBLIC_KEY")?,
            _ => Verifier::default(),
        };
        let discord =
            Arc::new(TwilightRest::new(&RestConfig::bot(&config.discord.api_base, config.discord.bot_token.clone()))?);
        let model = steward_openai::model_from_config(&config.llm).context("building the language model client")?;
        let (bus, rx) = local_bus();
        let shared = Arc::new(store.clone());

        let embedder = steward_openai::embedder_from_config(config.embeddings.as_ref())
            .context("building the embeddings client")?;
        let mut search = TantivySearch::new(shared.clone());
        if let Some(embedder) = &embedder {
            search = search.with_embedder(Arc::clone(embedder));
        }
        let metrics = Arc::new(Metrics::default());
        // Without a bot token and application id there is no gateway; the banner says so.
        let gateway =
            Gateway::from_config(config, shared.clone(), Arc::new(bus.clone()), Arc::clone(&metrics), clock.clone())
                .ok();

        let mut ports =
            Ports::with_store(&shared, Arc::new(search), Arc::clone(&model), Arc::clone(&discord), clock.clone());
        if let Some((_, gateway)) = &gateway {
            // Moderation reads the guild's roles from what the gateway saw, REST only before that.
            ports.moderation = Arc::new(CachedRoles::new(Arc::clone(&discord), gateway.directory.clone()));
        }
        let moderation_rest = Arc::clone(&ports.moderation);
        let worker = tokio::spawn(run_worker(rx, Worker::new(&ports, config.answer_config())));

        let intake = AskIntake::new(shared.clone(), shared.clone(), Arc::new(bus.clone()), clock.clone());
        let router = Router::new()
            .merge(health_router())
            .merge(gateway::metrics_router(Arc::clone(&metrics)))
            .merge(interactions_router(InteractionsState {
                verifier: Arc::new(verifier),
                intake,
                clock: clock.clone(),
            }))
            .merge(settings_router(SettingsApiState {
                settings: shared.clone(),
                knowledge: shared.clone(),
                embedder,
                moderation: Some(ModerationAdmin {
                    cases: shared.clone(),
                    usage: shared.clone(),
                    rest: moderation_rest,
                    model,
                    bot: config.discord.application_id.and_then(|app| UserId::new(app.get()).ok()),
                    clock: clock.clone(),
                    deployment: Deployment { gateway_running: Some(gateway.is_some()), message_content_intent: None },
                }),
                usage: shared.clone(),
                gaps: shared,
                clock,
                admin_token: Some(admin_token.clone()),
            }));
        Ok(Self { router, worker, admin_token, store, gateway, bus, metrics })
    }
}

impl App {
    /// The admin token the settings API accepts.
    #[must_use]
    pub fn admin_token(&self) -> &SecretString {
        &self.admin_token
    }

    /// The embedded store (for tools and tests).
    #[must_use]
    pub fn store(&self) -> &SqliteStore {
        &self.store
    }

    /// The gateway counters.
    #[must_use]
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Serves on `listener` (and holds the gateway when configured) until `shutdown` resolves
    /// or the gateway closes fatally; then lets in-flight answers finish.
    ///
    /// Returns the process exit status: 0, or the gateway's fatal status (see
    /// [`gateway::Exit::status`]).
    ///
    /// # Errors
    /// Returns the server's I/O error or a gateway start-up failure.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<u8> {
        let Self { router, worker, gateway, bus, .. } = self;
        let (stop, _) = watch::channel(false);
        let exit = crate::serve::serve_with_gateway(listener, router, gateway, &stop, shutdown).await;
        // The router and the gateway held the bus; with them gone the worker drains and stops.
        drop(bus);
        worker.await.context("the worker task panicked")?;
        Ok(exit?.status())
    }
}

/// The configured admin token, or one generated once and kept (mode 0600) in the data directory.
fn admin_token(config: &Config, data_dir: &Path) -> anyhow::Result<SecretString> {
    if let Some(token) = &config.admin_token {
        return Ok(token.clone());
    }
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing.into());
        }
    }
    let token = hex::encode(rand::random::<[u8; 24]>());
    write_private(&path, &token).with_context(|| format!("writing {}", path.display()))?;
    Ok(token.into())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Prints where Steward listens and what is missing to go live.
pub fn print_banner(config: &Config, addr: std::net::SocketAddr, token_source: &str) {
    println!("Steward is running (standalone, embedded store in {})", config.data_dir.display());
    println!("  interactions endpoint  http://{addr}/discord/webhook");
    println!("  settings API           http://{addr}/api/…  (bearer token: {token_source})");
    println!("  health, metrics        http://{addr}/healthz, http://{addr}/metrics");
    if config.discord.bot_token.is_some() && config.discord.application_id.is_some() {
        println!("  gateway                connecting (@mention and all-messages modes)");
    }
    let missing = config.missing_for_live();
    if !missing.is_empty() {
        println!("To go live:");
        for line in missing {
            println!("  - {line}");
        }
    }
}

/// Where the admin token comes from, for the banner (never the token itself).
#[must_use]
pub fn token_source(config: &Config) -> String {
    if config.admin_token.is_some() {
        "STEWARD_ADMIN_TOKEN".into()
    } else {
        format!("in {}", config.data_dir.join(ADMIN_TOKEN_FILE).display())
    }
}
