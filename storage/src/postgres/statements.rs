//! Record → row: the INSERT and UPDATE statement of every record type and the
//! values bound to them. Both statements come from one column list per
//! table, so they bind the same values in the same order: the columns first,
//! then the keys (then the expected version). The text is built once.

use std::sync::LazyLock;

use crate::error::Result;
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use steward_core::approval::Approval;
use steward_core::settings::{Profile, Settings};
use steward_core::store::Record;
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};
use uuid::Uuid;

use super::codec::json;

pub(crate) type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

/// The statements that write one table.
#[derive(Debug)]
pub(crate) struct Statements {
    insert: String,
    update: String,
    /// `update` that also requires `version = $n`; `None` for unversioned tables.
    update_versioned: Option<String>,
    /// How many columns the statements set (the keys' `$n`s follow).
    columns: usize,
    /// `INSERT INTO table (columns, keys)`, to which multi-row inserts add
    /// their `VALUES`.
    insert_into: String,
    /// How many values a row binds (columns and keys).
    width: usize,
}

impl Statements {
    fn new(table: &str, keys: &[&str], columns: &[&str], versioned: bool) -> Statements {
        let all: Vec<&str> = columns.iter().chain(keys).copied().collect();
        let placeholders: Vec<String> = (1..=all.len()).map(|i| format!("${i}")).collect();
        let insert = format!("INSERT INTO {table} ({}) VALUES ({})", all.join(", "), placeholders.join(", "));
        let set: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
        let keyed: Vec<String> =
            keys.iter().enumerate().map(|(i, k)| format!("{k} = ${}", columns.len() + i + 1)).collect();
        let update = format!("UPDATE {table} SET {} WHERE {}", set.join(", "), keyed.join(" AND "));
        let update_versioned = versioned.then(|| format!("{update} AND version = ${}", all.len() + 1));
        let insert_into = format!("INSERT INTO {table} ({})", all.join(", "));
        Statements { insert, update, update_versioned, columns: columns.len(), insert_into, width: all.len() }
    }
}

macro_rules! statements {
    ($name:ident, $table:literal, keys [$($k:literal),+], columns [$($c:literal),+ $(,)?] $(, $versioned:ident)?) => {
        static $name: LazyLock<Statements> =
            LazyLock::new(|| Statements::new($table, &[$($k),+], &[$($c),+], statements!(@versioned $($versioned)?)));
    };
    (@versioned versioned) => { true };
    (@versioned) => { false };
}

statements!(USERS, "users", keys ["id"], columns ["email", "name", "role", "password_hash", "created_at"]);
statements!(API_KEYS, "api_keys", keys ["id", "user_id"],
    columns ["name", "role", "key_hash", "prefix", "created_at", "revoked_at"]);
statements!(TASKS, "tasks", keys ["id", "user_id"], columns [
    "title", "description", "priority", "priority_rank", "status", "due_date", "due_time", "recurrence", "tags",
    "parent_id", "estimated_effort_minutes", "assignee", "source_thought_id", "metadata", "completed_at",
    "created_at", "updated_at", "version"
], versioned);
statements!(THOUGHTS, "thoughts", keys ["id", "user_id"], columns [
    "content", "tags", "status", "context", "thought_type", "is_actionable", "actionable_confidence",
    "suggested_tags", "related_topics", "emotional_tone", "urgency", "analyzed_at", "related_thought_ids",
    "task_id", "created_at", "updated_at", "version"
], versioned);
statements!(SUGGESTIONS, "suggestions", keys ["id", "user_id"], columns [
    "source_thought_id", "title", "description", "priority", "estimated_effort_minutes", "due_date_hint",
    "confidence", "reasoning", "status", "user_action", "user_action_at", "created_task_id", "is_deleted",
    "deleted_at", "deletion_reason", "created_at", "updated_at", "version"
], versioned);
statements!(APPROVALS, "approvals", keys ["id", "user_id"], columns [
    "task_id", "run_id", "action_type", "details", "status", "requested_by", "decided_by", "decided_at",
    "reason", "expires_at", "created_at", "updated_at", "version"
], versioned);
statements!(SETTINGS, "settings", keys ["user_id"], columns [
    "consciousness_check_enabled", "consciousness_check_interval_minutes", "auto_tagging_enabled",
    "auto_task_creation_enabled", "task_suggestion_mode", "suggestion_confidence_threshold", "timezone",
    "primary_backend", "secondary_backend", "created_at", "updated_at", "version"
], versioned);
statements!(PROFILES, "profiles", keys ["user_id"], columns [
    "ongoing_projects", "interests", "work_style", "themes", "preferred_tone", "detail_level",
    "created_at", "updated_at", "version"
], versioned);

/// How a record is written.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    Insert,
    /// Replace the row with the record's keys; with `Some(v)` only while its
    /// version is still `v` (ignored for unversioned records).
    Update {
        expected: Option<i64>,
    },
}

/// The bound statement that writes `record`.
pub(crate) fn write(record: &Record, mode: Mode) -> Result<Query> {
    write_within(record, mode, |sql, _| sql.to_string())
}

