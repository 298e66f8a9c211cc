//! The command line as clap types: every command, option and how raw text
//! becomes a typed value. Nothing here touches the database; the handlers in
//! the other modules decide what a parsed command does.
//!
//! Each area's subcommands are in a file of their own under `cli/`.
//!
//! Values with a domain meaning (priority, status, role, …) are parsed with
//! core's own `FromStr`, so the allowed words and their messages live in one
//! place; a bad value is a clap usage error (exit code 2).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use steward::{JobState, Priority, Role};

use crate::ids::IdArg;

mod agent;
mod checks;
mod serve;
mod tasks;
mod thoughts;
mod webhooks;

pub(crate) use agent::{ApprovalCommand, ChatArgs, ConversationCommand, DecideArgs, RunCommand};
pub(crate) use checks::CheckCommand;
pub(crate) use serve::ServeArgs;
pub(crate) use tasks::{TaskAddArgs, TaskCommand, TaskEditArgs, TaskListArgs};
pub(crate) use thoughts::{SuggestionCommand, ThoughtCommand};
pub(crate) use webhooks::WebhookCommand;

/// How options are found, for `--help`.
const CONFIG_HELP: &str = "Every option is read from its flag, else its environment variable, else the TOML \
file named by STEWARD_CONFIG (keys are the variables without STEWARD_, in lower case, at the top or in a table: \
`listen = \"0.0.0.0:8080\"`, `[serve] rate_limit = 300`), else its default.";

