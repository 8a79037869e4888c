//! The operator tools' wiring: `register-commands`, `invite-url` and `kb import`.

use std::sync::Arc;

use anyhow::{Context, bail};
use steward_config::Config;
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::clock::SystemClock;
use steward_domain::ids::GuildId;
use steward_domain::knowledge::KbScope;
use steward_domain::ports::{DiscordRest, KnowledgeStore};

use crate::{invite, kb_import};

/// `steward register-commands`: registers `/ask` globally, or for one guild (instantly).
///
/// # Errors
/// Fails when the application id or bot token is unset, or Discord refuses the registration.
pub async fn register_commands(config: &Config, guild: Option<GuildId>) -> anyhow::Result<()> {
    let app = config.discord.require_application_id()?;
    let token = config.discord.require_bot_token()?;
    let rest = TwilightRest::new(&RestConfig::bot(&config.discord.api_base, Some(token.clone())))?;
    let count = rest.register_commands(app, guild).await.context("registering commands")?;
    match guild {
        Some(guild) => println!("Registered {count} command(s) for guild {guild} (available now)."),
        None => println!("Registered {count} global command(s) (may take a few minutes to appear)."),
    }
    Ok(())
}

/// `steward invite-url`: prints the "Add to Discord" link.
///
/// # Errors
/// Fails when the application id is unset.
pub fn invite_url(config: &Config, answer_only: bool) -> anyhow::Result<()> {
    let app = config.discord.require_application_id()?;
    let permissions = if answer_only { invite::ANSWER_ONLY } else { invite::ALL_FEATURES };
    println!("{}", invite::invite_url(app, permissions));
    Ok(())
}

/// `steward kb import`: imports files, folders or a website into DynamoDB when `STEWARD_TABLE`
/// is set, else into the embedded store.
///
/// # Errors
/// Fails when the arguments mix a URL with paths, nothing can be read, or the store fails.
pub async fn import_kb(config: &Config, sources: &[String], guild: Option<GuildId>) -> anyhow::Result<()> {
    let origin = kb_import::Origin::parse(sources).map_err(anyhow::Error::msg)?;
    let store: Arc<dyn KnowledgeStore> = match &config.table {
        Some(table) => Arc::new(steward_dynamodb::DynamoStore::from_env(table.clone()).await),
        None => Arc::new(steward_embedded::SqliteStore::open_in(&config.data_dir)?),
    };
    let scope = guild.map_or(KbScope::Global, KbScope::Guild);
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let embedder = steward_openai::embedder_from_config(config.embeddings.as_ref())?;
    let report =
        kb_import::import_with(store.as_ref(), embedder.as_deref(), scope, &origin, &SystemClock, progress).await?;
    if report.imported == 0 && report.skipped.is_empty() {
        bail!(
            "nothing to import: no Markdown, text, HTML or PDF files found (looked for .{})",
            steward_ingest::files::EXTENSIONS.join(", .")
        );
    }
    println!(
        "Imported {} document(s), {} chunk(s) into the {scope} knowledge base ({} replaced an earlier import).",
        report.imported, report.chunks, report.replaced
    );
    match &config.embeddings {
        Some(embeddings) => println!("Every chunk has its vector from {} (hybrid search).", embeddings.model),
        None => println!(
            "No EMBEDDINGS_MODEL: chunks are found by their words (set it and import again for hybrid search)."
        ),
    }
    for (what, why) in &report.skipped {
        println!("  skipped {what}: {why}");
    }
    Ok(())
}
