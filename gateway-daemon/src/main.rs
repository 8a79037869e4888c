//! `steward`: run Steward on one machine, hold the gateway for AWS mode, and the operator tools.

use clap::Parser;
use steward_config::Config;
use steward_daemon::cli::{Cli, Command, KbCommand};
use steward_daemon::daemon::{self, Daemon};
use steward_daemon::standalone::{self, App};
use steward_daemon::{signals, telemetry, tools};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    let config = Config::from_env()?;
    let status = match cli.command {
        Command::Run => {
            let app = App::build(&config).await?;
            let listener = standalone::bind(&config).await?;
            standalone::print_banner(&config, listener.local_addr()?, &standalone::token_source(&config));
            app.serve(listener, signals::shutdown()).await?
        }
        Command::Gateway { count_only } => {
            let daemon = Daemon::build(&config, count_only).await?;
            daemon.serve(daemon::bind(&config).await?, signals::shutdown()).await?
        }
        Command::RegisterCommands { guild } => tools::register_commands(&config, guild).await.map(|()| 0)?,
        Command::InviteUrl { answer_only } => tools::invite_url(&config, answer_only).map(|()| 0)?,
        Command::Kb { command: KbCommand::Import { sources, guild } } => {
            tools::import_kb(&config, &sources, guild).await.map(|()| 0)?
        }
    };
    // A fatal gateway close has its own status, which the systemd unit reads.
    if status != 0 {
        std::process::exit(i32::from(status));
    }
    Ok(())
}
