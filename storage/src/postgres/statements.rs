//! Record → row for PostgreSQL: the values bound to the statements `schema`
//! builds from its column lists (with `$n` placeholders), in their order:
//! the columns first, then the keys (then the expected version).

use std::sync::LazyLock;

use crate::error::Result;
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use steward_core::Entity;
use steward_core::approval::Approval;
use steward_core::settings::{Profile, Settings};
use steward_core::store::Record;
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};
use uuid::Uuid;

pub(crate) use crate::schema::Mode;
use crate::schema::{Placeholders, Statements, WriteSql};

use super::codec::json;

pub(crate) type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

/// Every write statement, built once.
static SQL: LazyLock<WriteSql> = LazyLock::new(|| WriteSql::new(Placeholders::Numbered));

pub(crate) fn statements_of(record: &Record) -> &'static Statements {
    SQL.of(record)
}

/// The `DELETE` of an owner's row of `entity`, if such rows may be deleted.
pub(crate) fn delete_sql(entity: Entity) -> Option<&'static str> {
    SQL.delete(entity)
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
    let sql = statements_of(record);
    match record {
        Record::User(u) => finish(sql, mode, &[u.id.0], wrap, |q| Ok(user(q, u))),
        Record::ApiKey(k) => finish(sql, mode, &[k.id.0, k.user_id.0], wrap, |q| Ok(api_key(q, k))),
        Record::Task(t) => finish(sql, mode, &[t.id.0, t.user_id.0], wrap, |q| Ok(task(q, t))),
        Record::Thought(t) => finish(sql, mode, &[t.id.0, t.user_id.0], wrap, |q| Ok(thought(q, t))),
        Record::Suggestion(s) => finish(sql, mode, &[s.id.0, s.user_id.0], wrap, |q| Ok(suggestion(q, s))),
        Record::Approval(a) => finish(sql, mode, &[a.id.0, a.user_id.0], wrap, |q| Ok(approval(q, a))),
        Record::Settings(s) => finish(sql, mode, &[s.user_id.0], wrap, |q| Ok(settings(q, s))),
        Record::Profile(p) => finish(sql, mode, &[p.user_id.0], wrap, |q| profile(q, p)),
    }
}

/// The statement inserting `n` rows of `record`'s table, whose values
/// [`bind_row`] binds row after row, and how many values it binds.
pub(crate) fn insert_rows(record: &Record, n: usize) -> (String, usize) {
    let sql = statements_of(record);
    (sql.insert_rows(n), n * sql.width)
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
        .bind(s.date_order.as_str())
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
