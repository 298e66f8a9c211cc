//! Record → row: the INSERT and UPDATE statement of every record type and the
//! values bound to them. SQL is built at compile time from one column list
//! per table, so both statements bind the same values in the same order: the
//! columns first, then the keys (then the expected version).

use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, Sqlite};
use steward_core::Result;
use steward_core::approval::Approval;
use steward_core::settings::{Profile, Settings};
use steward_core::store::Record;
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};

use super::codec::{json, micros, opt_date, opt_json, opt_micros, opt_time};

pub(crate) type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// The statements that write one table.
pub(crate) struct Statements {
    insert: &'static str,
    update: &'static str,
    /// `update` that also requires `version = ?`; `None` for unversioned tables.
    update_versioned: Option<&'static str>,
}

macro_rules! placeholder {
    ($column:literal) => {
        ", ?"
    };
}

macro_rules! statements {
    ($name:ident, $table:literal, keys [$k1:literal $(, $k:literal)*], columns [$c1:literal $(, $c:literal)*] $(, $versioned:ident)?) => {
        const $name: Statements = Statements {
            insert: concat!(
                "INSERT INTO ", $table, " (", $c1 $(, ", ", $c)*, ", ", $k1 $(, ", ", $k)*,
                ") VALUES (?" $(, placeholder!($c))*, placeholder!($k1) $(, placeholder!($k))*, ")"
            ),
            update: concat!(
                "UPDATE ", $table, " SET ", $c1, " = ?" $(, ", ", $c, " = ?")*,
                " WHERE ", $k1, " = ?" $(, " AND ", $k, " = ?")*
            ),
            update_versioned: statements!(@versioned $table, [$k1 $(, $k)*], [$c1 $(, $c)*] $(, $versioned)?),
        };
    };
    (@versioned $table:literal, [$k1:literal $(, $k:literal)*], [$c1:literal $(, $c:literal)*], versioned) => {
        Some(concat!(
            "UPDATE ", $table, " SET ", $c1, " = ?" $(, ", ", $c, " = ?")*,
            " WHERE ", $k1, " = ?" $(, " AND ", $k, " = ?")*, " AND version = ?"
        ))
    };
    (@versioned $table:literal, [$($k:literal),+], [$($c:literal),+]) => {
        None
    };
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
    write_then(record, mode, "")
}

/// [`write`] followed, in the same query (one round trip to the connection's
/// thread), by the statements `then`; their values are bound after the
/// record's.
pub(crate) fn write_then(record: &Record, mode: Mode, then: &str) -> Result<Query> {
    let sql = statements_of(record);
    let (text, expected) = match (mode, sql.update_versioned) {
        (Mode::Insert, _) => (sql.insert, None),
        (Mode::Update { expected: Some(v) }, Some(versioned)) => (versioned, Some(v)),
        (Mode::Update { .. }, _) => (sql.update, None),
    };
    // Only fixed statements of this crate are ever joined here.
    let query = if then.is_empty() { sqlx::query(text) } else { sqlx::query(AssertSqlSafe(format!("{text}; {then}"))) };
    let q = bind_row(query, record)?;
    Ok(match expected {
        Some(v) => q.bind(v),
        None => q,
    })
}

/// One `INSERT` of `rows` rows into `record`'s table; bind each row with
/// [`bind_row`].
pub(crate) fn insert_rows(record: &Record, rows: usize) -> String {
    let text = statements_of(record).insert;
    let (head, row) = text.split_once(" VALUES ").unwrap_or((text, ""));
    format!("{head} VALUES {}", vec![row; rows].join(", "))
}

fn statements_of(record: &Record) -> &'static Statements {
    match record {
        Record::User(_) => &USERS,
        Record::ApiKey(_) => &API_KEYS,
        Record::Task(_) => &TASKS,
        Record::Thought(_) => &THOUGHTS,
        Record::Suggestion(_) => &SUGGESTIONS,
        Record::Approval(_) => &APPROVALS,
        Record::Settings(_) => &SETTINGS,
        Record::Profile(_) => &PROFILES,
    }
}

/// Binds the record's columns, then its keys (the order of every statement).
pub(crate) fn bind_row(q: Query, record: &Record) -> Result<Query> {
    Ok(match record {
        Record::User(u) => user(q, u)?.bind(u.id.0),
        Record::ApiKey(k) => api_key(q, k)?.bind(k.id.0).bind(k.user_id.0),
        Record::Task(t) => task(q, t)?.bind(t.id.0).bind(t.user_id.0),
        Record::Thought(t) => thought(q, t)?.bind(t.id.0).bind(t.user_id.0),
        Record::Suggestion(s) => suggestion(q, s)?.bind(s.id.0).bind(s.user_id.0),
        Record::Approval(a) => approval(q, a)?.bind(a.id.0).bind(a.user_id.0),
        Record::Settings(s) => settings(q, s)?.bind(s.user_id.0),
        Record::Profile(p) => profile(q, p)?.bind(p.user_id.0),
    })
}

fn user(q: Query, u: &User) -> Result<Query> {
    Ok(q.bind(u.email.clone())
        .bind(u.name.clone())
        .bind(u.role.as_str())
        .bind(u.password_hash.clone())
        .bind(micros(u.created_at)))
}

fn api_key(q: Query, k: &ApiKey) -> Result<Query> {
    Ok(q.bind(k.name.clone())
        .bind(k.role.as_str())
        .bind(k.key_hash.clone())
        .bind(k.prefix.clone())
        .bind(micros(k.created_at))
        .bind(opt_micros(k.revoked_at)))
}

