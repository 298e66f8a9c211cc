//! The server's configuration as `/api/v1/config` shows it: the facts fixed
//! at start ([`ServerConfig`]), the part an admin may change while it runs
//! (the rate limit and whether registration is open, which [`Runtime`]
//! applies to requests; the approval policy and the retention of finished
//! jobs, which core reads where it decides, in every process), and the
//! validated change ([`parse_change`]).
//!
//! Secrets are never held here: not the token-signing secret, not a
//! provider's key, and the database URL only with its credentials and
//! query string removed. A change is kept in the database: every server on
//! it applies the change within [`REFRESH_EVERY`], and a restart keeps it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};
use steward::core::agent::policy::default_verdict;
use steward::core::agent::{AgentConfig, Effect, PolicyRule, Verdict};
use steward::core::server_settings::{APPROVAL_POLICY, RETENTION, RetentionSetting, retention_in_force};
use steward::{Engine, FieldError, PolicySetting, ServerSetting, ServerSettingsChange, Steward};

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
///
/// What applies is what this process was started with (flag, environment,
/// file or default), overlaid with the settings kept in the database
/// ([`Steward::server_settings`]): a `PUT` keeps its values there, so they
/// reach every server on the database ([`Runtime::refresh`], which each
/// server runs every [`REFRESH_EVERY`]) and outlive restarts, until a `PUT`
/// of `null` forgets them.
#[derive(Debug)]
pub(crate) struct Runtime {
    started_with: Adjustable,
    registration_open: AtomicBool,
    rate_limit: RwLock<(u32, Option<Arc<RateLimit>>)>,
    /// The kept settings last read, as `GET /config` shows them.
    kept: RwLock<Vec<ServerSetting>>,
    /// One refresh at a time, so an older read is never applied after a
    /// newer one.
    refreshing: tokio::sync::Mutex<()>,
    /// Kept values left out at the last refresh (name, problem): each is
    /// warned about once, not every second.
    unreadable: std::sync::Mutex<BTreeSet<(String, String)>>,
}

/// How often each server reads the kept settings, to apply what another
/// server changed.
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// The values of the adjustable settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct Adjustable {
    /// Requests a minute per caller; 0 is no limit.
    rate_limit_per_minute: u32,
    registration_enabled: bool,
}

impl Runtime {
    pub(crate) fn new(rate_limit_per_minute: u32, registration_open: bool) -> Runtime {
        Runtime {
            started_with: Adjustable { rate_limit_per_minute, registration_enabled: registration_open },
            registration_open: AtomicBool::new(registration_open),
            rate_limit: RwLock::new((rate_limit_per_minute, RateLimit::per_minute(rate_limit_per_minute))),
            kept: RwLock::default(),
            refreshing: tokio::sync::Mutex::new(()),
            unreadable: std::sync::Mutex::default(),
        }
    }

    pub(crate) fn registration_open(&self) -> bool {
        self.registration_open.load(Ordering::Relaxed)
    }

    /// The limiter in force; `None`: no limit.
    pub(crate) fn rate_limit(&self) -> Option<Arc<RateLimit>> {
        self.rate_limit.read().unwrap_or_else(PoisonError::into_inner).1.clone()
    }

    pub(crate) fn rate_limit_per_minute(&self) -> u32 {
        self.rate_limit.read().unwrap_or_else(PoisonError::into_inner).0
    }

    fn in_force(&self) -> Adjustable {
        Adjustable {
            rate_limit_per_minute: self.rate_limit_per_minute(),
            registration_enabled: self.registration_open(),
        }
    }

    pub(crate) fn kept(&self) -> Vec<ServerSetting> {
        self.kept.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the kept settings and applies them over what this process was
    /// started with; answers what changed here (empty when nothing did).
    pub(crate) async fn refresh(&self, steward: &Steward) -> steward::Result<Vec<&'static str>> {
        let _one_at_a_time = self.refreshing.lock().await;
        let kept = steward.server_settings().await?;
        Ok(self.apply(kept))
    }

