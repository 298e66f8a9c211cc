//! The store's reads, each scoped to its owner and ordered exactly like the
//! memory store: the sort key in the requested direction, ties by insertion
//! order (`seq`) in the same direction. Every list has an index that serves
//! its order, so a first page reads a page's worth of rows.

use sqlx::{AssertSqlSafe, PgPool, Row};
use steward_core::UserId;
use steward_core::agent::run::{AgentRun, Conversation, RunStep};
use steward_core::approval::Approval;
use steward_core::consciousness::{CheckQuery, ConsciousnessCheck};
use steward_core::event::{Event, EventQuery};
use steward_core::query::{
    Page, PageRequest, SortOrder, StatsWindow, TaskQuery, TaskSort, TaskStatistics, ThoughtQuery, ThoughtSort,
};
use steward_core::search;
use steward_core::settings::{Profile, Settings};
use steward_core::store::{ApprovalQuery, SuggestionQuery};
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, Role, User};
use steward_core::webhook::Webhook;

use crate::error::Result;
use uuid::Uuid;

use crate::filter;
use crate::schema::Placeholders;

use super::apply::{EVENTS_BARRIER, barrier_key};
use super::search::PREFIX_QUERY;
use super::sql::{self, Arg, Filter, PageQuery, Total};
use crate::decode;
use crate::schema::{
    API_KEYS, APPROVALS, CONSCIOUSNESS_CHECKS, CONVERSATIONS, PROFILES, RUNS, SETTINGS, STEPS, SUGGESTIONS, TASKS,
    THOUGHTS, USERS, WEBHOOKS, once,
};

/// How this store's SQL writes bind parameters.
const STYLE: Placeholders = Placeholders::Numbered;

/// What event reads select.
const EVENT_COLUMNS: &str = "seq, user_id, actor, kind, entity, entity_id, before, after, at";

pub(crate) async fn user(pool: &PgPool, id: Uuid) -> Result<Option<User>> {
    let sql = once!(format!("SELECT {} FROM users WHERE id = $1", USERS.select_list()));
    sql::one(pool, sql, &[Arg::Id(id)], crate::schema::users::decode).await
}

pub(crate) async fn user_by_email(pool: &PgPool, email: &str) -> Result<Option<User>> {
    let email = Arg::Text(email.trim().to_lowercase());
    let sql = once!(format!("SELECT {} FROM users WHERE lower(email) = lower($1)", USERS.select_list()));
    sql::one(pool, sql, &[email], crate::schema::users::decode).await
}

pub(crate) async fn users(pool: &PgPool, page: PageRequest) -> Result<Page<User>> {
    let filter = Filter::everything(STYLE);
    let columns = once!(USERS.select_list());
    let query = PageQuery { columns, table: USERS.name, filter: &filter, order: "seq", total: Total::Rows };
    sql::page(pool, query, page, crate::schema::users::decode).await
}

pub(crate) async fn first_admin(pool: &PgPool) -> Result<Option<User>> {
    let sql =
        once!(format!("SELECT {} FROM users WHERE role = $1 ORDER BY created_at, seq LIMIT 1", USERS.select_list()));
    sql::one(pool, sql, &[Arg::Text(Role::Admin.as_str().into())], crate::schema::users::decode).await
}

pub(crate) async fn api_key(pool: &PgPool, owner: UserId, id: Uuid) -> Result<Option<ApiKey>> {
    let sql = once!(format!("SELECT {} FROM api_keys WHERE id = $1 AND user_id = $2", API_KEYS.select_list()));
    sql::one(pool, sql, &[Arg::Id(id), Arg::Id(owner.0)], crate::schema::api_keys::decode).await
}

pub(crate) async fn api_key_by_hash(pool: &PgPool, key_hash: &str) -> Result<Option<ApiKey>> {
    let sql = once!(format!(
        "SELECT {} FROM api_keys WHERE key_hash = $1 \
             AND EXISTS (SELECT 1 FROM users WHERE users.id = api_keys.user_id) ORDER BY seq LIMIT 1",
        API_KEYS.select_list()
    ));
    sql::one(pool, sql, &[Arg::Text(key_hash.to_string())], crate::schema::api_keys::decode).await
}

pub(crate) async fn server_settings(pool: &PgPool) -> Result<Vec<steward_core::server_settings::ServerSetting>> {
    sql::all(pool, crate::schema::server_settings::SELECT, &[], crate::schema::server_settings::decode).await
}

