//! Settings of a deployment kept in its database: what an admin changed
//! while servers ran (`PUT /api/v1/config`), shared by every process on the
//! database and kept across restarts.
//!
//! A setting is a name and a JSON value. Core reads two of them wherever it
//! decides, so every process on the database (a server, `steward worker`,
//! an app linking the crate) follows a change without restarting:
//! [`APPROVAL_POLICY`] when an agent run takes a step and [`RETENTION`]
//! when the scheduler starts a sweep. Their values are checked and put in
//! their normal form when a change is made ([`ServerSettingsChange::new`]).
//! Which other names exist and what values they take is the business of the
//! process that reads them (a server knows its rate limit); the store keeps
//! them as given, so a newer server can keep a setting an older one does
//! not know, and the older one ignores it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::agent::policy::{AgentConfig, PolicyRule, ToolPolicy, check_pattern};
use crate::agent::run::Verdict;
use crate::error::{Error, FieldError, Result};
use crate::ids::UserId;

/// The kept approval policy ([`PolicySetting`]): what an agent run follows
/// from its next step on.
pub const APPROVAL_POLICY: &str = "approval_policy";
/// The kept retention ([`RetentionSetting`]): what the next retention
/// sweep purges.
pub const RETENTION: &str = "retention";

/// The most rules a kept approval policy holds.
pub const MAX_POLICY_RULES: usize = 64;
/// The longest approval lifetime, in seconds (30 days).
pub const MAX_APPROVAL_TTL_SECONDS: i64 = crate::approval::MAX_APPROVAL_TTL.num_seconds();
/// The most model turns a run may be allowed.
pub const MAX_TURNS: u32 = 100;
/// The longest finished jobs may be kept, in whole days (a retention
/// sweep's own limit, 100 years).
pub const MAX_KEEP_DAYS: u32 = crate::job::MAX_KEEP_DAYS as u32;

/// One kept setting, with who changed it last and when.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSetting {
    pub name: String,
    pub value: Value,
    pub changed_at: DateTime<Utc>,
    /// `None` only for a row written some other way than through Steward.
    pub changed_by: Option<UserId>,
}

/// Changes to the kept settings, applied together: `Some(value)` keeps the
/// value under the name, `None` forgets the name (what is kept goes back to
/// being whatever each process was started with).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSettingsChange {
    changes: Vec<(String, Option<Value>)>,
}

/// The longest setting name kept.
pub const MAX_NAME_LEN: usize = 64;
/// The largest value kept, as JSON text (a full approval policy fits).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A kept approval policy. Each field given replaces what the processes
/// were started with; a field left out (or `null`) leaves theirs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PolicySetting {
    /// Tried in order: the first rule whose pattern matches a tool's name
    /// decides; a tool no rule matches gets its effect's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(length(max = MAX_POLICY_RULES)))]
    pub rules: Option<Vec<PolicyRule>>,
    /// How long an approval the agent asks for stays open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = MAX_APPROVAL_TTL_SECONDS)))]
    pub approval_ttl_seconds: Option<i64>,
    /// How many model turns one run may take before it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = MAX_TURNS)))]
    pub max_turns: Option<u32>,
}

impl PolicySetting {
    /// The policy `value` describes, every field checked; each problem is
    /// located at `["body", "approval_policy", field, ...]`. Fields it does
    /// not know are ignored (what `GET /config` shows besides these).
    pub fn read(value: &Value) -> std::result::Result<PolicySetting, Vec<FieldError>> {
        let at = |path: &[&str], msg: String| located(APPROVAL_POLICY, path, msg);
        let Some(fields) = value.as_object() else {
            return Err(vec![at(&[], "must be an object of rules, approval_ttl_seconds and max_turns".into())]);
        };
        let mut problems = Vec::new();
        let mut policy = PolicySetting::default();
        match fields.get("rules") {
            None | Some(Value::Null) => {}
            Some(Value::Array(rules)) if rules.len() > MAX_POLICY_RULES => {
                problems.push(at(&["rules"], format!("at most {MAX_POLICY_RULES} rules (got {})", rules.len())));
            }
            Some(Value::Array(rules)) => {
                let mut read = Vec::with_capacity(rules.len());
                for (i, rule) in rules.iter().enumerate() {
                    let i = i.to_string();
                    match read_rule(rule) {
                        Ok(rule) => read.push(rule),
                        Err((field, msg)) => problems.push(at(&["rules", i.as_str(), field], msg)),
                    }
                }
                policy.rules = Some(read);
            }
            Some(_) => problems.push(at(&["rules"], "must be a list of {pattern, verdict}".into())),
        }
        match whole(fields, "approval_ttl_seconds", 1, MAX_APPROVAL_TTL_SECONDS) {
            Ok(ttl) => policy.approval_ttl_seconds = ttl,
            Err(msg) => problems.push(at(&["approval_ttl_seconds"], msg)),
        }
        match whole(fields, "max_turns", 1, i64::from(MAX_TURNS)) {
            // In range, so it fits.
            Ok(turns) => policy.max_turns = turns.map(|n| n as u32),
            Err(msg) => problems.push(at(&["max_turns"], msg)),
        }
        if problems.is_empty() { Ok(policy) } else { Err(problems) }
    }

