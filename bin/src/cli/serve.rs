//! `steward serve`'s options: where to listen, how tokens are signed, what
//! the HTTP layers allow, and the worker pool it runs beside the server.

use std::net::SocketAddr;

use clap::Args;

use super::WorkerArgs;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (the bound
    /// address is printed on stderr as `steward serve: listening on http://ADDR`).
    #[arg(long, env = "STEWARD_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub(crate) listen: SocketAddr,
    /// The secret that signs login tokens (HS256), at least 32 bytes. Unset:
    /// one is generated once and kept in the database, so tokens survive
    /// restarts and every server on the database accepts them.
    #[arg(long, env = "STEWARD_JWT_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub(crate) jwt_secret: Option<String>,
    /// How long a login token is valid, in seconds (default 7 days).
    #[arg(long, env = "STEWARD_JWT_LIFETIME", default_value_t = 7 * 24 * 3600, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub(crate) jwt_lifetime: u64,
    /// Refuse `POST /api/v1/auth/register` (create users with `steward user add`).
    /// A value kept by `PUT /api/v1/config` wins over this until it is forgotten.
    #[arg(long, env = "STEWARD_NO_REGISTRATION")]
    pub(crate) no_registration: bool,
    /// Browser origins allowed to call the API (CORS), comma-separated or
    /// repeated; `*` allows any. None: no cross-origin access.
    #[arg(long = "cors-origin", env = "STEWARD_CORS_ORIGINS", value_delimiter = ',', value_name = "ORIGIN")]
    pub(crate) cors_origins: Vec<String>,
    /// The largest request body accepted, in bytes; larger is 413.
    #[arg(long, env = "STEWARD_MAX_BODY_BYTES", default_value_t = 1024 * 1024, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(1024..=1_073_741_824))]
    pub(crate) max_body_bytes: u64,
    /// Requests a minute per caller under /api/v1 (a user's login tokens
    /// count together; each API key, and each address without credentials,
    /// on its own); over it is 429 with Retry-After. 0: no limit. A value
    /// kept by `PUT /api/v1/config` wins over this until it is forgotten.
    #[arg(long, env = "STEWARD_RATE_LIMIT", default_value_t = 100, value_name = "PER_MINUTE")]
    pub(crate) rate_limit: u32,
    /// Log records kept in memory for `GET /api/v1/logs` (admins; the
    /// newest first, the oldest dropped once full). 0: keep none.
    #[arg(long, env = "STEWARD_LOG_KEEP", default_value_t = 10_000, value_name = "RECORDS",
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub(crate) log_keep: u64,
    /// Do not serve `GET /metrics`. Without this flag it is served like
    /// /health: without a token (Prometheus scrapers send none) and outside
    /// the rate limit. It holds counts only (requests per route template,
    /// latencies, queue depth, job outcomes, model tokens): no ids, no content.
    #[arg(long, env = "STEWARD_NO_METRICS")]
    pub(crate) no_metrics: bool,
    /// List pages (`GET /api/v1/tasks`, `/thoughts`) kept in memory as
    /// answered, per user and query, and answered again while no write has
    /// committed to the database (SQLite only: any write, by any process,
    /// makes them all stale). 0: keep none.
    #[arg(long, env = "STEWARD_PAGE_CACHE", default_value_t = 1024, value_name = "PAGES",
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub(crate) page_cache: u64,
    /// Serve HTTP only: run no worker pool and no scheduler in this process
    /// (run `steward worker` elsewhere).
    #[arg(long, env = "STEWARD_NO_WORKER")]
    pub(crate) no_worker: bool,
    /// How often a live event stream (`GET /api/v1/events`) reads the log
    /// when nothing woke it, in seconds: the safety net for changes whose
    /// wake-up cannot reach this process (another process writing the same
    /// SQLite file; a notice lost while the PostgreSQL listener reconnects).
    /// Tests set it very long to show the wake-ups alone suffice.
    #[arg(long, env = "STEWARD_EVENTS_SAFETY_POLL", default_value_t = 5, value_name = "SECONDS", hide = true,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) events_safety_poll: u64,
    /// The worker pool run beside the server (unless --no-worker); `--grace`
    /// also bounds how long in-flight requests may take to finish at shutdown.
    #[command(flatten, next_help_heading = "Worker")]
    pub(crate) worker: WorkerArgs,
}