pub(crate) async fn webhooks(pool: &PgPool, owner: UserId) -> Result<Vec<Webhook>> {
    let sql = once!(format!("SELECT {} FROM webhooks WHERE user_id = $1 ORDER BY seq", WEBHOOKS.select_list()));
    sql::all(pool, sql, &[Arg::Id(owner.0)], crate::schema::webhooks::decode).await
}

pub(crate) async fn api_keys(pool: &PgPool, owner: UserId) -> Result<Vec<ApiKey>> {
    let sql = once!(format!("SELECT {} FROM api_keys WHERE user_id = $1 ORDER BY seq", API_KEYS.select_list()));
    sql::all(pool, sql, &[Arg::Id(owner.0)], crate::schema::api_keys::decode).await
}

/// One owned row of a table keyed by `id`.
macro_rules! owned {
    ($name:ident, $table:ident, $ty:ty, $map:path) => {
        pub(crate) async fn $name(pool: &PgPool, owner: UserId, id: Uuid) -> Result<Option<$ty>> {
            let sql =
                once!(format!("SELECT {} FROM {} WHERE id = $1 AND user_id = $2", $table.select_list(), $table.name));
            sql::one(pool, sql, &[Arg::Id(id), Arg::Id(owner.0)], $map).await
        }
    };
}

owned!(task, TASKS, Task, crate::schema::tasks::decode);
owned!(thought, THOUGHTS, Thought, crate::schema::thoughts::decode);
owned!(suggestion, SUGGESTIONS, Suggestion, crate::schema::suggestions::decode);
owned!(approval, APPROVALS, Approval, crate::schema::approvals::decode);
owned!(conversation, CONVERSATIONS, Conversation, crate::schema::conversations::decode);
owned!(run, RUNS, AgentRun, crate::schema::runs::decode);

/// The owner's conversations, most recently updated first, ties the later
/// inserted first (`conversations_by_updated`, walked backwards).
pub(crate) async fn conversations(pool: &PgPool, owner: UserId, page: PageRequest) -> Result<Page<Conversation>> {
    let f = Filter::owner(STYLE, owner.0);
    let query = PageQuery {
        columns: once!(CONVERSATIONS.select_list()),
        table: CONVERSATIONS.name,
        filter: &f,
        order: "updated_at DESC, seq DESC",
        total: Total::Rows,
    };
    sql::page(pool, query, page, crate::schema::conversations::decode).await
}

/// Counted per (status, priority) group in one pass over the owner's tasks.
const TASK_GROUPS: &str = "SELECT status, priority, count(*) AS n, \
       count(*) FILTER (WHERE status IN ('pending', 'in_progress', 'waiting_approval') AND due_date < $2) AS overdue, \
       count(*) FILTER (WHERE status = 'done' AND completed_at >= $3) AS done_7, \
       count(*) FILTER (WHERE status = 'done' AND completed_at >= $4) AS done_30 \
     FROM tasks WHERE user_id = $1 GROUP BY status, priority";

/// The owner's agent tasks whose job is still pending past its deadline.
const LATE_AGENT_JOBS: &str = "SELECT count(*) AS n FROM jobs WHERE owner_id = $1 AND kind = 'task.agent' \
     AND state IN ('available', 'failed_retrying', 'running') AND deadline < $2";

pub(crate) async fn task_statistics(pool: &PgPool, owner: UserId, window: StatsWindow) -> Result<TaskStatistics> {
    let args =
        [Arg::Id(owner.0), Arg::Date(window.today), Arg::Instant(window.week_ago()), Arg::Instant(window.month_ago())];
    let groups = sql::all(pool, TASK_GROUPS, &args, crate::schema::tasks::decode_group).await?;
    let late = [Arg::Id(owner.0), Arg::Instant(window.now)];
    let late = sql::one(pool, LATE_AGENT_JOBS, &late, crate::schema::tasks::decode_count).await?.unwrap_or(0);
    Ok(TaskStatistics::from_groups(groups, late))
}