    /// `started` with what this policy gives in its place.
    pub fn over(&self, started: &AgentConfig) -> AgentConfig {
        let mut config = started.clone();
        if let Some(rules) = &self.rules {
            config.policy = ToolPolicy { rules: rules.clone() };
        }
        if let Some(seconds) = self.approval_ttl_seconds {
            config.approval_ttl = chrono::Duration::seconds(seconds);
        }
        if let Some(turns) = self.max_turns {
            config.max_turns = turns;
        }
        config
    }
}

/// One rule of a kept policy, or the field that is wrong with it.
fn read_rule(rule: &Value) -> std::result::Result<PolicyRule, (&'static str, String)> {
    let Some(fields) = rule.as_object() else {
        return Err(("pattern", "a rule is an object: {\"pattern\": \"delete_*\", \"verdict\": \"deny\"}".into()));
    };
    let pattern = match fields.get("pattern") {
        Some(Value::String(p)) => check_pattern(p).map(|()| p.clone()).map_err(|problem| ("pattern", problem))?,
        _ => return Err(("pattern", "a tool name, `*` any run of characters and `?` one (`mcp.github.*`)".into())),
    };
    let verdict = fields.get("verdict").and_then(|v| serde_json::from_value::<Verdict>(v.clone()).ok());
    let Some(verdict) = verdict else {
        return Err(("verdict", "one of allow, needs_approval, deny".into()));
    };
    Ok(PolicyRule { pattern, verdict })
}

/// A problem with the kept setting `setting`, at `["body", setting, path...]`.
fn located(setting: &str, path: &[&str], msg: String) -> FieldError {
    FieldError { loc: ["body", setting].iter().chain(path).map(|s| s.to_string()).collect(), msg }
}

/// The whole number `fields[name]` in `min..=max`, `None` when absent or
/// null.
fn whole(fields: &Map<String, Value>, name: &str, min: i64, max: i64) -> std::result::Result<Option<i64>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        // 5.0 is the whole number 5, as JSON Schema's `integer` has it.
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64))
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| format!("must be a whole number from {min} to {max}")),
    }
}

/// The kept retention: how long finished jobs stay before the retention
/// sweep purges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RetentionSetting {
    /// Days succeeded and cancelled jobs are kept; 0 purges them at the
    /// next sweep.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = MAX_KEEP_DAYS)))]
    pub finished_jobs_days: u32,
}

impl RetentionSetting {
    /// The retention `value` describes, checked; problems are located at
    /// `["body", "retention", field]`.
    pub fn read(value: &Value) -> std::result::Result<RetentionSetting, Vec<FieldError>> {
        let Some(fields) = value.as_object() else {
            return Err(vec![located(RETENTION, &[], "must be an object: {\"finished_jobs_days\": 7}".into())]);
        };
        let at = |msg: String| vec![located(RETENTION, &["finished_jobs_days"], msg)];
        match whole(fields, "finished_jobs_days", 0, i64::from(MAX_KEEP_DAYS)) {
            // In range, so it fits.
            Ok(Some(days)) => Ok(RetentionSetting { finished_jobs_days: days as u32 }),
            Ok(None) => Err(at("is required".into())),
            Err(msg) => Err(at(msg)),
        }
    }

    pub fn keep(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.finished_jobs_days))
    }
}