    /// Keeps `change` for every server on the database (as `by`, an admin)
    /// and applies what is kept afterwards here at once, from the one read
    /// the change answers with; the other servers apply it at their next
    /// refresh. Under the refresh lock, so a refresh that read before the
    /// change committed cannot be applied after it.
    pub(crate) async fn change(
        &self,
        steward: &Steward,
        by: &steward::Principal,
        change: ServerSettingsChange,
    ) -> steward::Result<Vec<&'static str>> {
        let _one_at_a_time = self.refreshing.lock().await;
        let kept = steward.change_server_settings(by, change).await?;
        Ok(self.apply(kept))
    }

    /// `kept` over the values started with, for the requests that come
    /// after. A new rate limit starts with fresh quotas for every caller. A
    /// kept value this version cannot read (written by hand, or by a newer
    /// version with other rules) is left out, with a warning.
    fn apply(&self, kept: Vec<ServerSetting>) -> Vec<&'static str> {
        let mut wanted = self.started_with;
        let mut unreadable = BTreeSet::new();
        for setting in &kept {
            match Setting::read(&setting.name, &setting.value) {
                Some(Ok(Setting::RateLimit(n))) => wanted.rate_limit_per_minute = n,
                Some(Ok(Setting::Registration(open))) => wanted.registration_enabled = open,
                Some(Err(problem)) => {
                    unreadable.insert((setting.name.clone(), problem));
                }
                None => {}
            }
        }
        let mut known = self.unreadable.lock().unwrap_or_else(PoisonError::into_inner);
        for (setting, problem) in unreadable.difference(&known) {
            tracing::warn!(%setting, %problem, "a kept server setting is left out");
        }
        *known = unreadable;
        drop(known);
        let before = self.in_force();
        let mut changed = Vec::new();
        if wanted.registration_enabled != before.registration_enabled {
            self.registration_open.store(wanted.registration_enabled, Ordering::Relaxed);
            changed.push("registration_enabled");
        }
        if wanted.rate_limit_per_minute != before.rate_limit_per_minute {
            let mut slot = self.rate_limit.write().unwrap_or_else(PoisonError::into_inner);
            *slot = (wanted.rate_limit_per_minute, RateLimit::per_minute(wanted.rate_limit_per_minute));
            changed.push("rate_limit_per_minute");
        }
        *self.kept.write().unwrap_or_else(PoisonError::into_inner) = kept;
        changed
    }

    /// The kept settings that differ from what this process was started
    /// with, each as `name` with both values (for the warning at start).
    pub(crate) fn overriding(&self) -> Vec<(&'static str, String, String)> {
        let (now, started) = (self.in_force(), self.started_with);
        let mut out = Vec::new();
        if now.rate_limit_per_minute != started.rate_limit_per_minute {
            let (kept, given) = (now.rate_limit_per_minute, started.rate_limit_per_minute);
            out.push(("rate_limit_per_minute", kept.to_string(), given.to_string()));
        }
        if now.registration_enabled != started.registration_enabled {
            let (kept, given) = (now.registration_enabled, started.registration_enabled);
            out.push(("registration_enabled", kept.to_string(), given.to_string()));
        }
        out
    }
}