pub(crate) async fn agent_usage(pool: &PgPool, owner: UserId) -> Result<steward_core::agent::Usage> {
    let sql = "SELECT COALESCE(SUM(input_tokens), 0)::bigint AS input_tokens, \
               COALESCE(SUM(output_tokens), 0)::bigint AS output_tokens FROM runs WHERE user_id = $1";
    let usage = sql::one(pool, sql, &[Arg::Id(owner.0)], crate::schema::runs::decode_usage).await?;
    Ok(usage.unwrap_or_default())
}

/// The runs of one conversation, oldest first (`runs_by_conversation`).
pub(crate) async fn runs(pool: &PgPool, owner: UserId, conversation: Uuid) -> Result<Vec<AgentRun>> {
    let sql = once!(format!(
        "SELECT {} FROM runs WHERE conversation_id = $1 AND user_id = $2 ORDER BY created_at, seq",
        RUNS.select_list()
    ));
    sql::all(pool, sql, &[Arg::Id(conversation), Arg::Id(owner.0)], crate::schema::runs::decode).await
}

/// A run's steps in `seq` order (the `(run_id, seq)` key).
pub(crate) async fn run_steps(pool: &PgPool, owner: UserId, run: Uuid) -> Result<Vec<RunStep>> {
    let sql =
        once!(format!("SELECT {} FROM steps WHERE run_id = $1 AND user_id = $2 ORDER BY seq", STEPS.select_list()));
    sql::all(pool, sql, &[Arg::Id(run), Arg::Id(owner.0)], crate::schema::steps::decode).await
}
owned!(consciousness_check, CONSCIOUSNESS_CHECKS, ConsciousnessCheck, crate::schema::consciousness_checks::decode);
owned!(webhook, WEBHOOKS, Webhook, crate::schema::webhooks::decode);

/// Keyset pages in id order (exports): the owner's rows after `after`.
macro_rules! after {
    ($name:ident, $table:ident, $ty:ty, $map:path) => {
        pub(crate) async fn $name(pool: &PgPool, owner: UserId, after: Option<Uuid>, limit: u32) -> Result<Vec<$ty>> {
            let limit = Arg::Int(i64::from(limit));
            match after {
                Some(after) => {
                    let sql = once!(format!(
                        "SELECT {} FROM {} WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                        $table.select_list(),
                        $table.name
                    ));
                    sql::all(pool, sql, &[Arg::Id(owner.0), Arg::Id(after), limit], $map).await
                }
                None => {
                    let sql = once!(format!(
                        "SELECT {} FROM {} WHERE user_id = $1 ORDER BY id LIMIT $2",
                        $table.select_list(),
                        $table.name
                    ));
                    sql::all(pool, sql, &[Arg::Id(owner.0), limit], $map).await
                }
            }
        }
    };
}

after!(tasks_after, TASKS, Task, crate::schema::tasks::decode);
after!(thoughts_after, THOUGHTS, Thought, crate::schema::thoughts::decode);

pub(crate) async fn settings(pool: &PgPool, owner: UserId) -> Result<Option<Settings>> {
    let sql = once!(format!("SELECT {} FROM settings WHERE user_id = $1", SETTINGS.select_list()));
    sql::one(pool, sql, &[Arg::Id(owner.0)], crate::schema::settings::decode).await
}

pub(crate) async fn profile(pool: &PgPool, owner: UserId) -> Result<Option<Profile>> {
    let sql = once!(format!("SELECT {} FROM profiles WHERE user_id = $1", PROFILES.select_list()));
    sql::one(pool, sql, &[Arg::Id(owner.0)], crate::schema::profiles::decode).await
}

fn direction(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    }
}