/// The kept value of `name` among `kept`, read by `read`; `None` when
/// nothing is kept, or what is kept cannot be read (a row written by
/// hand, or by a newer version with other rules: it is warned about and
/// left out).
pub fn kept<T>(
    kept: &[ServerSetting],
    name: &str,
    read: impl Fn(&Value) -> std::result::Result<T, Vec<FieldError>>,
) -> Option<T> {
    let setting = kept.iter().find(|s| s.name == name)?;
    match read(&setting.value) {
        Ok(value) => Some(value),
        Err(problems) => {
            let problem = problems.first().map(ToString::to_string).unwrap_or_default();
            tracing::warn!(setting = name, %problem, "a kept server setting cannot be read; it is left out");
            None
        }
    }
}

/// How long finished jobs are kept: the retention kept among `settings`,
/// else `started` (what the process was started with).
pub fn retention_in_force(settings: &[ServerSetting], started: chrono::Duration) -> chrono::Duration {
    kept(settings, RETENTION, RetentionSetting::read).map_or(started, |r| r.keep())
}

/// The normal form of a value core reads (`None`: a name core leaves to
/// others).
fn normal(name: &str, value: &Value) -> Option<Result<Value>> {
    let normal = match name {
        APPROVAL_POLICY => PolicySetting::read(value).map(serde_json::to_value),
        RETENTION => RetentionSetting::read(value).map(serde_json::to_value),
        _ => return None,
    };
    Some(match normal {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Error::Internal(format!("a setting did not serialize: {e}"))),
        Err(problems) => Err(Error::Invalid(problems)),
    })
}

impl ServerSettingsChange {
    /// The change, once every name is a lower-case identifier and every
    /// value a bounded JSON value other than `null` (which would read the
    /// same as "not kept"). A name given twice keeps the last value.
    pub fn new(changes: impl IntoIterator<Item = (String, Option<Value>)>) -> Result<ServerSettingsChange> {
        let mut kept: Vec<(String, Option<Value>)> = Vec::new();
        for (name, value) in changes {
            let well_formed = !name.is_empty()
                && name.len() <= MAX_NAME_LEN
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !well_formed {
                return Err(Error::invalid(
                    "name",
                    format!("a setting's name is 1 to {MAX_NAME_LEN} of a-z, 0-9 and _"),
                ));
            }
            let value = match value {
                Some(value) if !value.is_null() => match normal(&name, &value) {
                    Some(normal) => Some(normal?),
                    None => Some(value),
                },
                other => other,
            };
            if let Some(value) = &value {
                if value.is_null() {
                    return Err(Error::invalid(&name, "a kept value cannot be null; forget the setting instead"));
                }
                if value.to_string().len() > MAX_VALUE_BYTES {
                    return Err(Error::invalid(
                        &name,
                        format!("a kept value is at most {MAX_VALUE_BYTES} bytes of JSON"),
                    ));
                }
            }
            kept.retain(|(n, _)| *n != name);
            kept.push((name, value));
        }
        Ok(ServerSettingsChange { changes: kept })
    }

    /// Each name with the value to keep, or `None` to forget it.
    pub fn changes(&self) -> &[(String, Option<Value>)] {
        &self.changes
    }

