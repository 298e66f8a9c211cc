//! Record → row: the INSERT and UPDATE statement of every record type and the
//! values bound to them. SQL is built at compile time from one column list
//! per table, so both statements bind the same values in the same order: the
//! columns first, then the keys (then the expected version). The writer
//! runs them through rusqlite (see `writer`).

use crate::error::Result;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use steward_core::approval::Approval;
use steward_core::settings::{Profile, Settings};
use steward_core::store::Record;
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};
use uuid::Uuid;

use super::codec::{json, micros, opt_date, opt_json, opt_micros, opt_time};

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

/// Values bound to a statement's `?`s, in order. Text and ids borrow from
/// the record being written; what has to be encoded (JSON, dates) is owned.
#[derive(Debug, Default)]
pub(crate) struct Binds<'a>(pub(crate) Vec<ToSqlOutput<'a>>);

/// A value that binds to one `?`.
pub(crate) trait Bind<'a> {
    fn value(self) -> ToSqlOutput<'a>;
}

impl<'a> Binds<'a> {
    pub(crate) fn with_capacity(n: usize) -> Binds<'a> {
        Binds(Vec::with_capacity(n))
    }

    pub(crate) fn bind(mut self, value: impl Bind<'a>) -> Binds<'a> {
        self.0.push(value.value());
        self
    }

    pub(crate) fn push(&mut self, value: impl Bind<'a>) {
        self.0.push(value.value());
    }

    pub(crate) fn params(&self) -> rusqlite::ParamsFromIter<std::slice::Iter<'_, ToSqlOutput<'a>>> {
        rusqlite::params_from_iter(self.0.iter())
    }
}

impl<'a> Bind<'a> for &'a str {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Borrowed(ValueRef::Text(self.as_bytes()))
    }
}
impl<'a> Bind<'a> for &'a String {
    fn value(self) -> ToSqlOutput<'a> {
        self.as_str().value()
    }
}
impl<'a> Bind<'a> for String {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Owned(Value::Text(self))
    }
}
impl<'a> Bind<'a> for &'a Uuid {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Borrowed(ValueRef::Blob(self.as_bytes()))
    }
}
impl<'a> Bind<'a> for i64 {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Owned(Value::Integer(self))
    }
}
impl<'a> Bind<'a> for i32 {
    fn value(self) -> ToSqlOutput<'a> {
        i64::from(self).value()
    }
}
impl<'a> Bind<'a> for bool {
    fn value(self) -> ToSqlOutput<'a> {
        i64::from(self).value()
    }
}
impl<'a> Bind<'a> for f64 {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Owned(Value::Real(self))
    }
}
impl<'a, T: Bind<'a>> Bind<'a> for Option<T> {
    fn value(self) -> ToSqlOutput<'a> {
        match self {
            Some(v) => v.value(),
            None => ToSqlOutput::Owned(Value::Null),
        }
    }
}

/// The statement that writes `record` in `mode`, with its values bound.
pub(crate) fn write(record: &Record, mode: Mode) -> Result<(&'static str, Binds<'_>)> {
    let sql = statements_of(record);
    let (text, expected) = match (mode, sql.update_versioned) {
        (Mode::Insert, _) => (sql.insert, None),
        (Mode::Update { expected: Some(v) }, Some(versioned)) => (versioned, Some(v)),
        (Mode::Update { .. }, _) => (sql.update, None),
    };
    let mut binds = Binds::with_capacity(24);
    bind_row(&mut binds, record)?;
    if let Some(v) = expected {
        binds.push(v);
    }
    Ok((text, binds))
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
pub(crate) fn bind_row<'a>(b: &mut Binds<'a>, record: &'a Record) -> Result<()> {
    match record {
        Record::User(u) => {
            user(b, u);
            b.push(&u.id.0);
        }
        Record::ApiKey(k) => {
            api_key(b, k);
            b.push(&k.id.0);
            b.push(&k.user_id.0);
        }
        Record::Task(t) => {
            task(b, t)?;
            b.push(&t.id.0);
            b.push(&t.user_id.0);
        }
        Record::Thought(t) => {
            thought(b, t)?;
            b.push(&t.id.0);
            b.push(&t.user_id.0);
        }
        Record::Suggestion(s) => {
            suggestion(b, s);
            b.push(&s.id.0);
            b.push(&s.user_id.0);
        }
        Record::Approval(a) => {
            approval(b, a)?;
            b.push(&a.id.0);
            b.push(&a.user_id.0);
        }
        Record::Settings(s) => {
            settings(b, s);
            b.push(&s.user_id.0);
        }
        Record::Profile(p) => {
            profile(b, p)?;
            b.push(&p.user_id.0);
        }
    }
    Ok(())
}

fn user<'a>(b: &mut Binds<'a>, u: &'a User) {
    b.push(&u.email);
    b.push(&u.name);
    b.push(u.role.as_str());
    b.push(u.password_hash.as_ref());
    b.push(micros(u.created_at));
}