/// The statement that writes `record`, embedded in a larger one: `wrap`
/// gets the writing statement's text and how many `$n`s it binds, and
/// returns the whole text (whose further `$n`s the caller binds after the
/// record's values).
pub(crate) fn write_within(record: &Record, mode: Mode, wrap: impl FnOnce(&str, usize) -> String) -> Result<Query> {
    let wrap = |sql: &str, n: usize| sqlx::query(sqlx::AssertSqlSafe(wrap(sql, n)));
    match record {
        Record::User(u) => finish(&USERS, mode, &[u.id.0], wrap, |q| Ok(user(q, u))),
        Record::ApiKey(k) => finish(&API_KEYS, mode, &[k.id.0, k.user_id.0], wrap, |q| Ok(api_key(q, k))),
        Record::Task(t) => finish(&TASKS, mode, &[t.id.0, t.user_id.0], wrap, |q| Ok(task(q, t))),
        Record::Thought(t) => finish(&THOUGHTS, mode, &[t.id.0, t.user_id.0], wrap, |q| Ok(thought(q, t))),
        Record::Suggestion(s) => finish(&SUGGESTIONS, mode, &[s.id.0, s.user_id.0], wrap, |q| Ok(suggestion(q, s))),
        Record::Approval(a) => finish(&APPROVALS, mode, &[a.id.0, a.user_id.0], wrap, |q| Ok(approval(q, a))),
        Record::Settings(s) => finish(&SETTINGS, mode, &[s.user_id.0], wrap, |q| Ok(settings(q, s))),
        Record::Profile(p) => finish(&PROFILES, mode, &[p.user_id.0], wrap, |q| profile(q, p)),
    }
}

/// The statement inserting `n` rows of `record`'s table, whose values
/// [`bind_row`] binds row after row, and how many values it binds.
pub(crate) fn insert_rows(record: &Record, n: usize) -> (String, usize) {
    let sql = match record {
        Record::User(_) => &USERS,
        Record::ApiKey(_) => &API_KEYS,
        Record::Task(_) => &TASKS,
        Record::Thought(_) => &THOUGHTS,
        Record::Suggestion(_) => &SUGGESTIONS,
        Record::Approval(_) => &APPROVALS,
        Record::Settings(_) => &SETTINGS,
        Record::Profile(_) => &PROFILES,
    };
    let mut text = String::with_capacity(sql.insert_into.len() + 8 + n * sql.width * 6);
    text.push_str(&sql.insert_into);
    text.push_str(" VALUES ");
    for row in 0..n {
        text.push_str(if row == 0 { "(" } else { ", (" });
        for i in 1..=sql.width {
            if i > 1 {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&(row * sql.width + i).to_string());
        }
        text.push(')');
    }
    (text, n * sql.width)
}

/// Binds `record`'s row for an insert (columns, then keys) after what `q`
/// already binds.
pub(crate) fn bind_row(q: Query, record: &Record) -> Result<Query> {
    let (q, keys): (Query, Vec<Uuid>) = match record {
        Record::User(u) => (user(q, u), vec![u.id.0]),
        Record::ApiKey(k) => (api_key(q, k), vec![k.id.0, k.user_id.0]),
        Record::Task(t) => (task(q, t), vec![t.id.0, t.user_id.0]),
        Record::Thought(t) => (thought(q, t), vec![t.id.0, t.user_id.0]),
        Record::Suggestion(s) => (suggestion(q, s), vec![s.id.0, s.user_id.0]),
        Record::Approval(a) => (approval(q, a), vec![a.id.0, a.user_id.0]),
        Record::Settings(s) => (settings(q, s), vec![s.user_id.0]),
        Record::Profile(p) => (profile(q, p)?, vec![p.user_id.0]),
    };
    Ok(keys.into_iter().fold(q, |q, key| q.bind(key)))
}

fn finish(
    sql: &'static Statements,
    mode: Mode,
    keys: &[Uuid],
    wrap: impl FnOnce(&str, usize) -> Query,
    values: impl FnOnce(Query) -> Result<Query>,
) -> Result<Query> {
    let (text, expected) = match (mode, &sql.update_versioned) {
        (Mode::Insert, _) => (&sql.insert, None),
        (Mode::Update { expected: Some(v) }, Some(versioned)) => (versioned, Some(v)),
        (Mode::Update { .. }, _) => (&sql.update, None),
    };
    let bound = sql.columns + keys.len() + usize::from(expected.is_some());
    let mut q = values(wrap(text, bound))?;
    for key in keys {
        q = q.bind(*key);
    }
    Ok(match expected {
        Some(v) => q.bind(v),
        None => q,
    })
}

fn user(q: Query, u: &User) -> Query {
    q.bind(u.email.clone()).bind(u.name.clone()).bind(u.role.as_str()).bind(u.password_hash.clone()).bind(u.created_at)
}

fn api_key(q: Query, k: &ApiKey) -> Query {
    q.bind(k.name.clone())
        .bind(k.role.as_str())
        .bind(k.key_hash.clone())
        .bind(k.prefix.clone())
        .bind(k.created_at)
        .bind(k.revoked_at)
}

