//! The server's configuration as `/api/v1/config` shows it: the facts fixed
//! at start ([`ServerConfig`]), the part an admin may change while it runs
//! ([`Runtime`]: the rate limit and whether registration is open), and the
//! validated change ([`ConfigChange`]).
//!
//! Secrets are never held here: not the token-signing secret, not a
//! provider's key, and the database URL only with its credentials and
//! query string removed. A change lives in this process only: a restart,
//! or another server on the same database, goes by its own flags.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};
use steward::FieldError;
use steward::core::agent::policy::default_verdict;
use steward::core::agent::{AgentConfig, Effect, PolicyRule, Verdict};

use super::rate_limit::RateLimit;
use super::state::WorkerInfo;

/// What `steward serve` was started with, minus its secrets.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) listen: String,
    /// `sqlite`, `postgres` or `memory`.
    pub(crate) database: &'static str,
    /// The URL without user, password or query string.
    pub(crate) database_url: String,
    pub(crate) max_body_bytes: u64,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) token_lifetime_seconds: u64,
    pub(crate) log_keep: u64,
    pub(crate) metrics_public: bool,
    /// Names and models only, in the order tried.
    pub(crate) model_providers: Vec<ModelProvider>,
    /// Days finished jobs are kept (the scheduler's `retention` sweep).
    pub(crate) keep_finished_days: i64,
}

/// The settings `PUT /api/v1/config` changes, read by every request.
#[derive(Debug)]
pub(crate) struct Runtime {
    registration_open: AtomicBool,
    rate_limit: RwLock<(u32, Option<Arc<RateLimit>>)>,
}

impl Runtime {
    pub(crate) fn new(rate_limit_per_minute: u32, registration_open: bool) -> Runtime {
        Runtime {
            registration_open: AtomicBool::new(registration_open),
            rate_limit: RwLock::new((rate_limit_per_minute, RateLimit::per_minute(rate_limit_per_minute))),
        }
    }

    pub(crate) fn registration_open(&self) -> bool {
        self.registration_open.load(Ordering::Relaxed)
    }

    /// The limiter in force; `None`: no limit.
    pub(crate) fn rate_limit(&self) -> Option<Arc<RateLimit>> {
        self.rate_limit.read().unwrap_or_else(std::sync::PoisonError::into_inner).1.clone()
    }

    pub(crate) fn rate_limit_per_minute(&self) -> u32 {
        self.rate_limit.read().unwrap_or_else(std::sync::PoisonError::into_inner).0
    }

    /// Applies `change` for the requests that come after it. A new rate
    /// limit starts with fresh quotas for every caller.
    pub(crate) fn apply(&self, change: &ConfigChange) {
        if let Some(open) = change.registration_enabled {
            self.registration_open.store(open, Ordering::Relaxed);
        }
        if let Some(per_minute) = change.rate_limit_per_minute {
            let mut slot = self.rate_limit.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            if slot.0 != per_minute {
                *slot = (per_minute, RateLimit::per_minute(per_minute));
            }
        }
    }
}

/// The settings `PUT /api/v1/config` accepts.
pub(crate) const ADJUSTABLE: [&str; 2] = ["rate_limit_per_minute", "registration_enabled"];
/// The highest rate limit accepted (0 is no limit).
const MAX_RATE_LIMIT: u64 = 1_000_000;

/// What `PUT /api/v1/config` takes, for the OpenAPI document (the handler
/// reads the body field by field, see [`ConfigChange::parse`]).
#[derive(Debug, schemars::JsonSchema)]
#[allow(dead_code, reason = "describes the body; never built")]
pub(crate) struct ConfigPatch {
    /// Requests a minute per caller; 0 is no limit.
    #[schemars(range(min = 0, max = 1_000_000))]
    rate_limit_per_minute: Option<u32>,
    registration_enabled: Option<bool>,
}

/// A validated partial change: absent or `null` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConfigChange {
    pub(crate) rate_limit_per_minute: Option<u32>,
    pub(crate) registration_enabled: Option<bool>,
}

