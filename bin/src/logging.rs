//! The log: `tracing` events from every layer, to stderr only, so stdout
//! stays clean for `--json` output (and, later, MCP's stdio).
//!
//! - `STEWARD_LOG` picks what is logged, in `RUST_LOG` syntax (`debug`,
//!   `steward=trace,sqlx=warn`, …). Unset: warnings and errors, and the
//!   worker's lifecycle (`info`) for `steward worker`.
//! - `STEWARD_LOG_FORMAT=json` writes one JSON object per line; anything
//!   else (or unset) is human-readable text.
//!
//! What is logged is decided where it is logged: ids, kinds, counts and
//! error classes, never passwords, keys, tokens or a person's content.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::Command;

/// Installs the subscriber for this process; an unreadable `STEWARD_LOG` or
/// `STEWARD_LOG_FORMAT` is an input error, reported before anything runs.
pub(crate) fn init(command: &Command) -> Result<(), String> {
    let default = if matches!(command, Command::Worker(_) | Command::Serve(_)) { "warn,steward=info" } else { "warn" };
    let filter = match std::env::var("STEWARD_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::builder()
            .parse(directives.trim())
            .map_err(|e| format!("STEWARD_LOG '{directives}' is not a log filter: {e}"))?,
        _ => EnvFilter::new(default),
    };
    let json = match std::env::var("STEWARD_LOG_FORMAT").as_deref().map(str::trim) {
        Err(_) | Ok("" | "text") => false,
        Ok("json") => true,
        Ok(other) => return Err(format!("STEWARD_LOG_FORMAT '{other}' is not one of text, json")),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = if json {
        builder.json().with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).try_init()
    };
    installed.map_err(|e| format!("cannot install the log: {e}"))
}
