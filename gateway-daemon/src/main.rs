//! `steward`: run Steward on one machine, and the operator tools.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use steward_config::Config;
use steward_daemon::{invite, kb_import, standalone, telemetry};
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::ids::GuildId;
use steward_domain::knowledge::KbScope;
use steward_domain::ports::{DiscordRest, KnowledgeStore};

#[derive(Parser)]
#[command(name = "steward", version, about = "An AI support and moderation bot for Discord")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process: embedded store, worker, HTTP routes.
    Run,
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
    app.serve(listener, shutdown_signal()).await
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