/// Steward: your tasks, thoughts and approvals, from the terminal.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about, propagate_version = true, after_help = CONFIG_HELP)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command accepts. Precedence: flag, then environment, then default.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The database to use (sqlite://PATH, sqlite::memory:, postgres://… or memory://).
    #[arg(
        long,
        global = true,
        visible_alias = "database",
        env = "STEWARD_DATABASE_URL",
        hide_env_values = true,
        default_value = steward::DEFAULT_DATABASE_URL
    )]
    pub(crate) database_url: String,
    /// Act as the user with this email (default: the local operator).
    #[arg(long, global = true, env = "STEWARD_USER", value_name = "EMAIL")]
    pub(crate) user: Option<String>,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Let webhooks point at private, loopback, link-local and unspecified
    /// addresses (this machine and its network). Without it such URLs are
    /// refused when a webhook is written (serve, webhook add/edit), and a
    /// delivery whose host resolves to one fails without retries (serve,
    /// worker).
    #[arg(long, global = true, env = "STEWARD_WEBHOOK_ALLOW_PRIVATE")]
    pub(crate) webhook_allow_private: bool,
    /// How long a user's webhooks are trusted from this process's cache, in
    /// seconds (default 5): how late a webhook created or deleted by
    /// another process is seen when no notice of it arrives (SQLite; a lost
    /// PostgreSQL notice). Tests set it very long.
    #[arg(long, global = true, env = "STEWARD_WEBHOOK_CACHE_TTL", value_name = "SECONDS", hide = true,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) webhook_cache_ttl: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create or upgrade the database schema.
    Migrate,
    /// Show what quick-add understands in TEXT, as JSON (no database access).
    Parse(ParseArgs),
    /// Add, list, search, edit, start, complete, cancel and remove tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Capture, list, search, edit, archive and remove thoughts.
    #[command(subcommand)]
    Thought(ThoughtCommand),
    /// Ask the agent (the local offline model unless STEWARD_AI_PROVIDER
    /// names another); prints its answer, what it did, and what waits for
    /// your approval.
    Chat(ChatArgs),
    /// Decisions the agent waits for: list, show, approve or reject them.
    #[command(subcommand)]
    Approval(ApprovalCommand),
    /// Agent runs: show one with its steps, resume or cancel it.
    #[command(subcommand)]
    Run(RunCommand),
    /// Conversations with the agent: list, show or remove them.
    #[command(subcommand)]
    Conversation(ConversationCommand),
    /// Tasks proposed from thoughts: list, accept or reject them.
    #[command(subcommand)]
    Suggestion(SuggestionCommand),
    /// Consciousness checks: a review of your recent thoughts.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Webhooks: your events POSTed, signed, to a URL of yours.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Your settings (timezone, consciousness checks, …): show or set one.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// What the assistant knows about you: show or set one field.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Your activity feed, oldest first; `--follow` keeps printing new events.
    Log(LogArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// What an admin keeps for every process on the database (the approval
    /// policy, the retention of finished jobs, a server's rate limit and
    /// registration; what `PUT /api/v1/config` changes): show it, set or
    /// unset one.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Write your tasks and thoughts as JSON Lines (to FILE, or stdout).
    Export {
        /// Where to write; `-` for stdout.
        #[arg(default_value = "-")]
        file: std::path::PathBuf,
    },
    /// Read tasks and thoughts from a JSON Lines file (as `export` writes
    /// them); safe to run again after an interruption.
    Import {
        /// The file to read; `-` for stdin.
        file: std::path::PathBuf,
        /// Lines per transaction.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch_size: u32,
        /// Give lines without an `id` fresh ids, importing them again even
        /// if an earlier run did (by default such a line's id comes from
        /// its content, so a re-run skips what is already imported).
        #[arg(long)]
        new_ids: bool,
    },
    /// Copy a SQLite database to a new FILE, consistently, while it is in use.
    Backup {
        /// The backup file to create (must not exist).
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup FILE (stop servers first).
    Restore {
        /// A file made by `steward backup`.
        file: std::path::PathBuf,
    },
    /// Serve the REST API over HTTP (with the worker pool and the scheduler,
    /// unless --no-worker) until SIGINT/SIGTERM, then drain and exit.
    #[command(after_help = CONFIG_HELP)]
    Serve(ServeArgs),
    /// Run queued jobs and the scheduler (reminders, approval expiry,
    /// consciousness checks, retention) until SIGINT/SIGTERM, without the
    /// HTTP server. Any number may run against one database.
    Worker(WorkerArgs),
    /// The work queue: depth per class, oldest age, running, dead, SLA
    /// breaches (no subcommand), or list/enqueue/retry/cancel jobs.
    Queue(QueueArgs),
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    // The limits of these values are the library's (`WorkerOptions`), checked
    // there once; clap only parses numbers.
    /// Jobs run at once (1–1024).
    #[arg(long, default_value_t = 4)]
    pub(crate) concurrency: usize,
    /// Jobs claimed per round trip (1–1000; above 1: a local buffer of that many leased jobs).
    #[arg(long, default_value_t = 1)]
    pub(crate) claim_batch: u32,
    /// Most outcomes recorded per round trip (1–10000).
    #[arg(long, default_value_t = 1)]
    pub(crate) complete_batch: usize,
    /// Seconds a claimed job stays leased without a heartbeat (1–3600).
    #[arg(long, default_value_t = 30)]
    pub(crate) lease: u64,
    /// Seconds running jobs get to finish at shutdown before they are handed back.
    #[arg(long, default_value_t = 30)]
    pub(crate) grace: u64,
    /// Run jobs only; leave the schedules to other workers.
    #[arg(long)]
    pub(crate) no_scheduler: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct QueueArgs {
    #[command(subcommand)]
    pub(crate) command: Option<QueueCommand>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum QueueCommand {
    /// List jobs, newest first.
    List {
        /// available, running, succeeded, failed_retrying, dead, cancelled.
        #[arg(long, value_parser = domain::<JobState>)]
        state: Option<JobState>,
        /// Only jobs of this kind.
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show every field of one job.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Enqueue a job.
    Enqueue {
        /// What to do, e.g. `webhook.deliver`.
        kind: String,
        /// The job's payload, as JSON.
        #[arg(long, default_value = "{}", value_parser = json_value)]
        payload: serde_json::Value,
        /// Priority class: critical, high, medium, low.
        #[arg(long, value_parser = domain::<Priority>, default_value = "medium")]
        priority: Priority,
        /// Not before this moment (RFC 3339).
        #[arg(long, value_parser = instant)]
        run_at: Option<DateTime<Utc>>,
        /// While a pending job holds this key, enqueueing another is a no-op.
        #[arg(long)]
        unique_key: Option<String>,
        /// Attempts before the job is dead.
        #[arg(long)]
        max_attempts: Option<u32>,
    },
    /// Put a dead, cancelled or retrying job back in the queue now.
    Retry {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Cancel a job that is waiting (not running or finished).
    Cancel {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ParseArgs {
    /// The instant "today" and "tomorrow" are relative to (RFC 3339; default: now).
    #[arg(long, value_parser = instant)]
    pub(crate) now: Option<DateTime<Utc>>,
    /// The IANA timezone dates are read in (e.g. Europe/Paris).
    #[arg(long, value_parser = timezone, default_value = "UTC")]
    pub(crate) tz: chrono_tz::Tz,
    /// How numeric dates such as 3/4 read: month_day (March 4) or day_month (3 April).
    #[arg(long, value_parser = domain::<steward::quickadd::DateOrder>, default_value = "month_day")]
    pub(crate) date_order: steward::quickadd::DateOrder,
    /// The quick-add text, e.g. `fix bug due tomorrow p2 #work`.
    #[arg(required = true, num_args = 1..)]
    pub(crate) text: Vec<String>,
}

/// Offset pagination; the domain checks the bounds.
#[derive(Debug, Args)]
pub(crate) struct PageArgs {
    /// How many to show (1–100).
    #[arg(long, default_value_t = 20)]
    pub(crate) limit: u32,
    /// How many to skip.
    #[arg(long, default_value_t = 0)]
    pub(crate) offset: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SettingsCommand {
    /// Every setting and its value.
    Show,
    /// Change one setting (`steward settings set timezone Europe/Paris`).
    Set { key: String, value: String },
    /// Put every setting back to its default (the timezone too).
    Reset,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// The approval policy and retention in force, and every kept setting.
    Show,
    /// Keep one setting for every process on the database, as JSON:
    /// `steward config set approval_policy '{"rules": [{"pattern":
    /// "delete_*", "verdict": "deny"}], "max_turns": 8}'`, `steward config
    /// set retention '{"finished_jobs_days": 30}'`,
    /// `rate_limit_per_minute 600`, `registration_enabled false`.
    Set {
        name: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Forget a kept setting: every process goes back to what it was
    /// started with.
    Unset { name: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// Every profile field.
    Show,
    /// Change one field; lists (interests, themes) are comma-separated.
    Set { key: String, value: String },
    /// Add an ongoing project, or replace the one with this name.
    AddProject {
        name: String,
        /// Free text such as active, paused, done.
        #[arg(long, default_value = "active")]
        status: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove the ongoing project with this name.
    RemoveProject { name: String },
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// How many of the latest events to show (1–1000).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) limit: u32,
    /// Show the events after this sequence number instead of the latest.
    #[arg(long, value_name = "SEQ")]
    pub(crate) after: Option<i64>,
    /// Keep printing new events until Ctrl-C. This process's own writes and,
    /// on PostgreSQL, every other process's wake it at once; the feed is
    /// also read every --poll milliseconds (how writes by other processes
    /// on a SQLite file are seen).
    #[arg(long, short)]
    pub(crate) follow: bool,
    /// With --follow: milliseconds between reads of the feed when nothing
    /// woke it.
    #[arg(long, value_name = "MS", default_value_t = 500, requires = "follow",
          value_parser = clap::value_parser!(u64).range(10..=86_400_000))]
    pub(crate) poll: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user. A password is read from stdin when stdin is not a
    /// terminal (first line; empty means none); it is never taken from argv.
    Add {
        email: String,
        /// Display name (default: the part of the email before '@').
        #[arg(long)]
        name: Option<String>,
        /// admin, user, observer, api (default: admin for the first user, else user).
        #[arg(long, value_parser = domain::<Role>)]
        role: Option<Role>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Create an API key for the user named by --user; the key is printed
    /// once, alone on the last line.
    Create {
        /// A label to recognise the key by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// The key's role (default: the user's own; never more than it).
        #[arg(long, value_parser = domain::<Role>)]
        role: Option<Role>,
    },
}

/// A value parsed by core's `FromStr`, reported without the envelope clap
/// already adds ("invalid value … for --priority").
fn domain<T: FromStr<Err = steward::Error>>(raw: &str) -> Result<T, String> {
    raw.parse().map_err(|e: steward::Error| match e {
        steward::Error::Invalid(problems) => problems.iter().map(|p| p.msg.as_str()).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    })
}

fn json_value(raw: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))
}

fn instant(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("'{raw}' is not an RFC 3339 time such as 2026-02-21T10:30:00Z"))
}

fn timezone(raw: &str) -> Result<chrono_tz::Tz, String> {
    raw.trim().parse().map_err(|_| format!("'{raw}' is not an IANA timezone such as Europe/Paris"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
