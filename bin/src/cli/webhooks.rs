//! `steward webhook …` as clap types: the caller's webhooks.

use clap::Subcommand;

use crate::ids::IdArg;

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Add a webhook: your events of these kinds are POSTed to URL, signed
    /// with the secret (a worker sends them: steward worker or serve).
    Add {
        /// An http:// or https:// URL.
        url: String,
        /// An event kind (task.created, approval.requested, …) or '*'; repeat for more.
        #[arg(long = "event", required = true)]
        events: Vec<String>,
        /// The signing secret (16–256 characters); from the environment so
        /// that it never shows in a process list or shell history.
        #[arg(long, env = "STEWARD_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
    },
    /// Your webhooks, oldest first (secrets are never shown).
    List,
    /// Delete a webhook (its whole id).
    Remove {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}