pub(crate) async fn tasks(pool: &PgPool, owner: UserId, q: &TaskQuery) -> Result<Page<Task>> {
    let terms = q.text.as_deref().map(search::terms).unwrap_or_default();
    if q.text.is_some() && terms.is_empty() {
        return Ok(Page { items: Vec::new(), total: 0, offset: q.page.offset, limit: q.page.limit });
    }
    let mut f = Filter::owner(STYLE, owner.0);
    // The counters' key, as the `$n`s already bound for the filter.
    let mut counted_key = String::from("user_id = $1");
    if let Some(status) = q.status {
        counted_key.push_str(&format!(" AND status = ${}", f.next()));
        f.and("status = ?", [Arg::Text(status.as_str().into())]);
    }
    if let Some(tag) = &q.tag {
        counted_key.push_str(&format!(" AND tag = ${}", f.next()));
        f.and("tags @> ARRAY[?]", [Arg::Text(tag.clone())]);
    }
    // Filtered by owner, status and tag only: the schema keeps those totals.
    let counted = q.priority.is_none()
        && q.assignee.is_none()
        && q.parent_id.is_none()
        && q.due_before.is_none()
        && q.due_after.is_none()
        && terms.is_empty();
    if let Some(priority) = q.priority {
        // The rank is 1–4 by construction.
        f.and("priority_rank = ?", [Arg::SmallInt(i16::try_from(priority.rank()).unwrap_or(i16::MAX))]);
    }
    if let Some(assignee) = q.assignee {
        f.and("assignee = ?", [Arg::Text(assignee.as_str().into())]);
    }
    if let Some(parent) = q.parent_id {
        f.and("parent_id = ?", [Arg::Id(parent.0)]);
    }
    if let Some(d) = q.due_before {
        f.and("due_date <= ?", [Arg::Date(d)]);
    }
    if let Some(d) = q.due_after {
        f.and("due_date >= ?", [Arg::Date(d)]);
    }
    let words = !terms.is_empty();
    if words {
        f.and(&format!("search @@ {PREFIX_QUERY}"), [Arg::Texts(terms), Arg::Text(String::new())]);
    }
    let d = direction(q.order);
    let order = match (q.sort_by, q.order) {
        (TaskSort::CreatedAt, _) => format!("created_at {d}, seq {d}"),
        (TaskSort::UpdatedAt, _) => format!("updated_at {d}, seq {d}"),
        (TaskSort::Priority, _) => format!("priority_rank {d}, seq {d}"),
        // Byte order, ASCII case folded: the `tasks_by_title` index.
        (TaskSort::Title, _) => format!("lower(title COLLATE \"C\") {d}, seq {d}"),
        // Undated last either way, untimed first on its day (ascending).
        (TaskSort::DueDate, SortOrder::Asc) => "due_date ASC NULLS LAST, due_time ASC NULLS FIRST, seq ASC".into(),
        (TaskSort::DueDate, SortOrder::Desc) => "due_date DESC NULLS LAST, due_time DESC NULLS LAST, seq DESC".into(),
    };
    let counters = |table: &str| format!("SELECT coalesce(sum(n), 0)::bigint FROM {table} WHERE {counted_key}");
    if q.tag.is_some() || words {
        // Counted either way: by the tag counters, or row by row among
        // other filters (as a full page would need anyway).
        let count =
            if counted { counters("task_tag_counts") } else { format!("SELECT count(*) FROM tasks WHERE {}", f.sql()) };
        return sparse_or_dense(pool, &f, &order, &count, q.page).await;
    }
    let total = if counted { Total::Counted(counters("task_counts")) } else { Total::Rows };
    let query = PageQuery { columns: once!(TASKS.select_list()), table: "tasks", filter: &f, order: &order, total };
    sql::page(pool, query, q.page, crate::schema::tasks::decode).await
}

/// A page of tasks filtered by tag or words, whose total (`count`, a query
/// on the filter's `$n`s) is read first. The planner cannot know how many
/// tasks carry a tag or a word (array and tsvector statistics know only the
/// common ones), and guessing wrong is costly both ways: walking the sort
/// order's index past a million rows for a rare tag, or fetching and sorting
/// a million rows for a common one. The exact total picks the plan: a sparse
/// filter's rows are all fetched through its GIN index and sorted (`total`
/// scattered rows); a dense one's page is found by walking the sort order's
/// index (about `window × owned / total` rows, mostly neighbours on disk, so
/// each costs less), whichever is less.
async fn sparse_or_dense(pool: &PgPool, f: &Filter, order: &str, count: &str, page: PageRequest) -> Result<Page<Task>> {
    let empty = |total: i64| Page {
        items: Vec::new(),
        total: u64::try_from(total).unwrap_or_default(),
        offset: page.offset,
        limit: page.limit,
    };
    let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
    let counts = format!("SELECT ({count}), (SELECT coalesce(sum(n), 0)::bigint FROM task_counts WHERE user_id = $1)");
    let (total, owned): (i64, i64) = sql::bind(sqlx::query(AssertSqlSafe(counts)), f.args())
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| Ok((row.try_get(0)?, row.try_get(1)?)))?;
    if i64::try_from(page.offset).unwrap_or(i64::MAX) >= total {
        tx.commit().await?;
        return Ok(empty(total));
    }
    let window = i128::from(sql::offset(page)) + i128::from(page.limit);
    let sparse = 4 * i128::from(total) * i128::from(total) <= window * i128::from(owned);
    let (limit, offset) = (f.next(), f.next() + 1);
    let rows = if sparse {
        format!(
            "WITH hits AS MATERIALIZED (SELECT {}, seq, priority_rank FROM tasks WHERE {}) \
             SELECT * FROM hits ORDER BY {order} LIMIT ${limit} OFFSET ${offset}",
            once!(TASKS.select_list()),
            f.sql()
        )
    } else {
        format!(
            "SELECT {} FROM tasks WHERE {} ORDER BY {order} LIMIT ${limit} OFFSET ${offset}",
            once!(TASKS.select_list()),
            f.sql()
        )
    };
    let found = sql::bind(sqlx::query(AssertSqlSafe(rows)), f.args())
        .bind(i64::from(page.limit))
        .bind(sql::offset(page))
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let items = found.iter().map(crate::schema::tasks::decode).collect::<Result<Vec<Task>>>()?;
    Ok(Page { items, ..empty(total) })
}

