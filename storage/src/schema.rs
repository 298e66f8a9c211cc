//! The tables both stores keep, written down once: each record table's
//! name, key columns and other columns in the order every statement binds
//! them (columns first, then keys, then an expected version), what each
//! record binds to them (next to its table, over `encode::ColumnWriter`),
//! and the statement text built from them in either placeholder style. The
//! migrations of each dialect create these tables; the column names and
//! their meaning are the same in both (only the types differ, which
//! `decode::ColumnReader` and `encode::ColumnWriter` hide), except where a
//! table says otherwise.

use steward_core::Entity;
use steward_core::approval::Approval;
use steward_core::settings::{Profile, Settings};
use steward_core::store::{Record, Write};
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};

use crate::encode::ColumnWriter;
use crate::error::Result;

/// One record table.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    /// The columns a row is found by (bound last).
    pub(crate) keys: &'static [&'static str],
    /// Every other written column, in bind order.
    pub(crate) columns: &'static [&'static str],
    /// Whether the row carries a `version` updates may be conditional on.
    pub(crate) versioned: bool,
    /// Columns written but never read back, left out of select lists.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code, reason = "SQLite reads `*`"))]
    pub(crate) unread: &'static [&'static str],
}

impl Table {
    /// The columns a read selects (the keys, then the columns but the
    /// unread), for a `SELECT` (PostgreSQL never reads `*`: the search
    /// vectors stay on the server). Build it once: [`once!`].
    #[cfg(feature = "postgres")]
    pub(crate) fn select_list(&self) -> String {
        let read = self.columns.iter().filter(|c| !self.unread.contains(c));
        self.keys.iter().chain(read).copied().collect::<Vec<&str>>().join(", ")
    }
}

/// A `&'static str` built on first use from the expression, at each place
/// it is written (statements built from [`Table`]s): one atomic load after
/// the first.
#[cfg(feature = "postgres")]
macro_rules! once {
    ($build:expr) => {{
        static BUILT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| $build);
        BUILT.as_str()
    }};
}
#[cfg(feature = "postgres")]
pub(crate) use once;

pub(crate) const USERS: Table = Table {
    name: "users",
    keys: &["id"],
    columns: &["email", "name", "role", "password_hash", "created_at"],
    versioned: false,
    unread: &[],
};

fn user<'a, W: ColumnWriter<'a>>(w: &mut W, u: &'a User) -> Result<()> {
    w.text("email", &u.email);
    w.text("name", &u.name);
    w.text("role", u.role.as_str());
    w.opt_text("password_hash", u.password_hash.as_deref());
    w.instant("created_at", u.created_at);
    w.id("id", &u.id.0);
    Ok(())
}

pub(crate) const API_KEYS: Table = Table {
    name: "api_keys",
    keys: &["id", "user_id"],
    columns: &["name", "role", "key_hash", "prefix", "created_at", "revoked_at"],
    versioned: false,
    unread: &[],
};

fn api_key<'a, W: ColumnWriter<'a>>(w: &mut W, k: &'a ApiKey) -> Result<()> {
    w.text("name", &k.name);
    w.text("role", k.role.as_str());
    w.text("key_hash", &k.key_hash);
    w.text("prefix", &k.prefix);
    w.instant("created_at", k.created_at);
    w.opt_instant("revoked_at", k.revoked_at);
    w.id("id", &k.id.0);
    w.id("user_id", &k.user_id.0);
    Ok(())
}

