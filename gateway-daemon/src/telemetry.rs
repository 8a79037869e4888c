//! Logging setup shared by every `steward` subcommand.

use tracing_subscriber::EnvFilter;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), as JSON when `STEWARD_LOG_JSON=1`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if std::env::var("STEWARD_LOG_JSON").is_ok_and(|v| v == "1") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) keeps the first subscriber; nothing to report.
    drop(result);
}
