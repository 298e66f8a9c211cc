//! Record → row for SQLite: the values bound to the statements `schema`
//! builds from its column lists (with `?` placeholders), in their order: the
//! columns first, then the keys (then the expected version). The writer runs
//! them through rusqlite (see `writer`).

use crate::error::Result;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
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
use std::sync::LazyLock;

use super::codec::{json, micros, opt_date, opt_json, opt_micros, opt_time};

/// Every write statement, built once.
static SQL: LazyLock<WriteSql> = LazyLock::new(|| WriteSql::new(Placeholders::Question));

pub(crate) fn statements_of(record: &Record) -> &'static Statements {
    SQL.of(record)
}

/// The `DELETE` of an owner's row of `entity`, if such rows may be deleted.
pub(crate) fn delete_sql(entity: Entity) -> Option<&'static str> {
    SQL.delete(entity)
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
    let (text, expected) = match (mode, &sql.update_versioned) {
        (Mode::Insert, _) => (sql.insert.as_str(), None),
        (Mode::Update { expected: Some(v) }, Some(versioned)) => (versioned.as_str(), Some(v)),
        (Mode::Update { .. }, _) => (sql.update.as_str(), None),
    };
    let mut binds = Binds::with_capacity(24);
    bind_row(&mut binds, record)?;
    if let Some(v) = expected {
        binds.push(v);
    }
    Ok((text, binds))
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
    b.push(s.date_order.as_str());
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
