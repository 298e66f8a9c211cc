//! The tables both stores keep, written down once: each record table's
//! name, key columns and other columns in the order every statement binds
//! them (columns first, then keys, then an expected version), what each
//! record binds to them and how it is read back (one file per record,
//! `schema/<records>.rs`: the table, `bind` over `encode::ColumnWriter`,
//! `decode` over `decode::ColumnReader`),
//! and the statement text built from them in either placeholder style. The
//! migrations of each dialect create these tables; the column names and
//! their meaning are the same in both (only the types differ, which
//! `decode::ColumnReader` and `encode::ColumnWriter` hide), except where a
//! table says otherwise.

use steward_core::store::{Record, Write};
use steward_core::{Entity, Error};

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

pub(crate) mod api_keys;
pub(crate) mod approvals;
pub(crate) mod consciousness_checks;
pub(crate) mod conversations;
pub(crate) mod profiles;
pub(crate) mod runs;
pub(crate) mod server_settings;
pub(crate) mod settings;
pub(crate) mod steps;
pub(crate) mod suggestions;
pub(crate) mod tasks;
pub(crate) mod thoughts;
pub(crate) mod users;
pub(crate) mod webhooks;

pub(crate) use api_keys::TABLE as API_KEYS;
pub(crate) use approvals::TABLE as APPROVALS;
pub(crate) use consciousness_checks::TABLE as CONSCIOUSNESS_CHECKS;
pub(crate) use conversations::TABLE as CONVERSATIONS;
pub(crate) use profiles::TABLE as PROFILES;
pub(crate) use runs::TABLE as RUNS;
pub(crate) use settings::TABLE as SETTINGS;
pub(crate) use steps::TABLE as STEPS;
pub(crate) use suggestions::TABLE as SUGGESTIONS;
pub(crate) use tasks::TABLE as TASKS;
pub(crate) use thoughts::TABLE as THOUGHTS;
pub(crate) use users::TABLE as USERS;
pub(crate) use webhooks::TABLE as WEBHOOKS;

/// Binds `record`'s row the way every statement of its table takes it: the
/// table's columns in order, then its keys.
pub(crate) fn bind_row<'a, W: ColumnWriter<'a>>(w: &mut W, record: &'a Record) -> Result<()> {
    match record {
        Record::User(u) => users::bind(w, u),
        Record::ApiKey(k) => api_keys::bind(w, k),
        Record::Task(t) => tasks::bind(w, t),
        Record::Thought(t) => thoughts::bind(w, t),
        Record::Suggestion(s) => suggestions::bind(w, s),
        Record::Approval(a) => approvals::bind(w, a),
        Record::Settings(s) => settings::bind(w, s),
        Record::Profile(p) => profiles::bind(w, p),
        Record::Conversation(c) => conversations::bind(w, c),
        Record::Run(r) => runs::bind(w, r),
        Record::Step(s) => steps::bind(w, s),
        Record::ConsciousnessCheck(c) => consciousness_checks::bind(w, c),
        Record::Webhook(h) => webhooks::bind(w, h),
    }
}

/// A token count as the 64-bit integer both dialects store it as.
pub(crate) fn tokens(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::invalid("usage", "a token count is too large to store").into())
}

/// Every record table, in [`table_index`] order.
pub(crate) const TABLES: [&Table; 13] = [
    &USERS,
    &API_KEYS,
    &TASKS,
    &THOUGHTS,
    &SUGGESTIONS,
    &APPROVALS,
    &SETTINGS,
    &PROFILES,
    &CONVERSATIONS,
    &RUNS,
    &STEPS,
    &CONSCIOUSNESS_CHECKS,
    &WEBHOOKS,
];

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
        Record::Conversation(_) => 8,
        Record::Run(_) => 9,
        Record::Step(_) => 10,
        Record::ConsciousnessCheck(_) => 11,
        Record::Webhook(_) => 12,
    }
}

/// The table of a kind a store can delete, with its owner column.
pub(crate) fn deletable(entity: Entity) -> Option<&'static Table> {
    match entity {
        Entity::Task => Some(&TASKS),
        Entity::Thought => Some(&THOUGHTS),
        Entity::ApiKey => Some(&API_KEYS),
        Entity::Conversation => Some(&CONVERSATIONS),
        Entity::Webhook => Some(&WEBHOOKS),
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
            deletes: [Entity::Task, Entity::Thought, Entity::ApiKey, Entity::Conversation, Entity::Webhook]
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
/// only events and enqueues (a task create and its event; a thought capture,
/// its event and its analysis job). Both stores write several callers'
/// plain creates together.
pub(crate) fn plain(writes: &[Write]) -> Option<&Record> {
    match writes.split_first() {
        Some((Write::Insert(record), rest))
            if record.references().next().is_none()
                && rest.iter().all(|w| matches!(w, Write::Append(_) | Write::Enqueue(_))) =>
        {
            Some(record)
        }
        _ => None,
    }
}

/// The row counts multi-row statements come in: few shapes, so each stays
/// prepared.
const RUN_SIZES: [usize; 4] = [64, 16, 4, 1];

/// Splits `items` into runs of 64, 16, 4 and 1 rows, in order.
pub(crate) fn chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    while !items.is_empty() {
        let size = RUN_SIZES.into_iter().find(|&s| s <= items.len()).unwrap_or(1);
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
    use steward_core::agent::model::Usage;
    use steward_core::agent::run::{AgentRun, Conversation, RunStatus, RunStep, StepKind};
    use steward_core::approval::Approval;
    use steward_core::settings::{Profile, Settings};
    use steward_core::suggestion::Suggestion;
    use steward_core::task::Task;
    use steward_core::thought::Thought;
    use steward_core::user::{ApiKey, User};
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
            Record::Conversation(Conversation {
                id: id(7).into(),
                user_id: owner,
                title: "c".into(),
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            Record::Run(AgentRun {
                id: id(8).into(),
                user_id: owner,
                conversation_id: id(7).into(),
                task_id: None,
                status: RunStatus::Queued,
                steps: 0,
                turns: 0,
                usage: Usage::default(),
                model: None,
                response: None,
                error: None,
                created_at: now,
                updated_at: now,
                finished_at: None,
                version: 1,
            }),
            Record::Step(RunStep {
                id: id(9).into(),
                user_id: owner,
                run_id: id(8).into(),
                seq: 0,
                kind: StepKind::UserMessage { text: "hi".into() },
                created_at: now,
            }),
            Record::ConsciousnessCheck(steward_core::ConsciousnessCheck {
                id: id(10).into(),
                user_id: owner,
                status: steward_core::CheckStatus::Pending,
                summary: None,
                themes: Vec::new(),
                patterns: Vec::new(),
                suggested_actions: Vec::new(),
                concerns: Vec::new(),
                positives: Vec::new(),
                thoughts_analyzed: 0,
                tokens_used: 0,
                completed_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            Record::Webhook(steward_core::Webhook {
                id: id(11).into(),
                user_id: owner,
                url: "https://example.com/hook".into(),
                events: vec!["*".into()],
                secret: "0123456789abcdef".into(),
                active: true,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
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
            [("sqlite", include_str!("../sqlite/queue.rs")), ("postgres", include_str!("../postgres/queue.rs"))]
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