pub(crate) const TASKS: Table = Table {
    name: "tasks",
    keys: &["id", "user_id"],
    columns: &[
        "title",
        "description",
        "priority",
        "priority_rank",
        "status",
        "due_date",
        "due_time",
        "recurrence",
        "tags",
        "parent_id",
        "estimated_effort_minutes",
        "assignee",
        "source_thought_id",
        "metadata",
        "completed_at",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    // Written for the indexes.
    unread: &["priority_rank"],
};

fn task<'a, W: ColumnWriter<'a>>(w: &mut W, t: &'a Task) -> Result<()> {
    w.text("title", &t.title);
    w.opt_text("description", t.description.as_deref());
    w.text("priority", t.priority.as_str());
    // The rank is 1–4 by construction.
    w.i16("priority_rank", i16::try_from(t.priority.rank()).unwrap_or(i16::MAX));
    w.text("status", t.status.as_str());
    w.opt_date("due_date", t.due_date);
    w.opt_time("due_time", t.due_time);
    w.opt_text("recurrence", t.recurrence.as_deref());
    w.texts("tags", &t.tags)?;
    w.opt_id("parent_id", t.parent_id.as_ref().map(|id| &id.0));
    w.opt_i32("estimated_effort_minutes", t.estimated_effort_minutes);
    w.text("assignee", t.assignee.as_str());
    w.opt_id("source_thought_id", t.source_thought_id.as_ref().map(|id| &id.0));
    w.json("metadata", &t.metadata)?;
    w.opt_instant("completed_at", t.completed_at);
    w.instant("created_at", t.created_at);
    w.instant("updated_at", t.updated_at);
    w.i64("version", t.version);
    w.id("id", &t.id.0);
    w.id("user_id", &t.user_id.0);
    Ok(())
}

pub(crate) const THOUGHTS: Table = Table {
    name: "thoughts",
    keys: &["id", "user_id"],
    columns: &[
        "content",
        "tags",
        "status",
        "context",
        "thought_type",
        "is_actionable",
        "actionable_confidence",
        "suggested_tags",
        "related_topics",
        "emotional_tone",
        "urgency",
        "analyzed_at",
        "related_thought_ids",
        "task_id",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

fn thought<'a, W: ColumnWriter<'a>>(w: &mut W, t: &'a Thought) -> Result<()> {
    w.text("content", &t.content);
    w.texts("tags", &t.tags)?;
    w.text("status", t.status.as_str());
    w.opt_json("context", t.context.as_ref())?;
    w.opt_text("thought_type", t.thought_type.map(|k| k.as_str()));
    w.opt_bool("is_actionable", t.is_actionable);
    w.opt_f64("actionable_confidence", t.actionable_confidence);
    w.texts("suggested_tags", &t.suggested_tags)?;
    w.texts("related_topics", &t.related_topics)?;
    w.opt_text("emotional_tone", t.emotional_tone.as_deref());
    w.opt_text("urgency", t.urgency.as_deref());
    w.opt_instant("analyzed_at", t.analyzed_at);
    w.ids("related_thought_ids", t.related_thought_ids.iter().map(|id| id.0))?;
    w.opt_id("task_id", t.task_id.as_ref().map(|id| &id.0));
    w.instant("created_at", t.created_at);
    w.instant("updated_at", t.updated_at);
    w.i64("version", t.version);
    w.id("id", &t.id.0);
    w.id("user_id", &t.user_id.0);
    Ok(())
}

pub(crate) const SUGGESTIONS: Table = Table {
    name: "suggestions",
    keys: &["id", "user_id"],
    columns: &[
        "source_thought_id",
        "title",
        "description",
        "priority",
        "estimated_effort_minutes",
        "due_date_hint",
        "confidence",
        "reasoning",
        "status",
        "user_action",
        "user_action_at",
        "created_task_id",
        "is_deleted",
        "deleted_at",
        "deletion_reason",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

fn suggestion<'a, W: ColumnWriter<'a>>(w: &mut W, s: &'a Suggestion) -> Result<()> {
    w.id("source_thought_id", &s.source_thought_id.0);
    w.text("title", &s.title);
    w.opt_text("description", s.description.as_deref());
    w.text("priority", s.priority.as_str());
    w.opt_i32("estimated_effort_minutes", s.estimated_effort_minutes);
    w.opt_date("due_date_hint", s.due_date_hint);
    w.f64("confidence", s.confidence);
    w.opt_text("reasoning", s.reasoning.as_deref());
    w.text("status", s.status.as_str());
    w.opt_text("user_action", s.user_action.as_deref());
    w.opt_instant("user_action_at", s.user_action_at);
    w.opt_id("created_task_id", s.created_task_id.as_ref().map(|id| &id.0));
    w.bool("is_deleted", s.is_deleted);
    w.opt_instant("deleted_at", s.deleted_at);
    w.opt_text("deletion_reason", s.deletion_reason.as_deref());
    w.instant("created_at", s.created_at);
    w.instant("updated_at", s.updated_at);
    w.i64("version", s.version);
    w.id("id", &s.id.0);
    w.id("user_id", &s.user_id.0);
    Ok(())
}

pub(crate) const APPROVALS: Table = Table {
    name: "approvals",
    keys: &["id", "user_id"],
    columns: &[
        "task_id",
        "run_id",
        "action_type",
        "details",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
        "reason",
        "expires_at",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

fn approval<'a, W: ColumnWriter<'a>>(w: &mut W, a: &'a Approval) -> Result<()> {
    w.opt_id("task_id", a.task_id.as_ref().map(|id| &id.0));
    w.opt_id("run_id", a.run_id.as_ref().map(|id| &id.0));
    w.text("action_type", &a.action_type);
    w.json("details", &a.details)?;
    w.text("status", a.status.as_str());
    w.text("requested_by", &a.requested_by);
    w.opt_id("decided_by", a.decided_by.as_ref().map(|id| &id.0));
    w.opt_instant("decided_at", a.decided_at);
    w.opt_text("reason", a.reason.as_deref());
    w.instant("expires_at", a.expires_at);
    w.instant("created_at", a.created_at);
    w.instant("updated_at", a.updated_at);
    w.i64("version", a.version);
    w.id("id", &a.id.0);
    w.id("user_id", &a.user_id.0);
    Ok(())
}

pub(crate) const SETTINGS: Table = Table {
    name: "settings",
    keys: &["user_id"],
    columns: &[
        "consciousness_check_enabled",
        "consciousness_check_interval_minutes",
        "auto_tagging_enabled",
        "auto_task_creation_enabled",
        "task_suggestion_mode",
        "suggestion_confidence_threshold",
        "timezone",
        "primary_backend",
        "secondary_backend",
        "date_order",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

fn settings<'a, W: ColumnWriter<'a>>(w: &mut W, s: &'a Settings) -> Result<()> {
    w.bool("consciousness_check_enabled", s.consciousness_check_enabled);
    w.i32("consciousness_check_interval_minutes", s.consciousness_check_interval_minutes);
    w.bool("auto_tagging_enabled", s.auto_tagging_enabled);
    w.bool("auto_task_creation_enabled", s.auto_task_creation_enabled);
    w.text("task_suggestion_mode", s.task_suggestion_mode.as_str());
    w.f64("suggestion_confidence_threshold", s.suggestion_confidence_threshold);
    w.text("timezone", &s.timezone);
    w.opt_text("primary_backend", s.primary_backend.as_deref());
    w.opt_text("secondary_backend", s.secondary_backend.as_deref());
    w.text("date_order", s.date_order.as_str());
    w.instant("created_at", s.created_at);
    w.instant("updated_at", s.updated_at);
    w.i64("version", s.version);
    w.id("user_id", &s.user_id.0);
    Ok(())
}

pub(crate) const PROFILES: Table = Table {
    name: "profiles",
    keys: &["user_id"],
    columns: &[
        "ongoing_projects",
        "interests",
        "work_style",
        "themes",
        "preferred_tone",
        "detail_level",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

fn profile<'a, W: ColumnWriter<'a>>(w: &mut W, p: &'a Profile) -> Result<()> {
    w.json("ongoing_projects", &p.ongoing_projects)?;
    w.texts("interests", &p.interests)?;
    w.opt_text("work_style", p.work_style.as_deref());
    w.texts("themes", &p.themes)?;
    w.opt_text("preferred_tone", p.preferred_tone.as_deref());
    w.opt_text("detail_level", p.detail_level.as_deref());
    w.instant("created_at", p.created_at);
    w.instant("updated_at", p.updated_at);
    w.i64("version", p.version);
    w.id("user_id", &p.user_id.0);
    Ok(())
}

/// Binds `record`'s row the way every statement of its table takes it: the
/// table's columns in order, then its keys.
pub(crate) fn bind_row<'a, W: ColumnWriter<'a>>(w: &mut W, record: &'a Record) -> Result<()> {
    match record {
        Record::User(u) => user(w, u),
        Record::ApiKey(k) => api_key(w, k),
        Record::Task(t) => task(w, t),
        Record::Thought(t) => thought(w, t),
        Record::Suggestion(s) => suggestion(w, s),
        Record::Approval(a) => approval(w, a),
        Record::Settings(s) => settings(w, s),
        Record::Profile(p) => profile(w, p),
    }
}

/// Every record table, in [`table_index`] order.
pub(crate) const TABLES: [&Table; 8] =
    [&USERS, &API_KEYS, &TASKS, &THOUGHTS, &SUGGESTIONS, &APPROVALS, &SETTINGS, &PROFILES];

/// Where `record`'s table is in [`TABLES`].
pub(crate) fn table_index(record: &Record) -> usize {
    match record {
        Record::User(_) => 0,
        Record::ApiKey(_) => 1,
        Record::Task(_) => 2,
        Record::Thought(_) => 3,
        Record::Suggestion(_) => 4,
        Record::Approval(_) => 5,
        Record::Settings(_) => 6,
        Record::Profile(_) => 7,
    }
}

/// The table of a kind a store can delete, with its owner column.
pub(crate) fn deletable(entity: Entity) -> Option<&'static Table> {
    match entity {
        Entity::Task => Some(&TASKS),
        Entity::Thought => Some(&THOUGHTS),
        Entity::ApiKey => Some(&API_KEYS),
        _ => None,
    }
}

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

/// How a dialect writes its bind parameters.
#[cfg_attr(not(all(feature = "sqlite", feature = "postgres")), allow(dead_code, reason = "one style per store"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholders {
    /// `?` (SQLite).
    Question,
    /// `$1`, `$2`, … (PostgreSQL).
    Numbered,
}

impl Placeholders {
    /// The `n`th (1-based) placeholder.
    pub(crate) fn nth(self, n: usize) -> String {
        match self {
            Placeholders::Question => "?".into(),
            Placeholders::Numbered => format!("${n}"),
        }
    }
}

/// The statements that write one table, in one placeholder style.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) insert: String,
    pub(crate) update: String,
    /// `update` that also requires `version = ?`; `None` for unversioned tables.
    pub(crate) update_versioned: Option<String>,
    /// The owner and version of a row by its first key; `None` for
    /// unversioned tables.
    pub(crate) current_version: Option<String>,
    /// `INSERT INTO table (columns, keys)`, to which multi-row inserts add
    /// their `VALUES`.
    pub(crate) insert_into: String,
    /// How many values a row binds (columns and keys).
    pub(crate) width: usize,
    style: Placeholders,
}

impl Statements {
    pub(crate) fn new(table: &Table, style: Placeholders) -> Statements {
        let all: Vec<&str> = table.columns.iter().chain(table.keys).copied().collect();
        let placeholders: Vec<String> = (1..=all.len()).map(|i| style.nth(i)).collect();
        let insert_into = format!("INSERT INTO {} ({})", table.name, all.join(", "));
        let insert = format!("{insert_into} VALUES ({})", placeholders.join(", "));
        let set: Vec<String> =
            table.columns.iter().enumerate().map(|(i, c)| format!("{c} = {}", style.nth(i + 1))).collect();
        let keyed: Vec<String> = table
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k} = {}", style.nth(table.columns.len() + i + 1)))
            .collect();
        let update = format!("UPDATE {} SET {} WHERE {}", table.name, set.join(", "), keyed.join(" AND "));
        let update_versioned = table.versioned.then(|| format!("{update} AND version = {}", style.nth(all.len() + 1)));
        let current_version = table
            .versioned
            .then(|| format!("SELECT user_id, version FROM {} WHERE {} = {}", table.name, table.keys[0], style.nth(1)));
        Statements { insert, update, update_versioned, current_version, insert_into, width: all.len(), style }
    }

    /// One `INSERT` of `rows` rows, each bound like a single insert, row
    /// after row.
    pub(crate) fn insert_rows(&self, rows: usize) -> String {
        let mut text = String::with_capacity(self.insert_into.len() + 8 + rows * self.width * 6);
        text.push_str(&self.insert_into);
        text.push_str(" VALUES ");
        for row in 0..rows {
            text.push_str(if row == 0 { "(" } else { ", (" });
            for i in 1..=self.width {
                if i > 1 {
                    text.push_str(", ");
                }
                text.push_str(&self.style.nth(row * self.width + i));
            }
            text.push(')');
        }
        text
    }
}

/// `DELETE` of an owner's row of `table`: the id, then the owner.
pub(crate) fn delete(table: &Table, style: Placeholders) -> String {
    format!("DELETE FROM {} WHERE id = {} AND user_id = {}", table.name, style.nth(1), style.nth(2))
}

/// Every write statement of one dialect, built once (keep it in a static).
#[derive(Debug)]
pub(crate) struct WriteSql {
    tables: Vec<Statements>,
    deletes: Vec<(Entity, String)>,
}

impl WriteSql {
    pub(crate) fn new(style: Placeholders) -> WriteSql {
        WriteSql {
            tables: TABLES.iter().map(|t| Statements::new(t, style)).collect(),
            deletes: [Entity::Task, Entity::Thought, Entity::ApiKey]
                .into_iter()
                .filter_map(|e| Some((e, delete(deletable(e)?, style))))
                .collect(),
        }
    }

    /// The statements that write `record`'s table.
    pub(crate) fn of(&self, record: &Record) -> &Statements {
        &self.tables[table_index(record)]
    }

    /// The `DELETE` of an owner's row of `entity`, if such rows may be deleted.
    pub(crate) fn delete(&self, entity: Entity) -> Option<&str> {
        self.deletes.iter().find(|(e, _)| *e == entity).map(|(_, sql)| sql.as_str())
    }
}

/// The record of a plain create: one insert that references nothing, then
/// only events. Stores may write several callers' plain creates together.
pub(crate) fn plain(writes: &[Write]) -> Option<&Record> {
    match writes.split_first() {
        Some((Write::Insert(record), events))
            if record.references().next().is_none() && events.iter().all(|w| matches!(w, Write::Append(_))) =>
        {
            Some(record)
        }
        _ => None,
    }
}

/// The row counts multi-row statements come in: few shapes, so each stays
/// prepared.
const RUNS: [usize; 4] = [64, 16, 4, 1];

/// Splits `items` into runs of 64, 16, 4 and 1 rows, in order.
pub(crate) fn chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    while !items.is_empty() {
        let size = RUNS.into_iter().find(|&s| s <= items.len()).unwrap_or(1);
        let (chunk, rest) = items.split_at(size);
        out.push(chunk);
        items = rest;
    }
    out
}

/// The condition both stores' queue SQL (and the migrations' partial
/// indexes, whose condition a query must repeat word for word for the
/// planner to use them) write for a pending job:
/// [`steward_core::job::JobState::is_pending`], checked by
/// `tests::pending_jobs_are_cores`.
#[cfg_attr(not(test), allow(dead_code, reason = "the SQL repeats it literally, as the indexes need"))]
pub(crate) const PENDING_JOBS: &str = "state IN ('available', 'failed_retrying', 'running')";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
    use uuid::Uuid;

    #[test]
    fn statements_bind_columns_then_keys_in_either_style() {
        let sqlite = Statements::new(&API_KEYS, Placeholders::Question);
        assert_eq!(
            sqlite.insert,
            "INSERT INTO api_keys (name, role, key_hash, prefix, created_at, revoked_at, id, user_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        );
        assert_eq!(
            sqlite.update,
            "UPDATE api_keys SET name = ?, role = ?, key_hash = ?, prefix = ?, created_at = ?, revoked_at = ? \
             WHERE id = ? AND user_id = ?"
        );
        assert_eq!(sqlite.update_versioned, None);
        assert_eq!(sqlite.insert_rows(1), sqlite.insert);
        let postgres = Statements::new(&API_KEYS, Placeholders::Numbered);
        assert_eq!(
            postgres.insert_rows(2),
            "INSERT INTO api_keys (name, role, key_hash, prefix, created_at, revoked_at, id, user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16)"
        );
        let settings = Statements::new(&SETTINGS, Placeholders::Numbered);
        assert!(settings.update_versioned.is_some_and(|s| s.ends_with("WHERE user_id = $14 AND version = $15")));
        assert_eq!(
            settings.current_version.as_deref(),
            Some("SELECT user_id, version FROM settings WHERE user_id = $1")
        );
        assert_eq!(delete(&TASKS, Placeholders::Question), "DELETE FROM tasks WHERE id = ? AND user_id = ?");
    }

    /// A writer that only records which columns are bound, in order.
    #[derive(Default)]
    struct Names(Vec<&'static str>);

    impl<'a> ColumnWriter<'a> for Names {
        fn id(&mut self, column: &'static str, _: &'a Uuid) {
            self.0.push(column);
        }
        fn opt_id(&mut self, column: &'static str, _: Option<&'a Uuid>) {
            self.0.push(column);
        }
        fn ids(&mut self, column: &'static str, _: impl IntoIterator<Item = Uuid>) -> Result<()> {
            self.0.push(column);
            Ok(())
        }
        fn text(&mut self, column: &'static str, _: &'a str) {
            self.0.push(column);
        }
        fn opt_text(&mut self, column: &'static str, _: Option<&'a str>) {
            self.0.push(column);
        }
        fn texts(&mut self, column: &'static str, _: &'a [String]) -> Result<()> {
            self.0.push(column);
            Ok(())
        }
        fn bool(&mut self, column: &'static str, _: bool) {
            self.0.push(column);
        }
        fn opt_bool(&mut self, column: &'static str, _: Option<bool>) {
            self.0.push(column);
        }
        fn i16(&mut self, column: &'static str, _: i16) {
            self.0.push(column);
        }
        fn i32(&mut self, column: &'static str, _: i32) {
            self.0.push(column);
        }
        fn opt_i32(&mut self, column: &'static str, _: Option<i32>) {
            self.0.push(column);
        }
        fn i64(&mut self, column: &'static str, _: i64) {
            self.0.push(column);
        }
        fn f64(&mut self, column: &'static str, _: f64) {
            self.0.push(column);
        }
        fn opt_f64(&mut self, column: &'static str, _: Option<f64>) {
            self.0.push(column);
        }
        fn instant(&mut self, column: &'static str, _: DateTime<Utc>) {
            self.0.push(column);
        }
        fn opt_instant(&mut self, column: &'static str, _: Option<DateTime<Utc>>) {
            self.0.push(column);
        }
        fn opt_date(&mut self, column: &'static str, _: Option<NaiveDate>) {
            self.0.push(column);
        }
        fn opt_time(&mut self, column: &'static str, _: Option<NaiveTime>) {
            self.0.push(column);
        }
        fn json<T: serde::Serialize + ?Sized>(&mut self, column: &'static str, _: &'a T) -> Result<()> {
            self.0.push(column);
            Ok(())
        }
        fn opt_json<T: serde::Serialize>(&mut self, column: &'static str, _: Option<&'a T>) -> Result<()> {
            self.0.push(column);
            Ok(())
        }
    }

    /// One record of every kind.
    fn records() -> Vec<Record> {
        use steward_core::approval::ApprovalStatus;
        use steward_core::suggestion::SuggestionStatus;
        use steward_core::task::{Assignee, TaskStatus};
        use steward_core::thought::ThoughtStatus;
        use steward_core::user::Role;
        use steward_core::{Priority, UserId};
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let id = |n: u128| Uuid::from_u128(n);
        let owner = UserId(id(1));
        vec![
            Record::User(User {
                id: owner,
                email: "a@example.com".into(),
                name: "A".into(),
                role: Role::User,
                password_hash: None,
                created_at: now,
            }),
            Record::ApiKey(ApiKey {
                id: id(2).into(),
                user_id: owner,
                name: "key".into(),
                role: Role::User,
                key_hash: "hash".into(),
                prefix: "stw".into(),
                created_at: now,
                revoked_at: None,
            }),
            Record::Task(Task {
                id: id(3).into(),
                user_id: owner,
                title: "t".into(),
                description: None,
                priority: Priority::Medium,
                status: TaskStatus::Pending,
                due_date: None,
                due_time: None,
                recurrence: None,
                tags: vec![],
                parent_id: None,
                estimated_effort_minutes: None,
                assignee: Assignee::default(),
                source_thought_id: None,
                metadata: serde_json::Value::Null,
                completed_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            Record::Thought(Thought {
                id: id(4).into(),
                user_id: owner,
                content: "c".into(),
                tags: vec![],
                status: ThoughtStatus::Active,
                context: None,
                thought_type: None,
                is_actionable: None,
                actionable_confidence: None,
                suggested_tags: vec![],
                related_topics: vec![],
                emotional_tone: None,
                urgency: None,
                analyzed_at: None,
                related_thought_ids: vec![],
                task_id: None,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            Record::Suggestion(Suggestion {
                id: id(5).into(),
                user_id: owner,
                source_thought_id: id(4).into(),
                title: "s".into(),
                description: None,
                priority: Priority::Low,
                estimated_effort_minutes: None,
                due_date_hint: None,
                confidence: 0.5,
                reasoning: None,
                status: SuggestionStatus::Pending,
                user_action: None,
                user_action_at: None,
                created_task_id: None,
                is_deleted: false,
                deleted_at: None,
                deletion_reason: None,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            Record::Approval(Approval {
                id: id(6).into(),
                user_id: owner,
                task_id: None,
                run_id: None,
                action_type: "a".into(),
                details: serde_json::Value::Null,
                status: ApprovalStatus::Pending,
                requested_by: "r".into(),
                decided_by: None,
                decided_at: None,
                reason: None,
                expires_at: now,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            Record::Settings(Settings::defaults(owner, now)),
            Record::Profile(Profile::empty(owner, now)),
        ]
    }

    #[test]
    fn rows_bind_their_tables_columns_in_order() -> Result<()> {
        let records = records();
        for (i, record) in records.iter().enumerate() {
            assert_eq!(table_index(record), i, "one record of each kind, in table order");
            let mut names = Names::default();
            bind_row(&mut names, record)?;
            let table = TABLES[i];
            let all: Vec<&str> = table.columns.iter().chain(table.keys).copied().collect();
            assert_eq!(names.0, all, "{}", table.name);
        }
        assert_eq!(records.len(), TABLES.len());
        Ok(())
    }

    #[test]
    fn pending_jobs_are_cores() {
        use steward_core::job::JobState;
        let listed: std::collections::BTreeSet<&str> = PENDING_JOBS
            .trim_start_matches("state IN (")
            .trim_end_matches(')')
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        let pending = JobState::ALL.into_iter().filter(|s| s.is_pending()).map(JobState::as_str).collect();
        assert_eq!(listed, pending);
        let claimable: Vec<&str> =
            JobState::ALL.into_iter().filter(|s| s.is_claimable()).map(JobState::as_str).collect();
        assert_eq!(claimable, ["available", "failed_retrying"], "the queue SQL's claimable states");
        // Every list of states in the queue SQL is one of these: pending,
        // claimable, or pending and dead (the stats).
        for (store, sql) in
            [("sqlite", include_str!("sqlite/queue.rs")), ("postgres", include_str!("postgres/queue.rs"))]
        {
            let named = sql.matches("state IN ('").count();
            let known = sql.matches(PENDING_JOBS).count()
                + sql.matches("state IN ('available', 'failed_retrying')").count()
                + sql.matches("state IN ('available', 'failed_retrying', 'running', 'dead')").count();
            assert!(named > 0 && named == known, "{store}: {named} lists of states, {known} as core says");
        }
    }

    #[test]
    fn chunks_come_in_four_sizes_and_keep_order() {
        let items: Vec<u32> = (0..91).collect();
        let sizes: Vec<usize> = chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [64, 16, 4, 4, 1, 1, 1]);
        assert_eq!(chunks(&items).concat(), items);
        assert!(chunks::<u32>(&[]).is_empty());
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn select_lists_are_the_keys_then_the_read_columns() {
        assert_eq!(USERS.select_list(), "id, email, name, role, password_hash, created_at");
        let tasks = TASKS.select_list();
        assert!(tasks.starts_with("id, user_id, title, description, priority, status, due_date"), "{tasks}");
        assert!(tasks.ends_with("created_at, updated_at, version") && !tasks.contains("rank"), "{tasks}");
        assert_eq!(once!(SETTINGS.select_list()).split(", ").count(), 1 + SETTINGS.columns.len());
    }
}