impl ConfigChange {
    /// Every field of `body` checked; each problem at `["body", field]`.
    pub(crate) fn parse(body: &Map<String, Value>) -> Result<ConfigChange, Vec<FieldError>> {
        let mut change = ConfigChange::default();
        let mut problems = Vec::new();
        for (field, value) in body {
            if value.is_null() {
                continue;
            }
            match field.as_str() {
                "rate_limit_per_minute" => match value.as_u64().filter(|n| *n <= MAX_RATE_LIMIT) {
                    Some(n) => change.rate_limit_per_minute = u32::try_from(n).ok(),
                    None => problems.push(FieldError::body(
                        field,
                        format!("must be a whole number from 0 (no limit) to {MAX_RATE_LIMIT}"),
                    )),
                },
                "registration_enabled" => match value.as_bool() {
                    Some(open) => change.registration_enabled = Some(open),
                    None => problems.push(FieldError::body(field, "must be true or false")),
                },
                // A setting fixed at start is named, so nobody believes it
                // changed; any other field is ignored, like every request's
                // unknown fields (API.md §1).
                fixed if FIXED.contains(&fixed) => problems.push(FieldError::body(
                    fixed,
                    format!(
                        "is fixed when the server starts (a flag of `steward serve`); what can change while it runs: {}",
                        ADJUSTABLE.join(", ")
                    ),
                )),
                _ => {}
            }
        }
        if problems.is_empty() { Ok(change) } else { Err(problems) }
    }
}

/// Settings `GET /api/v1/config` shows that only a restart changes.
const FIXED: [&str; 11] = [
    "listen",
    "database",
    "max_body_bytes",
    "cors_origins",
    "token_lifetime_seconds",
    "auth_methods",
    "workers",
    "approval_policy",
    "model_providers",
    "retention",
    "log_keep",
];

/// What the API accepts as credentials.
const AUTH_METHODS: [&str; 2] = ["bearer_jwt", "api_key"];

/// The security-relevant part of the configuration (any authenticated
/// caller): how to authenticate, token lifetime, limits, CORS.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Security {
    auth_methods: [&'static str; 2],
    token_lifetime_seconds: u64,
    /// 0: no limit.
    rate_limit_per_minute: u32,
    max_body_bytes: u64,
    cors_origins: Vec<String>,
    registration_enabled: bool,
}