    pub fn into_changes(self) -> Vec<(String, Option<Value>)> {
        self.changes
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::agent::policy::MAX_PATTERN_CHARS;

    #[test]
    fn names_are_identifiers_and_values_are_not_null() {
        assert!(ServerSettingsChange::new([("rate_limit_per_minute".into(), Some(json!(5)))]).is_ok());
        assert!(ServerSettingsChange::new([("registration_enabled".into(), None)]).is_ok());
        for bad in ["", "Rate", "a-b", "a b", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert!(ServerSettingsChange::new([(bad.to_string(), Some(json!(1)))]).is_err(), "{bad:?}");
        }
        assert!(ServerSettingsChange::new([("a".into(), Some(Value::Null))]).is_err());
        let big = json!("x".repeat(MAX_VALUE_BYTES));
        assert!(ServerSettingsChange::new([("a".into(), Some(big))]).is_err());
    }

    #[test]
    fn the_settings_core_reads_are_checked_and_kept_in_their_normal_form() {
        let keep = |name: &str, value: Value| ServerSettingsChange::new([(name.to_string(), Some(value))]);
        let policy = json!({
            "rules": [{"pattern": "delete_*", "verdict": "deny", "note": "ignored"}],
            "max_turns": 5,
            "approval_ttl_seconds": null,
            "default_verdicts": {"read": "allow"},
        });
        let change = keep(APPROVAL_POLICY, policy).unwrap();
        let normal = json!({"rules": [{"pattern": "delete_*", "verdict": "deny"}], "max_turns": 5});
        assert_eq!(change.changes(), vec![(APPROVAL_POLICY.to_string(), Some(normal.clone()))]);
        let read = PolicySetting::read(&normal).unwrap();
        let config = read.over(&AgentConfig::default());
        assert_eq!((config.max_turns, config.approval_ttl), (5, AgentConfig::default().approval_ttl));
        assert_eq!(config.policy.verdict("delete_task", crate::agent::Effect::Destructive), Verdict::Deny);
        assert_eq!(PolicySetting::read(&json!({})).unwrap().over(&AgentConfig::default()), AgentConfig::default());

        let locations = |value: Value| match keep(APPROVAL_POLICY, value) {
            Err(Error::Invalid(fields)) => fields.into_iter().map(|f| f.loc.join("/")).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(locations(json!("strict")), ["body/approval_policy"]);
        assert_eq!(
            locations(json!({
                "rules": [{"pattern": "a", "verdict": "allow"}, {"pattern": " ", "verdict": "deny"}, {"pattern": "b"}],
                "approval_ttl_seconds": 0,
                "max_turns": 101,
            })),
            [
                "body/approval_policy/rules/1/pattern",
                "body/approval_policy/rules/2/verdict",
                "body/approval_policy/approval_ttl_seconds",
                "body/approval_policy/max_turns"
            ]
        );
        let long = "x".repeat(MAX_PATTERN_CHARS + 1);
        assert_eq!(locations(json!({"rules": [{"pattern": long, "verdict": "deny"}]})).len(), 1);
        assert_eq!(locations(json!({"rules": [{"pattern": "a\u{7}", "verdict": "deny"}]})).len(), 1);
        let many: Vec<Value> =
            (0..=MAX_POLICY_RULES).map(|i| json!({"pattern": i.to_string(), "verdict": "deny"})).collect();
        assert_eq!(locations(json!({"rules": many})), ["body/approval_policy/rules"]);
        // The largest policy allowed fits in a kept value.
        let full: Vec<Value> = (0..MAX_POLICY_RULES)
            .map(|_| json!({"pattern": "\u{1}".repeat(MAX_PATTERN_CHARS), "verdict": "needs_approval"}))
            .collect();
        assert!(serde_json::to_string(&json!({"rules": full})).unwrap().len() <= MAX_VALUE_BYTES);

        let kept = keep(RETENTION, json!({"finished_jobs_days": 0, "swept_here": true})).unwrap();
        assert_eq!(kept.changes()[0].1, Some(json!({"finished_jobs_days": 0})));
        for bad in [json!({}), json!({"finished_jobs_days": -1}), json!({"finished_jobs_days": 1.5}), json!(7)] {
            assert!(keep(RETENTION, bad.clone()).is_err(), "{bad}");
        }
        assert_eq!(
            RetentionSetting::read(&json!({"finished_jobs_days": 3})).unwrap().keep(),
            chrono::Duration::days(3)
        );
        // Names core does not read are kept as they are.
        assert_eq!(keep("rate_limit_per_minute", json!("x")).unwrap().changes()[0].1, Some(json!("x")));
    }

    #[test]
    fn a_kept_value_that_cannot_be_read_is_left_out() {
        let at = chrono::DateTime::UNIX_EPOCH;
        let setting =
            |name: &str, value: Value| ServerSetting { name: name.into(), value, changed_at: at, changed_by: None };
        let settings =
            [setting(APPROVAL_POLICY, json!({"max_turns": 0})), setting(RETENTION, json!({"finished_jobs_days": 2}))];
        assert_eq!(kept(&settings, APPROVAL_POLICY, PolicySetting::read), None);
        assert_eq!(
            kept(&settings, RETENTION, RetentionSetting::read),
            Some(RetentionSetting { finished_jobs_days: 2 })
        );
        assert_eq!(kept(&[], RETENTION, RetentionSetting::read), None);
    }

    #[test]
    fn a_name_given_twice_keeps_its_last_value() {
        let change =
            ServerSettingsChange::new([("a".into(), Some(json!(1))), ("b".into(), None), ("a".into(), Some(json!(2)))])
                .unwrap();
        assert_eq!(change.changes(), vec![("b".to_string(), None), ("a".to_string(), Some(json!(2)))]);
    }
}
