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
    /// Change a webhook (its whole id): only what is given changes.
    Edit {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
        /// A new http:// or https:// URL.
        #[arg(long)]
        url: Option<String>,
        /// The event kinds from now on, replacing the old ones; repeat for more.
        #[arg(long = "event")]
        events: Vec<String>,
        /// Send deliveries again.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Stop deliveries, keeping the webhook.
        #[arg(long)]
        disable: bool,
        /// Sign from now on with the secret in STEWARD_WEBHOOK_SECRET (read
        /// only with this flag, so an old value left in the environment
        /// never replaces the secret by accident).
        #[arg(long)]
        new_secret: bool,
    },
    /// Delete a webhook (its whole id).
    Remove {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}