/// The whole configuration (admins), secrets left out.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct FullConfig {
    #[serde(flatten)]
    security: Security,
    listen: String,
    database: DatabaseView,
    /// Null when this process runs no workers.
    workers: Option<WorkerInfo>,
    approval_policy: ApprovalPolicy,
    model_providers: Vec<ModelProvider>,
    retention: Retention,
    log_keep: u64,
    metrics_public: bool,
    /// What `PUT /config` changes.
    adjustable: [&'static str; 2],
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct DatabaseView {
    /// `sqlite`, `postgres` or `memory`.
    kind: &'static str,
    /// Without user, password or query string.
    url: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct ApprovalPolicy {
    rules: Vec<PolicyRule>,
    /// What each effect gets when no rule matches.
    default_verdicts: BTreeMap<String, Verdict>,
    approval_ttl_seconds: i64,
    max_turns: u32,
}

/// A model provider by name and model; keys and URLs are left out.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct ModelProvider {
    name: &'static str,
    model: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Retention {
    finished_jobs_days: i64,
    /// Whether this process's scheduler sweeps them.
    swept_here: bool,
}

/// The whole configuration (admins).
pub(crate) fn full(
    config: &ServerConfig,
    runtime: &Runtime,
    workers: Option<WorkerInfo>,
    agent: &AgentConfig,
    scheduler: bool,
) -> FullConfig {
    let effects = [Effect::Read, Effect::Write, Effect::Destructive, Effect::External];
    let default_verdicts =
        effects.iter().map(|e| (json!(e).as_str().unwrap_or_default().to_string(), default_verdict(*e))).collect();
    FullConfig {
        security: security(config, runtime),
        listen: config.listen.clone(),
        database: DatabaseView { kind: config.database, url: config.database_url.clone() },
        workers,
        approval_policy: ApprovalPolicy {
            rules: agent.policy.rules.clone(),
            default_verdicts,
            approval_ttl_seconds: agent.approval_ttl.num_seconds(),
            max_turns: agent.max_turns,
        },
        model_providers: config.model_providers.clone(),
        retention: Retention { finished_jobs_days: config.keep_finished_days, swept_here: scheduler },
        log_keep: config.log_keep,
        metrics_public: config.metrics_public,
        adjustable: ADJUSTABLE,
    }
}

/// The security-relevant subset (any authenticated caller).
pub(crate) fn security(config: &ServerConfig, runtime: &Runtime) -> Security {
    Security {
        auth_methods: AUTH_METHODS,
        token_lifetime_seconds: config.token_lifetime_seconds,
        rate_limit_per_minute: runtime.rate_limit_per_minute(),
        max_body_bytes: config.max_body_bytes,
        cors_origins: config.cors_origins.clone(),
        registration_enabled: runtime.registration_open(),
    }
}

/// `url` without what may be secret: the user and password before `@`
/// and the query string (which may carry `password=` or `sslkey=`).
pub(crate) fn redact_url(url: &str) -> String {
    let url = url.trim();
    let url = url.split_once('?').map_or(url, |(before, _)| before);
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => format!("{scheme}://{authority}{path}"),
    }
}

/// The providers of `STEWARD_AI_*` by name and model, the local model last
/// (it ends every chain); keys and URLs are left out.
pub(crate) fn model_providers() -> Vec<ModelProvider> {
    use steward_ai::ProviderKind;
    let Ok(ai) = steward_ai::AiConfig::from_env() else {
        return vec![ModelProvider { name: "misconfigured", model: None }];
    };
    let mut providers: Vec<ModelProvider> = ai
        .providers
        .iter()
        .filter(|kind| **kind != ProviderKind::Local)
        .map(|kind| match kind {
            ProviderKind::Anthropic => ModelProvider { name: "anthropic", model: ai.anthropic_model.clone() },
            _ => ModelProvider { name: "openai", model: ai.openai_model.clone() },
        })
        .collect();
    providers.push(ModelProvider { name: "local", model: Some("local".into()) });
    providers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_and_query() {
        assert_eq!(redact_url("postgres://app:hunter2@db:5432/steward"), "postgres://***@db:5432/steward");
        assert_eq!(redact_url("postgres://db/steward?password=hunter2"), "postgres://db/steward");
        assert_eq!(redact_url("sqlite:///var/lib/steward.db"), "sqlite:///var/lib/steward.db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert!(!redact_url("postgres://a:p@ss@h/d").contains("ss@"));
    }

    #[test]
    fn a_change_names_each_bad_field() {
        let body = |v: Value| v.as_object().cloned().unwrap_or_default();
        let ok = ConfigChange::parse(&body(json!({"rate_limit_per_minute": 5, "registration_enabled": null})));
        assert_eq!(ok, Ok(ConfigChange { rate_limit_per_minute: Some(5), registration_enabled: None }));
        let bad =
            ConfigChange::parse(&body(json!({"rate_limit_per_minute": -1, "listen": "x", "colour": 1}))).unwrap_err();
        let locs: Vec<_> = bad.iter().map(|f| f.loc.join(".")).collect();
        assert!(locs.contains(&"body.rate_limit_per_minute".to_string()), "{locs:?}");
        assert!(locs.contains(&"body.listen".to_string()));
        assert!(!locs.contains(&"body.colour".to_string()), "unknown fields are ignored");
        assert!(ConfigChange::parse(&body(json!({"registration_enabled": "yes"}))).is_err());
    }
}
