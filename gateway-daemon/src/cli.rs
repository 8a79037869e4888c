//! The `steward` command line: subcommands and their flags (clap).

use clap::{Parser, Subcommand};
use steward_domain::ids::GuildId;

/// The `steward` command.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about = "An AI support and moderation bot for Discord")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
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
        /// What to do with it.
        #[command(subcommand)]
        command: KbCommand,
    },
}

/// `steward kb` subcommands.
#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Import Markdown, text, HTML and PDF files or folders, or a website (into DynamoDB when
    /// STEWARD_TABLE is set). Importing a file or page again replaces it.
    Import {
        /// Files or folders, or one website URL (https://docs.example.com) to crawl.
        #[arg(required = true)]
        sources: Vec<String>,
        /// Import into this guild's knowledge base instead of the global one.
        #[arg(long)]
        guild: Option<GuildId>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed_and_parses_subcommands() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["steward", "gateway", "--count-only"]).unwrap();
        assert!(matches!(cli.command, Command::Gateway { count_only: true }));
        let cli = Cli::try_parse_from(["steward", "kb", "import", "docs", "--guild", "42"]).unwrap();
        assert!(
            matches!(cli.command, Command::Kb { command: KbCommand::Import { ref sources, guild: Some(_) } } if sources.len() == 1)
        );
        assert!(Cli::try_parse_from(["steward", "kb", "import"]).is_err(), "paths are required");
    }
}
