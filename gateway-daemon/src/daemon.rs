//! `steward gateway`, the AWS-mode daemon: DynamoDB settings in, EventBridge (via a disk spool) out.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use steward_config::Config;
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::ports::SettingsStore;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::gateway::forward::{CountingSink, Forward, SPOOL_LIMIT_BYTES, Spooled};
use crate::gateway::metrics::Metrics;
use crate::gateway::{self, Gateway, GatewayOptions};

/// How often spooled events are offered to the destination again.
pub const SPOOL_DRAIN_EVERY: Duration = Duration::from_secs(5);

/// Binds `STEWARD_GATEWAY_LISTEN`, where health and metrics are served.
///
/// # Errors
/// Returns the I/O error, naming the variable.
pub async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    crate::serve::bind(config.gateway_listen, "STEWARD_GATEWAY_LISTEN").await
}

/// The composed daemon: the gateway, the disk spool (in `STEWARD_DATA_DIR`) in front of the
/// destination, and the counters served on `STEWARD_GATEWAY_LISTEN`.
pub struct Daemon {
    options: GatewayOptions,
    gateway: Arc<Gateway>,
    spool: Arc<Spooled>,
    metrics: Arc<Metrics>,
}

impl Daemon {
    /// Wires the AWS adapters (DynamoDB settings, EventBridge), or with `count_only` the embedded
    /// store and a counting sink (benchmarks).
    ///
    /// # Errors
    /// Fails when a variable AWS mode needs is unset, or the store or spool cannot be opened.
    pub async fn build(config: &Config, count_only: bool) -> anyhow::Result<Self> {
        // Fail on a missing Discord variable before opening stores or reaching out to AWS.
        config.discord.require_bot_token()?;
        config.discord.require_application_id()?;
        let (store, destination): (Arc<dyn SettingsStore>, Arc<dyn Forward>) = if count_only {
            let store = steward_embedded::SqliteStore::open_in(&config.data_dir)?;
            (Arc::new(store), Arc::new(CountingSink::default()))
        } else {
            let table = config.require_table()?;
            let bus = config.require_event_bus()?;
            let aws = aws_config::load_from_env().await;
            (
                Arc::new(steward_dynamodb::DynamoStore::from_sdk_config(&aws, table)),
                Arc::new(steward_eventbridge::EventBridgeBus::from_sdk_config(&aws, bus)),
            )
        };
        Self::from_ports(config, store, destination, Arc::new(SystemClock))
    }

    /// Wires the daemon over the given settings store, destination and clock.
    ///
    /// # Errors
    /// Fails when the bot token or application id is unset, or the spool cannot be opened.
    pub fn from_ports(
        config: &Config,
        settings: Arc<dyn SettingsStore>,
        destination: Arc<dyn Forward>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::default());
        let spool_dir = config.data_dir.join("spool");
        let spool = Spooled::new(destination, &spool_dir, SPOOL_LIMIT_BYTES, Arc::clone(&metrics))
            .with_context(|| format!("opening the spool in {}", spool_dir.display()))?;
        let spool = Arc::new(spool);
        let forward: Arc<dyn Forward> = spool.clone();
        let (options, gateway) = Gateway::from_config(config, settings, forward, Arc::clone(&metrics), clock)?;
        Ok(Self { options, gateway, spool, metrics })
    }

    /// The counters `/metrics` exports and `/healthz` judges by.
    #[must_use]
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Holds the gateway with `/healthz` and `/metrics` on `listener`, draining the spool every
    /// [`SPOOL_DRAIN_EVERY`], until `shutdown` or a fatal close; returns the exit status
    /// ([`gateway::Exit::status`]).
    ///
    /// # Errors
    /// Returns the server's I/O error or a gateway start-up failure.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<u8> {
        let Self { options, gateway, spool, metrics } = self;
        let router = gateway::health_router(Arc::clone(&metrics)).merge(gateway::metrics_router(metrics));
        let (stop, mut stopped) = watch::channel(false);
        let drain = tokio::spawn(spool.drain_forever(SPOOL_DRAIN_EVERY, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        let exit = crate::serve::serve_with_gateway(listener, router, Some((options, gateway)), &stop, shutdown).await;
        drain.await.context("the spool task panicked")?;
        Ok(exit?.status())
    }
}