fn task(q: Query, t: &Task) -> Result<Query> {
    Ok(q.bind(t.title.clone())
        .bind(t.description.clone())
        .bind(t.priority.as_str())
        .bind(t.priority.rank())
        .bind(t.status.as_str())
        .bind(opt_date(t.due_date))
        .bind(opt_time(t.due_time))
        .bind(t.recurrence.clone())
        .bind(json(&t.tags)?)
        .bind(t.parent_id.map(|id| id.0))
        .bind(t.estimated_effort_minutes)
        .bind(t.assignee.as_str())
        .bind(t.source_thought_id.map(|id| id.0))
        .bind(json(&t.metadata)?)
        .bind(opt_micros(t.completed_at))
        .bind(micros(t.created_at))
        .bind(micros(t.updated_at))
        .bind(t.version))
}

fn thought(q: Query, t: &Thought) -> Result<Query> {
    Ok(q.bind(t.content.clone())
        .bind(json(&t.tags)?)
        .bind(t.status.as_str())
        .bind(opt_json(t.context.as_ref())?)
        .bind(t.thought_type.map(|k| k.as_str()))
        .bind(t.is_actionable)
        .bind(t.actionable_confidence)
        .bind(json(&t.suggested_tags)?)
        .bind(json(&t.related_topics)?)
        .bind(t.emotional_tone.clone())
        .bind(t.urgency.clone())
        .bind(opt_micros(t.analyzed_at))
        .bind(json(&t.related_thought_ids)?)
        .bind(t.task_id.map(|id| id.0))
        .bind(micros(t.created_at))
        .bind(micros(t.updated_at))
        .bind(t.version))
}

fn suggestion(q: Query, s: &Suggestion) -> Result<Query> {
    Ok(q.bind(s.source_thought_id.0)
        .bind(s.title.clone())
        .bind(s.description.clone())
        .bind(s.priority.as_str())
        .bind(s.estimated_effort_minutes)
        .bind(opt_date(s.due_date_hint))
        .bind(s.confidence)
        .bind(s.reasoning.clone())
        .bind(s.status.as_str())
        .bind(s.user_action.clone())
        .bind(opt_micros(s.user_action_at))
        .bind(s.created_task_id.map(|id| id.0))
        .bind(s.is_deleted)
        .bind(opt_micros(s.deleted_at))
        .bind(s.deletion_reason.clone())
        .bind(micros(s.created_at))
        .bind(micros(s.updated_at))
        .bind(s.version))
}

fn approval(q: Query, a: &Approval) -> Result<Query> {
    Ok(q.bind(a.task_id.map(|id| id.0))
        .bind(a.run_id.map(|id| id.0))
        .bind(a.action_type.clone())
        .bind(json(&a.details)?)
        .bind(a.status.as_str())
        .bind(a.requested_by.clone())
        .bind(a.decided_by.map(|id| id.0))
        .bind(opt_micros(a.decided_at))
        .bind(a.reason.clone())
        .bind(micros(a.expires_at))
        .bind(micros(a.created_at))
        .bind(micros(a.updated_at))
        .bind(a.version))
}

fn settings(q: Query, s: &Settings) -> Result<Query> {
    Ok(q.bind(s.consciousness_check_enabled)
        .bind(s.consciousness_check_interval_minutes)
        .bind(s.auto_tagging_enabled)
        .bind(s.auto_task_creation_enabled)
        .bind(s.task_suggestion_mode.as_str())
        .bind(s.suggestion_confidence_threshold)
        .bind(s.timezone.clone())
        .bind(s.primary_backend.clone())
        .bind(s.secondary_backend.clone())
        .bind(micros(s.created_at))
        .bind(micros(s.updated_at))
        .bind(s.version))
}

fn profile(q: Query, p: &Profile) -> Result<Query> {
    Ok(q.bind(json(&p.ongoing_projects)?)
        .bind(json(&p.interests)?)
        .bind(p.work_style.clone())
        .bind(json(&p.themes)?)
        .bind(p.preferred_tone.clone())
        .bind(p.detail_level.clone())
        .bind(micros(p.created_at))
        .bind(micros(p.updated_at))
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        );
        assert_eq!(
            API_KEYS.update,
            "UPDATE api_keys SET name = ?, role = ?, key_hash = ?, prefix = ?, created_at = ?, revoked_at = ? \
             WHERE id = ? AND user_id = ?"
        );
        assert_eq!(API_KEYS.update_versioned, None);
        assert_eq!(SETTINGS.update_versioned.map(|s| s.ends_with("WHERE user_id = ? AND version = ?")), Some(true));
    }

    #[test]
    fn multi_row_inserts_repeat_the_row() {
        let owner = steward_core::UserId(uuid::Uuid::nil());
        let at = chrono::DateTime::UNIX_EPOCH;
        let key = ApiKey {
            id: steward_core::ApiKeyId(uuid::Uuid::nil()),
            user_id: owner,
            name: "k".into(),
            role: steward_core::user::Role::User,
            key_hash: "h".into(),
            prefix: "p".into(),
            created_at: at,
            revoked_at: None,
        };
        assert_eq!(
            insert_rows(&Record::ApiKey(key), 2),
            "INSERT INTO api_keys (name, role, key_hash, prefix, created_at, revoked_at, id, user_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?)"
        );
    }
}