fn api_key<'a>(b: &mut Binds<'a>, k: &'a ApiKey) {
    b.push(&k.name);
    b.push(k.role.as_str());
    b.push(&k.key_hash);
    b.push(&k.prefix);
    b.push(micros(k.created_at));
    b.push(opt_micros(k.revoked_at));
}

fn task<'a>(b: &mut Binds<'a>, t: &'a Task) -> Result<()> {
    b.push(&t.title);
    b.push(t.description.as_ref());
    b.push(t.priority.as_str());
    b.push(t.priority.rank());
    b.push(t.status.as_str());
    b.push(opt_date(t.due_date));
    b.push(opt_time(t.due_time));
    b.push(t.recurrence.as_ref());
    b.push(json(&t.tags)?);
    b.push(t.parent_id.as_ref().map(|id| &id.0));
    b.push(t.estimated_effort_minutes);
    b.push(t.assignee.as_str());
    b.push(t.source_thought_id.as_ref().map(|id| &id.0));
    b.push(json(&t.metadata)?);
    b.push(opt_micros(t.completed_at));
    b.push(micros(t.created_at));
    b.push(micros(t.updated_at));
    b.push(t.version);
    Ok(())
}

fn thought<'a>(b: &mut Binds<'a>, t: &'a Thought) -> Result<()> {
    b.push(&t.content);
    b.push(json(&t.tags)?);
    b.push(t.status.as_str());
    b.push(opt_json(t.context.as_ref())?);
    b.push(t.thought_type.map(|k| k.as_str()));
    b.push(t.is_actionable);
    b.push(t.actionable_confidence);
    b.push(json(&t.suggested_tags)?);
    b.push(json(&t.related_topics)?);
    b.push(t.emotional_tone.as_ref());
    b.push(t.urgency.as_ref());
    b.push(opt_micros(t.analyzed_at));
    b.push(json(&t.related_thought_ids)?);
    b.push(t.task_id.as_ref().map(|id| &id.0));
    b.push(micros(t.created_at));
    b.push(micros(t.updated_at));
    b.push(t.version);
    Ok(())
}

fn suggestion<'a>(b: &mut Binds<'a>, s: &'a Suggestion) {
    b.push(&s.source_thought_id.0);
    b.push(&s.title);
    b.push(s.description.as_ref());
    b.push(s.priority.as_str());
    b.push(s.estimated_effort_minutes);
    b.push(opt_date(s.due_date_hint));
    b.push(s.confidence);
    b.push(s.reasoning.as_ref());
    b.push(s.status.as_str());
    b.push(s.user_action.as_ref());
    b.push(opt_micros(s.user_action_at));
    b.push(s.created_task_id.as_ref().map(|id| &id.0));
    b.push(s.is_deleted);
    b.push(opt_micros(s.deleted_at));
    b.push(s.deletion_reason.as_ref());
    b.push(micros(s.created_at));
    b.push(micros(s.updated_at));
    b.push(s.version);
}

fn approval<'a>(b: &mut Binds<'a>, a: &'a Approval) -> Result<()> {
    b.push(a.task_id.as_ref().map(|id| &id.0));
    b.push(a.run_id.as_ref().map(|id| &id.0));
    b.push(&a.action_type);
    b.push(json(&a.details)?);
    b.push(a.status.as_str());
    b.push(&a.requested_by);
    b.push(a.decided_by.as_ref().map(|id| &id.0));
    b.push(opt_micros(a.decided_at));
    b.push(a.reason.as_ref());
    b.push(micros(a.expires_at));
    b.push(micros(a.created_at));
    b.push(micros(a.updated_at));
    b.push(a.version);
    Ok(())
}

fn settings<'a>(b: &mut Binds<'a>, s: &'a Settings) {
    b.push(s.consciousness_check_enabled);
    b.push(s.consciousness_check_interval_minutes);
    b.push(s.auto_tagging_enabled);
    b.push(s.auto_task_creation_enabled);
    b.push(s.task_suggestion_mode.as_str());
    b.push(s.suggestion_confidence_threshold);
    b.push(&s.timezone);
    b.push(s.primary_backend.as_ref());
    b.push(s.secondary_backend.as_ref());
    b.push(micros(s.created_at));
    b.push(micros(s.updated_at));
    b.push(s.version);
}

fn profile<'a>(b: &mut Binds<'a>, p: &'a Profile) -> Result<()> {
    b.push(json(&p.ongoing_projects)?);
    b.push(json(&p.interests)?);
    b.push(p.work_style.as_ref());
    b.push(json(&p.themes)?);
    b.push(p.preferred_tone.as_ref());
    b.push(p.detail_level.as_ref());
    b.push(micros(p.created_at));
    b.push(micros(p.updated_at));
    b.push(p.version);
    Ok(())
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
