//! `steward`: run Steward on one machine, and the operator tools.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use steward_config::Config;
use steward_daemon::{gateway, invite, kb_import, standalone, systemd, telemetry};
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::ids::GuildId;
use steward_domain::knowledge::KbScope;
use steward_domain::ports::{DiscordRest, KnowledgeStore, SettingsStore};

#[derive(Parser)]
#[command(name = "steward", version, about = "An AI support and moderation bot for Discord")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process: embedded store, worker, HTTP routes, gateway.
    Run,
    /// Hold the Discord gateway and forward messages to EventBridge (AWS mode).
    Gateway {
        /// Forward nothing: count events (benchmarks). Settings come from STEWARD_DATA_DIR.
        #[arg(long, hide = true)]
        count_only: bool,
    },
    /// Register the /ask command with Discord (globally, or instantly for one guild).
    RegisterCommands {
        /// Register for this guild only (updates instantly; good for testing).
        #[arg(long)]
        guild: Option<GuildId>,
    },
    /// Print the "Add to Discord" invite link.
    InviteUrl {
        /// Ask only for what answering needs (no moderation permissions).
        #[arg(long)]
        answer_only: bool,
    },
    /// Manage the knowledge base.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
}

#[derive(Subcommand)]
enum KbCommand {
    /// Import Markdown/text files or folders (into DynamoDB when STEWARD_TABLE is set).
    Import {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Import into this guild's knowledge base instead of the global one.
        #[arg(long)]
        guild: Option<GuildId>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    let config = Config::from_env()?;
    match cli.command {
        Command::Run => run(config).await,
        Command::Gateway { count_only } => gateway(config, count_only).await,
        Command::RegisterCommands { guild } => {
            let app = *Config::require(&config.discord.application_id, "DISCORD_APPLICATION_ID")?;
            Config::require(&config.discord.bot_token, "DISCORD_BOT_TOKEN")?;
            let rest = TwilightRest::new(&RestConfig {
                bot_token: config.discord.bot_token.clone(),
                ..RestConfig::new(config.discord.api_base.clone())
            })?;
            let count = rest.register_commands(app, guild).await.context("registering commands")?;
            match guild {
                Some(guild) => println!("Registered {count} command(s) for guild {guild} (available now)."),
                None => println!("Registered {count} global command(s) (may take a few minutes to appear)."),
            }
            Ok(())
        }
        Command::InviteUrl { answer_only } => {
            let app = *Config::require(&config.discord.application_id, "DISCORD_APPLICATION_ID")?;
            let permissions = if answer_only { invite::ANSWER_ONLY } else { invite::ALL_FEATURES };
            println!("{}", invite::invite_url(app, permissions));
            Ok(())
        }
        Command::Kb { command: KbCommand::Import { paths, guild } } => import(&config, &paths, guild).await,
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let app = standalone::App::build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding STEWARD_LISTEN={}", config.listen))?;
    standalone::print_banner(&config, listener.local_addr()?, &standalone::token_source(&config));
    systemd::spawn_watchdog();
    exit_with(app.serve(listener, shutdown_signal()).await?)
}

/// `steward gateway`: the AWS-mode daemon. Settings from DynamoDB, events to EventBridge,
/// a disk spool in `STEWARD_DATA_DIR` while AWS is unreachable.
async fn gateway(config: Config, count_only: bool) -> anyhow::Result<()> {
    let token = Config::require(&config.discord.bot_token, "DISCORD_BOT_TOKEN")?.clone();
    let application_id = *Config::require(&config.discord.application_id, "DISCORD_APPLICATION_ID")?;
    let metrics = Arc::new(gateway::metrics::Metrics::default());
    let (store, destination): (Arc<dyn SettingsStore>, Arc<dyn gateway::forward::Forward>) = if count_only {
        let store = steward_embedded::SqliteStore::open_in(&config.data_dir)?;
        (Arc::new(store), Arc::new(gateway::forward::CountingSink::default()))
    } else {
        let table = Config::require(&config.table, "STEWARD_TABLE")?;
        let bus = Config::require(&config.event_bus, "STEWARD_EVENT_BUS")?;
        let aws = aws_config::load_from_env().await;
        (
            Arc::new(steward_dynamodb::DynamoStore::from_sdk_config(&aws, table)),
            Arc::new(steward_eventbridge::EventBridgeBus::from_sdk_config(&aws, bus)),
        )
    };
    let spool = Arc::new(gateway::forward::Spooled::new(
        destination,
        &config.data_dir.join("spool"),
        gateway::forward::SPOOL_LIMIT_BYTES,
        Arc::clone(&metrics),
    )?);
    let shared = Arc::new(gateway::Gateway {
        settings: Arc::new(gateway::settings_cache::SettingsCache::new(store)),
        forward: spool.clone(),
        metrics: Arc::clone(&metrics),
        application_id,
    });
    let options = gateway::GatewayOptions {
        token,
        api_base: config.discord.api_base.clone(),
        gateway_url: config.discord.gateway_url.clone(),
        shards: config.shards,
        state_dir: config.data_dir.clone(),
    };
    let listener = tokio::net::TcpListener::bind(config.gateway_listen)
        .await
        .with_context(|| format!("binding STEWARD_GATEWAY_LISTEN={}", config.gateway_listen))?;
    let routes = gateway::health_router(Arc::clone(&metrics), config.shards.unwrap_or(1))
        .merge(gateway::metrics_router(Arc::clone(&metrics)));
    tokio::spawn(async move { axum::serve(listener, routes).await });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut drain_stop = stop_rx.clone();
    tokio::spawn(spool.drain_forever(std::time::Duration::from_secs(5), async move {
        let _ = drain_stop.wait_for(|stop| *stop).await;
    }));
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    systemd::spawn_watchdog();
    let exit = gateway::run(options, shared, stop_rx).await?;
    systemd::stopping();
    if exit != gateway::Exit::Shutdown {
        tracing::error!(status = exit.status(), "{}", exit.advice());
    }
    exit_with(exit.status())
}

/// Ends the process with `status` (0 returns normally).
fn exit_with(status: u8) -> anyhow::Result<()> {
    if status == 0 { Ok(()) } else { std::process::exit(i32::from(status)) }
}

async fn import(config: &Config, paths: &[PathBuf], guild: Option<GuildId>) -> anyhow::Result<()> {
    let files = kb_import::collect_files(paths)?;
    if files.is_empty() {
        bail!("no Markdown or text files found (looked for .{})", kb_import::EXTENSIONS.join(", ."));
    }
    let store: Arc<dyn KnowledgeStore> = match &config.table {
        Some(table) => Arc::new(steward_dynamodb::DynamoStore::from_env(table.clone()).await),
        None => Arc::new(steward_embedded::SqliteStore::open_in(&config.data_dir)?),
    };
    let scope = guild.map_or(KbScope::Global, KbScope::Guild);
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = kb_import::import(store.as_ref(), scope, &files, progress).await?;
    println!("Imported {} document(s), {} chunk(s) into the {scope} knowledge base.", report.imported, report.chunks);
    for (path, why) in &report.skipped {
        println!("  skipped {}: {why}", path.display());
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (systemd's stop).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing answers in flight");
}