fn task(q: Query, t: &Task) -> Query {
    // The rank is 1–4 by construction.
    let rank = i16::try_from(t.priority.rank()).unwrap_or(i16::MAX);
    q.bind(t.title.clone())
        .bind(t.description.clone())
        .bind(t.priority.as_str())
        .bind(rank)
        .bind(t.status.as_str())
        .bind(t.due_date)
        .bind(t.due_time)
        .bind(t.recurrence.clone())
        .bind(t.tags.clone())
        .bind(t.parent_id.map(|id| id.0))
        .bind(t.estimated_effort_minutes)
        .bind(t.assignee.as_str())
        .bind(t.source_thought_id.map(|id| id.0))
        .bind(t.metadata.clone())
        .bind(t.completed_at)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.version)
}

fn thought(q: Query, t: &Thought) -> Query {
    q.bind(t.content.clone())
        .bind(t.tags.clone())
        .bind(t.status.as_str())
        .bind(t.context.clone())
        .bind(t.thought_type.map(|k| k.as_str()))
        .bind(t.is_actionable)
        .bind(t.actionable_confidence)
        .bind(t.suggested_tags.clone())
        .bind(t.related_topics.clone())
        .bind(t.emotional_tone.clone())
        .bind(t.urgency.clone())
        .bind(t.analyzed_at)
        .bind(t.related_thought_ids.iter().map(|id| id.0).collect::<Vec<Uuid>>())
        .bind(t.task_id.map(|id| id.0))
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.version)
}

fn suggestion(q: Query, s: &Suggestion) -> Query {
    q.bind(s.source_thought_id.0)
        .bind(s.title.clone())
        .bind(s.description.clone())
        .bind(s.priority.as_str())
        .bind(s.estimated_effort_minutes)
        .bind(s.due_date_hint)
        .bind(s.confidence)
        .bind(s.reasoning.clone())
        .bind(s.status.as_str())
        .bind(s.user_action.clone())
        .bind(s.user_action_at)
        .bind(s.created_task_id.map(|id| id.0))
        .bind(s.is_deleted)
        .bind(s.deleted_at)
        .bind(s.deletion_reason.clone())
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.version)
}

fn approval(q: Query, a: &Approval) -> Query {
    q.bind(a.task_id.map(|id| id.0))
        .bind(a.run_id.map(|id| id.0))
        .bind(a.action_type.clone())
        .bind(a.details.clone())
        .bind(a.status.as_str())
        .bind(a.requested_by.clone())
        .bind(a.decided_by.map(|id| id.0))
        .bind(a.decided_at)
        .bind(a.reason.clone())
        .bind(a.expires_at)
        .bind(a.created_at)
        .bind(a.updated_at)
        .bind(a.version)
}

fn settings(q: Query, s: &Settings) -> Query {
    q.bind(s.consciousness_check_enabled)
        .bind(s.consciousness_check_interval_minutes)
        .bind(s.auto_tagging_enabled)
        .bind(s.auto_task_creation_enabled)
        .bind(s.task_suggestion_mode.as_str())
        .bind(s.suggestion_confidence_threshold)
        .bind(s.timezone.clone())
        .bind(s.primary_backend.clone())
        .bind(s.secondary_backend.clone())
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.version)
}

fn profile(q: Query, p: &Profile) -> Result<Query> {
    Ok(q.bind(json(&p.ongoing_projects)?)
        .bind(p.interests.clone())
        .bind(p.work_style.clone())
        .bind(p.themes.clone())
        .bind(p.preferred_tone.clone())
        .bind(p.detail_level.clone())
        .bind(p.created_at)
        .bind(p.updated_at)
        .bind(p.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_and_update_bind_columns_then_keys() {
        assert_eq!(
            API_KEYS.insert,
            "INSERT INTO api_keys (name, role, key_hash, prefix, created_at, revoked_at, id, user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        assert_eq!(
            API_KEYS.update,
            "UPDATE api_keys SET name = $1, role = $2, key_hash = $3, prefix = $4, created_at = $5, \
             revoked_at = $6 WHERE id = $7 AND user_id = $8"
        );
        assert_eq!(API_KEYS.update_versioned, None);
        let key = ApiKey {
            id: steward_core::ApiKeyId(Uuid::nil()),
            user_id: steward_core::UserId(Uuid::nil()),
            name: String::new(),
            role: steward_core::user::Role::User,
            key_hash: String::new(),
            prefix: String::new(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            revoked_at: None,
        };
        assert_eq!(insert_rows(&Record::ApiKey(key.clone()), 1), (API_KEYS.insert.clone(), 8));
        assert_eq!(
            insert_rows(&Record::ApiKey(key), 2).0,
            "INSERT INTO api_keys (name, role, key_hash, prefix, created_at, revoked_at, id, user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16)"
        );
        assert_eq!(
            SETTINGS.update_versioned.as_deref().map(|s| s.ends_with("WHERE user_id = $13 AND version = $14")),
            Some(true)
        );
    }
}