pub(crate) async fn thoughts(pool: &PgPool, owner: UserId, q: &ThoughtQuery) -> Result<Page<Thought>> {
    let mut f = Filter::owner(STYLE, owner.0);
    if let Some(status) = q.status {
        f.and("status = ?", [Arg::Text(status.as_str().into())]);
    }
    if !q.tags.is_empty() {
        f.and("tags && ?", [Arg::Texts(q.tags.clone())]);
    }
    let d = direction(q.order);
    let order = match q.sort_by {
        ThoughtSort::CreatedAt => format!("created_at {d}, seq {d}"),
        ThoughtSort::UpdatedAt => format!("updated_at {d}, seq {d}"),
    };
    let columns = once!(THOUGHTS.select_list());
    let query = PageQuery { columns, table: THOUGHTS.name, filter: &f, order: &order, total: Total::Rows };
    sql::page(pool, query, q.page, crate::schema::thoughts::decode).await
}

pub(crate) async fn suggestions(pool: &PgPool, owner: UserId, q: &SuggestionQuery) -> Result<Vec<Suggestion>> {
    let (f, order) = filter::suggestions(STYLE, owner.0, q);
    sql::list(
        pool,
        once!(SUGGESTIONS.select_list()),
        "suggestions",
        &f,
        order,
        q.effective_limit(),
        crate::schema::suggestions::decode,
    )
    .await
}

pub(crate) async fn approvals(pool: &PgPool, owner: UserId, q: &ApprovalQuery) -> Result<Page<Approval>> {
    let f = filter::approvals(STYLE, owner.0, q);
    let columns = once!(APPROVALS.select_list());
    let query = PageQuery {
        columns,
        table: APPROVALS.name,
        filter: &f,
        order: "created_at DESC, seq DESC",
        total: Total::Rows,
    };
    sql::page(pool, query, q.page, crate::schema::approvals::decode).await
}

pub(crate) async fn events(pool: &PgPool, owner: UserId, q: &EventQuery) -> Result<Vec<Event>> {
    let f = filter::events(STYLE, owner.0, q);
    // Behind the owner's event barrier (see `apply`), held exclusively
    // while the events are read: every seq drawn before is committed or
    // gone, every one drawn after is higher than any this read returns.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(EVENTS_BARRIER)
        .bind(barrier_key(owner.0))
        .execute(&mut *tx)
        .await?;
    let found = sql::list(&mut *tx, EVENT_COLUMNS, "events", &f, "seq", q.effective_limit(), decode::event).await?;
    tx.commit().await?;
    Ok(found)
}

pub(crate) async fn consciousness_checks(
    pool: &PgPool,
    owner: UserId,
    q: &CheckQuery,
) -> Result<Vec<ConsciousnessCheck>> {
    let f = filter::consciousness_checks(STYLE, owner.0, q);
    sql::list(
        pool,
        once!(CONSCIOUSNESS_CHECKS.select_list()),
        CONSCIOUSNESS_CHECKS.name,
        &f,
        "created_at DESC, seq DESC",
        q.effective_limit(),
        crate::schema::consciousness_checks::decode,
    )
    .await
}