/// Keeps this server's runtime settings in step with the database: every
/// [`REFRESH_EVERY`], what another server (or a restart) kept is applied
/// here. Runs until the process ends.
pub(crate) fn spawn_refresh(steward: Steward, runtime: Arc<Runtime>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REFRESH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        let mut failing = false;
        loop {
            every.tick().await;
            match runtime.refresh(&steward).await {
                Ok(changed) => {
                    if !changed.is_empty() {
                        tracing::info!(settings = ?changed, "runtime configuration changed elsewhere, applied here");
                    }
                    failing = false;
                }
                // Said once per outage: the database's own trouble shows
                // everywhere else too.
                Err(error) if !failing => {
                    tracing::warn!(%error, "cannot read the kept server settings; keeping the ones in force");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    })
}

/// One adjustable setting's value, read and checked.
enum Setting {
    RateLimit(u32),
    Registration(bool),
}

impl Setting {
    /// `None` for a name that is not adjustable; else the value, or what is
    /// wrong with it.
    fn read(name: &str, value: &Value) -> Option<Result<Setting, String>> {
        Some(match name {
            "rate_limit_per_minute" => value
                .as_u64()
                .filter(|n| *n <= MAX_RATE_LIMIT)
                .and_then(|n| u32::try_from(n).ok())
                .map(Setting::RateLimit)
                .ok_or_else(|| format!("must be a whole number from 0 (no limit) to {MAX_RATE_LIMIT}")),
            "registration_enabled" => {
                value.as_bool().map(Setting::Registration).ok_or_else(|| "must be true or false".to_string())
            }
            _ => return None,
        })
    }
}

/// The settings core reads where it decides, in every process.
pub(crate) const CORE_READS: [&str; 2] = [APPROVAL_POLICY, RETENTION];

/// The settings `PUT /api/v1/config` accepts.
pub(crate) const ADJUSTABLE: [&str; 4] = ["rate_limit_per_minute", "registration_enabled", APPROVAL_POLICY, RETENTION];
/// The highest rate limit accepted (0 is no limit).
const MAX_RATE_LIMIT: u64 = 1_000_000;

/// What `PUT /api/v1/config` takes, for the OpenAPI document (the handler
/// reads the body field by field, see [`parse_change`]). A value is
/// kept for every server on the database, across restarts; `null` forgets
/// it, so each server goes back to what it was started with.
#[derive(Debug, schemars::JsonSchema)]
#[allow(dead_code, reason = "describes the body; never built")]
pub(crate) struct ConfigPatch {
    /// Requests a minute per caller; 0 is no limit; `null` forgets the kept value.
    #[schemars(range(min = 0, max = 1_000_000))]
    rate_limit_per_minute: Option<u32>,
    /// Whether `POST /auth/register` is open; `null` forgets the kept value.
    registration_enabled: Option<bool>,
    /// The agent's approval policy, for every run from its next step, in
    /// every process on the database; each field given replaces the one
    /// started with. `null` forgets the kept policy.
    approval_policy: Option<PolicySetting>,
    /// How long finished jobs are kept, from the next retention sweep;
    /// `null` forgets the kept value.
    retention: Option<RetentionSetting>,
}

/// The change `body` asks for, as the settings to keep (`Some`) or forget
/// (`None`), every field checked, each problem at `["body", field]`.
/// Absent fields stay as they are; unknown fields are ignored.
pub(crate) fn parse_change(body: &Map<String, Value>) -> Result<ServerSettingsChange, Vec<FieldError>> {
    let mut changes = Vec::new();
    let mut problems = Vec::new();
    for (field, value) in body {
        // Core checks what it reads itself.
        if CORE_READS.contains(&field.as_str()) {
            match ServerSettingsChange::new([(field.clone(), Some(value.clone()).filter(|v| !v.is_null()))]) {
                Ok(change) => changes.extend(change.into_changes()),
                Err(steward::Error::Invalid(fields)) => problems.extend(fields),
                Err(other) => problems.push(FieldError::body(field, other.to_string())),
            }
            continue;
        }
        match Setting::read(field, value) {
            Some(_) if value.is_null() => changes.push((field.clone(), None)),
            Some(Ok(_)) => changes.push((field.clone(), Some(value.clone()))),
            Some(Err(problem)) => problems.push(FieldError::body(field, problem)),
            // A setting fixed at start is named, so nobody believes it
            // changed; any other field is ignored, like every request's
            // unknown fields (API.md §1).
            None if FIXED.contains(&field.as_str()) => problems.push(FieldError::body(
                field,
                format!(
                    "is fixed when the server starts (a flag of `steward serve`); what can change while it runs: {}",
                    ADJUSTABLE.join(", ")
                ),
            )),
            None => {}
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    ServerSettingsChange::new(changes).map_err(|e| match e {
        steward::Error::Invalid(fields) => fields,
        other => vec![FieldError::body("body", other.to_string())],
    })
}

/// Settings `GET /api/v1/config` shows that only a restart changes.
const FIXED: [&str; 9] = [
    "listen",
    "database",
    "max_body_bytes",
    "cors_origins",
    "token_lifetime_seconds",
    "auth_methods",
    "workers",
    "model_providers",
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
    /// The policy in force: `started_with`'s under the one kept.
    approval_policy: ApprovalPolicy,
    model_providers: Vec<ModelProvider>,
    /// The retention in force.
    retention: Retention,
    log_keep: u64,
    metrics_public: bool,
    /// What `PUT /config` changes.
    adjustable: [&'static str; 4],
    /// The adjustable settings as this server was started (flag,
    /// environment, file or default): what applies where nothing is kept.
    started_with: StartedWith,
    /// What `PUT /config` kept in the database, for every server on it and
    /// across restarts; each wins over `started_with` until a `PUT` of
    /// `null` forgets it.
    kept_settings: Vec<KeptSetting>,
}

/// The adjustable settings as the server was started.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct StartedWith {
    #[serde(flatten)]
    requests: Adjustable,
    approval_policy: ApprovalPolicy,
    retention: RetentionSetting,
}

/// One setting `PUT /config` kept.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct KeptSetting {
    name: String,
    value: Value,
    #[serde(with = "steward::core::serde_time::micros")]
    #[schemars(with = "chrono::DateTime<chrono::Utc>")]
    changed_at: chrono::DateTime<chrono::Utc>,
    /// The admin who changed it; null for a row written by hand.
    changed_by: Option<steward::UserId>,
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

impl ApprovalPolicy {
    pub(crate) fn of(agent: &AgentConfig) -> ApprovalPolicy {
        let effects = [Effect::Read, Effect::Write, Effect::Destructive, Effect::External];
        let default_verdicts =
            effects.iter().map(|e| (json!(e).as_str().unwrap_or_default().to_string(), default_verdict(*e))).collect();
        ApprovalPolicy {
            rules: agent.policy.rules.clone(),
            default_verdicts,
            approval_ttl_seconds: agent.approval_ttl.num_seconds(),
            max_turns: agent.max_turns,
        }
    }
}

/// The whole configuration (admins): what `engine` was started with
/// under the settings kept (as this server last read them).
pub(crate) fn full(
    config: &ServerConfig,
    runtime: &Runtime,
    workers: Option<WorkerInfo>,
    engine: &Engine,
    scheduler: bool,
) -> FullConfig {
    let kept_settings = runtime.kept();
    let started_days = config.keep_finished_days;
    let retention_days = retention_in_force(&kept_settings, chrono::Duration::days(started_days)).num_days();
    FullConfig {
        security: security(config, runtime),
        listen: config.listen.clone(),
        database: DatabaseView { kind: config.database, url: config.database_url.clone() },
        workers,
        approval_policy: ApprovalPolicy::of(&engine.agent_config_under(&kept_settings)),
        model_providers: config.model_providers.clone(),
        retention: Retention { finished_jobs_days: retention_days, swept_here: scheduler },
        log_keep: config.log_keep,
        metrics_public: config.metrics_public,
        adjustable: ADJUSTABLE,
        started_with: StartedWith {
            requests: runtime.started_with,
            approval_policy: ApprovalPolicy::of(engine.agent_config()),
            // The scheduler's own option is whole days, at most 100 years.
            retention: RetentionSetting { finished_jobs_days: u32::try_from(started_days).unwrap_or(u32::MAX) },
        },
        kept_settings: shown(kept_settings),
    }
}

/// The kept settings as `GET /config` shows them.
pub(crate) fn shown(kept: Vec<ServerSetting>) -> Vec<KeptSetting> {
    kept.into_iter()
        .map(|k| KeptSetting { name: k.name, value: k.value, changed_at: k.changed_at, changed_by: k.changed_by })
        .collect()
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
        let ok = parse_change(&body(json!({"rate_limit_per_minute": 5, "registration_enabled": null}))).unwrap();
        assert_eq!(
            ok.changes(),
            vec![("rate_limit_per_minute".to_string(), Some(json!(5))), ("registration_enabled".to_string(), None)]
        );
        let bad = parse_change(&body(json!({"rate_limit_per_minute": -1, "listen": "x", "colour": 1}))).unwrap_err();
        let locs: Vec<_> = bad.iter().map(|f| f.loc.join(".")).collect();
        assert!(locs.contains(&"body.rate_limit_per_minute".to_string()), "{locs:?}");
        assert!(locs.contains(&"body.listen".to_string()));
        assert!(!locs.contains(&"body.colour".to_string()), "unknown fields are ignored");
        assert!(parse_change(&body(json!({"registration_enabled": "yes"}))).is_err());
        assert!(parse_change(&body(json!({"colour": 1}))).unwrap().is_empty());
        // Core checks the settings it reads; every problem is named at once.
        let bad = parse_change(&body(json!({
            "approval_policy": {"max_turns": 0},
            "retention": {},
            "registration_enabled": 1,
        })))
        .unwrap_err();
        let locs: Vec<_> = bad.iter().map(|f| f.loc.join(".")).collect();
        for loc in ["body.approval_policy.max_turns", "body.retention.finished_jobs_days", "body.registration_enabled"]
        {
            assert!(locs.contains(&loc.to_string()), "{locs:?}");
        }
        let ok = parse_change(&body(json!({"approval_policy": {"max_turns": 3, "x": 1}, "retention": null}))).unwrap();
        assert_eq!(
            ok.changes(),
            vec![("approval_policy".to_string(), Some(json!({"max_turns": 3}))), ("retention".to_string(), None)]
        );
    }

    fn kept(name: &str, value: Value) -> ServerSetting {
        ServerSetting { name: name.into(), value, changed_at: chrono::Utc::now(), changed_by: None }
    }

    #[tokio::test]
    async fn kept_settings_win_over_the_start_until_forgotten() {
        let runtime = Runtime::new(60, true);
        assert!(runtime.apply(vec![]).is_empty(), "nothing kept: what it started with");
        let changed =
            runtime.apply(vec![kept("rate_limit_per_minute", json!(5)), kept("registration_enabled", json!(false))]);
        assert_eq!(changed, vec!["registration_enabled", "rate_limit_per_minute"]);
        assert_eq!((runtime.rate_limit_per_minute(), runtime.registration_open()), (5, false));
        assert!(runtime.rate_limit().is_some());
        assert_eq!(runtime.overriding().len(), 2);
        // The same again changes nothing (the quotas are not reset).
        let limiter = runtime.rate_limit().unwrap();
        assert!(
            runtime
                .apply(vec![kept("rate_limit_per_minute", json!(5)), kept("registration_enabled", json!(false))])
                .is_empty()
        );
        assert!(Arc::ptr_eq(&limiter, &runtime.rate_limit().unwrap()));
        // Forgotten: back to the start.
        assert_eq!(runtime.apply(vec![kept("rate_limit_per_minute", json!(5))]), vec!["registration_enabled"]);
        assert_eq!(runtime.apply(vec![]), vec!["rate_limit_per_minute"]);
        assert_eq!((runtime.rate_limit_per_minute(), runtime.registration_open()), (60, true));
        assert!(runtime.overriding().is_empty());
        // A value this version cannot read, or a name it does not know, is left out.
        let odd = vec![kept("rate_limit_per_minute", json!("fast")), kept("from_a_newer_version", json!(1))];
        assert!(runtime.apply(odd.clone()).is_empty());
        assert_eq!(runtime.rate_limit_per_minute(), 60);
        assert_eq!(runtime.kept().len(), 2, "shown as kept all the same");
        // Warned about once while it stays unreadable, not at every refresh.
        let unreadable = || runtime.unreadable.lock().unwrap().iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(unreadable(), ["rate_limit_per_minute"]);
        runtime.apply(odd);
        assert_eq!(unreadable(), ["rate_limit_per_minute"]);
        runtime.apply(vec![]);
        assert!(unreadable().is_empty(), "mended or forgotten: warned again if it comes back");
    }
}
