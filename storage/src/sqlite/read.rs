//! The store's reads, each scoped to its owner and ordered exactly like the
//! memory store: the sort key in the requested direction, ties by insertion
//! order (`seq`) in the same direction. Reads run on the read-only pool and
//! never wait for the writer; point reads are in `direct_read`.

use sqlx::SqlitePool;
use steward_core::UserId;
use steward_core::agent::run::{AgentRun, Conversation, RunStep};
use steward_core::approval::Approval;
use steward_core::consciousness::{CheckQuery, ConsciousnessCheck};
use steward_core::event::{Event, EventQuery};
use steward_core::query::{
    Page, PageRequest, SortOrder, StatsWindow, TaskQuery, TaskSort, TaskStatistics, ThoughtQuery, ThoughtSort,
};
use steward_core::search;
use steward_core::settings::Profile;
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

use super::codec::date;
use super::search::match_all;
use super::sql::{self, Arg, Filter, PageQuery, placeholders};
use crate::decode;

/// How this store's SQL writes bind parameters.
const STYLE: Placeholders = Placeholders::Question;

pub(crate) async fn user_by_email(pool: &SqlitePool, email: &str) -> Result<Option<User>> {
    let email = Arg::Text(email.trim().to_lowercase());
    sql::one(pool, "SELECT * FROM users WHERE email = ?", &[email], crate::schema::users::decode).await
}

pub(crate) async fn users(pool: &SqlitePool, page: PageRequest) -> Result<Page<User>> {
    sql::page(
        pool,
        PageQuery::filtered("users", &Filter::everything(STYLE), "seq ASC"),
        page,
        crate::schema::users::decode,
    )
    .await
}

pub(crate) async fn first_admin(pool: &SqlitePool) -> Result<Option<User>> {
    let sql = "SELECT * FROM users WHERE role = ? ORDER BY created_at, seq LIMIT 1";
    sql::one(pool, sql, &[Arg::Text(Role::Admin.as_str().into())], crate::schema::users::decode).await
}

pub(crate) async fn server_settings(pool: &SqlitePool) -> Result<Vec<steward_core::server_settings::ServerSetting>> {
    let schema = crate::schema::server_settings::SELECT;
    sql::all(pool, schema, &[], crate::schema::server_settings::decode).await
}

pub(crate) async fn api_key(pool: &SqlitePool, owner: UserId, id: Uuid) -> Result<Option<ApiKey>> {
    let sql = "SELECT * FROM api_keys WHERE id = ? AND user_id = ?";
    sql::one(pool, sql, &[Arg::Id(id), Arg::Id(owner.0)], crate::schema::api_keys::decode).await
}

pub(crate) async fn webhooks(pool: &SqlitePool, owner: UserId) -> Result<Vec<Webhook>> {
    let sql = "SELECT * FROM webhooks WHERE user_id = ? ORDER BY seq";
    sql::all(pool, sql, &[Arg::Id(owner.0)], crate::schema::webhooks::decode).await
}

pub(crate) async fn api_keys(pool: &SqlitePool, owner: UserId) -> Result<Vec<ApiKey>> {
    sql::all(
        pool,
        "SELECT * FROM api_keys WHERE user_id = ? ORDER BY seq",
        &[Arg::Id(owner.0)],
        crate::schema::api_keys::decode,
    )
    .await
}

/// Keyset pages of an owner's rows in id order (UUID bytes compare like
/// `Uuid`'s `Ord`), for exports.
macro_rules! after {
    ($name:ident, $table:literal, $ty:ty, $map:path) => {
        pub(crate) async fn $name(
            pool: &SqlitePool,
            owner: UserId,
            after: Option<Uuid>,
            limit: u32,
        ) -> Result<Vec<$ty>> {
            let sql = concat!("SELECT * FROM ", $table, " WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?");
            let args = [Arg::Id(owner.0), Arg::Id(after.unwrap_or(Uuid::nil())), Arg::Int(i64::from(limit))];
            sql::all(pool, sql, &args, $map).await
        }
    };
}
after!(tasks_after, "tasks", Task, crate::schema::tasks::decode);
after!(thoughts_after, "thoughts", Thought, crate::schema::thoughts::decode);

/// One owned row of a table keyed by `id`.
macro_rules! owned {
    ($name:ident, $table:literal, $ty:ty, $map:path) => {
        pub(crate) async fn $name(pool: &SqlitePool, owner: UserId, id: Uuid) -> Result<Option<$ty>> {
            let sql = concat!("SELECT * FROM ", $table, " WHERE id = ? AND user_id = ?");
            sql::one(pool, sql, &[Arg::Id(id), Arg::Id(owner.0)], $map).await
        }
    };
}

owned!(thought, "thoughts", Thought, crate::schema::thoughts::decode);
owned!(suggestion, "suggestions", Suggestion, crate::schema::suggestions::decode);
owned!(approval, "approvals", Approval, crate::schema::approvals::decode);
owned!(conversation, "conversations", Conversation, crate::schema::conversations::decode);
owned!(run, "runs", AgentRun, crate::schema::runs::decode);

/// The owner's conversations, most recently updated first, ties the later
/// inserted first (`conversations_by_updated`, walked backwards).
pub(crate) async fn conversations(pool: &SqlitePool, owner: UserId, page: PageRequest) -> Result<Page<Conversation>> {
    sql::page(pool, conversation_page(owner), page, crate::schema::conversations::decode).await
}

fn conversation_page(owner: UserId) -> PageQuery {
    PageQuery::filtered("conversations", &Filter::owner(STYLE, owner.0), "updated_at DESC, seq DESC")
}

/// The runs of one conversation (bound first) of an owner, oldest first
/// (`runs_by_conversation`).
const RUNS: &str = "SELECT * FROM runs WHERE conversation_id = ? AND user_id = ? ORDER BY created_at, seq";

pub(crate) async fn runs(pool: &SqlitePool, owner: UserId, conversation: Uuid) -> Result<Vec<AgentRun>> {
    sql::all(pool, RUNS, &[Arg::Id(conversation), Arg::Id(owner.0)], crate::schema::runs::decode).await
}

/// Counted per (status, priority) group in one pass over the owner's tasks.
const TASK_GROUPS: &str = "SELECT status, priority, count(*) AS n, \
       coalesce(sum(status IN ('pending', 'in_progress', 'waiting_approval') AND due_date < ?2), 0) AS overdue, \
       coalesce(sum(status = 'done' AND completed_at >= ?3), 0) AS done_7, \
       coalesce(sum(status = 'done' AND completed_at >= ?4), 0) AS done_30 \
     FROM tasks WHERE user_id = ?1 GROUP BY status, priority";

/// The owner's agent tasks whose job is still pending past its deadline.
const LATE_AGENT_JOBS: &str = "SELECT count(*) AS n FROM jobs WHERE owner_id = ? AND kind = 'task.agent' \
     AND state IN ('available', 'failed_retrying', 'running') AND deadline < ?";

pub(crate) async fn task_statistics(pool: &SqlitePool, owner: UserId, window: StatsWindow) -> Result<TaskStatistics> {
    let args =
        [Arg::Id(owner.0), Arg::Date(window.today), Arg::Instant(window.week_ago()), Arg::Instant(window.month_ago())];
    let groups = sql::all(pool, TASK_GROUPS, &args, crate::schema::tasks::decode_group).await?;
    let late = [Arg::Id(owner.0), Arg::Instant(window.now)];
    let late = sql::one(pool, LATE_AGENT_JOBS, &late, crate::schema::tasks::decode_count).await?.unwrap_or(0);
    Ok(TaskStatistics::from_groups(groups, late))
}

pub(crate) async fn agent_usage(pool: &SqlitePool, owner: UserId) -> Result<steward_core::agent::Usage> {
    let sql = "SELECT COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens \
               FROM runs WHERE user_id = ?";
    let usage = sql::one(pool, sql, &[Arg::Id(owner.0)], crate::schema::runs::decode_usage).await?;
    Ok(usage.unwrap_or_default())
}

/// The steps of one run (bound first) of an owner in `seq` order (the
/// `(run_id, seq)` key).
const RUN_STEPS: &str = "SELECT * FROM steps WHERE run_id = ? AND user_id = ? ORDER BY seq";

pub(crate) async fn run_steps(pool: &SqlitePool, owner: UserId, run: Uuid) -> Result<Vec<RunStep>> {
    sql::all(pool, RUN_STEPS, &[Arg::Id(run), Arg::Id(owner.0)], crate::schema::steps::decode).await
}
owned!(consciousness_check, "consciousness_checks", ConsciousnessCheck, crate::schema::consciousness_checks::decode);
owned!(webhook, "webhooks", Webhook, crate::schema::webhooks::decode);

pub(crate) async fn profile(pool: &SqlitePool, owner: UserId) -> Result<Option<Profile>> {
    sql::one(pool, "SELECT * FROM profiles WHERE user_id = ?", &[Arg::Id(owner.0)], crate::schema::profiles::decode)
        .await
}

fn direction(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    }
}

pub(crate) async fn tasks(pool: &SqlitePool, owner: UserId, q: &TaskQuery) -> Result<Page<Task>> {
    match task_page(owner, q) {
        Some(query) => sql::page(pool, query, q.page, crate::schema::tasks::decode).await,
        None => Ok(Page { items: Vec::new(), total: 0, offset: q.page.offset, limit: q.page.limit }),
    }
}

/// How far into an index a page may reach and still count as short.
const SHORT_WALK: u64 = 1_000;

/// Whether a task page is a short walk of one index, read on the caller's
/// thread (see `direct_read`): the owner's tasks in any order (each order
/// has its index, see the test below), or those of one status in creation
/// order (`tasks_by_status`), with the total from the counters, ending at
/// most [`SHORT_WALK`] rows from the start. Any other filter can skip any
/// number of rows, and stays on the pool.
pub(crate) fn is_short_task_page(q: &TaskQuery) -> bool {
    let other_filters = q.text.is_some()
        || q.tag.is_some()
        || q.priority.is_some()
        || q.assignee.is_some()
        || q.parent_id.is_some()
        || q.due_before.is_some()
        || q.due_after.is_some();
    let one_index = q.status.is_none() || q.sort_by == TaskSort::CreatedAt;
    !other_filters && one_index && q.page.offset.saturating_add(u64::from(q.page.limit)) <= SHORT_WALK
}

/// The statements of a task list page; `None` when a search has no word
/// left to look for (nothing can match).
pub(crate) fn task_page(owner: UserId, q: &TaskQuery) -> Option<PageQuery> {
    let terms = q.text.as_deref().map(search::terms).unwrap_or_default();
    if q.text.is_some() && terms.is_empty() {
        return None;
    }
    // Filtered by owner, status and tag only: the schema keeps those totals.
    let counted = q.priority.is_none()
        && q.assignee.is_none()
        && q.parent_id.is_none()
        && q.due_before.is_none()
        && q.due_after.is_none()
        && terms.is_empty();
    let mut f = Filter::owner(STYLE, owner.0);
    if let Some(status) = q.status {
        f.and("status = ?", [Arg::Text(status.as_str().into())]);
    }
    if let Some(tag) = &q.tag {
        let clause = "seq IN (SELECT task_seq FROM task_tags WHERE user_id = ? AND tag = ?)";
        f.and(clause, [Arg::Id(owner.0), Arg::Text(tag.clone())]);
    }
    if let Some(priority) = q.priority {
        f.and("priority_rank = ?", [Arg::Int(priority.rank())]);
    }
    if let Some(assignee) = q.assignee {
        f.and("assignee = ?", [Arg::Text(assignee.as_str().into())]);
    }
    if let Some(parent) = q.parent_id {
        f.and("parent_id = ?", [Arg::Id(parent.0)]);
    }
    // On `due_key` ('YYYY-MM-DDT…', see the schema) so the due index serves them.
    if let Some(d) = q.due_before {
        f.and("due_key < ?", [Arg::Text(format!("{}U", date(d)))]);
    }
    if let Some(d) = q.due_after {
        f.and("due_key >= ?", [Arg::Text(format!("{}T", date(d)))]);
    }
    if !terms.is_empty() {
        f.and("seq IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)", [Arg::Text(match_all(&terms))]);
    }
    let d = direction(q.order);
    let order = match (q.sort_by, q.order) {
        (TaskSort::CreatedAt, _) => format!("created_at {d}, seq {d}"),
        (TaskSort::UpdatedAt, _) => format!("updated_at {d}, seq {d}"),
        (TaskSort::Priority, _) => format!("priority_rank {d}, seq {d}"),
        (TaskSort::Title, _) => format!("lower(title) {d}, seq {d}"),
        // Undated last either way. SQLite walks `tasks_by_due` for both: the
        // dated rows then the NULLs ascending, backwards descending.
        (TaskSort::DueDate, SortOrder::Asc) => "due_key ASC NULLS LAST, seq ASC".into(),
        (TaskSort::DueDate, SortOrder::Desc) => "due_key DESC, seq DESC".into(),
    };
    let mut query = PageQuery::filtered("tasks", &f, &order);
    if counted {
        counted_tasks(&mut query, owner, q);
    }
    Some(query)
}

/// For a list filtered by status and tag only: the total from the counters,
/// and, for a tag in creation order, the page from the tag index.
fn counted_tasks(query: &mut PageQuery, owner: UserId, q: &TaskQuery) {
    let mut scope = vec![Arg::Id(owner.0)];
    let (table, mut clause) = match &q.tag {
        Some(tag) => {
            scope.push(Arg::Text(tag.clone()));
            ("task_tag_counts", "user_id = ? AND tag = ?".to_string())
        }
        None => ("task_counts", "user_id = ?".to_string()),
    };
    if let Some(status) = q.status {
        clause.push_str(" AND status = ?");
        scope.push(Arg::Text(status.as_str().into()));
    }
    query.count = format!("SELECT coalesce(sum(n), 0) FROM {table} WHERE {clause}");
    query.count_args = scope.clone();
    if q.tag.is_some() && q.sort_by == TaskSort::CreatedAt {
        let d = direction(q.order);
        query.rows = format!(
            "SELECT * FROM tasks WHERE seq IN (SELECT task_seq FROM task_tags WHERE {clause} \
             ORDER BY created_at {d}, task_seq {d} LIMIT ? OFFSET ?) ORDER BY created_at {d}, seq {d}"
        );
        query.args = scope;
    }
}

pub(crate) async fn thoughts(pool: &SqlitePool, owner: UserId, q: &ThoughtQuery) -> Result<Page<Thought>> {
    let mut f = Filter::owner(STYLE, owner.0);
    if let Some(status) = q.status {
        f.and("status = ?", [Arg::Text(status.as_str().into())]);
    }
    if !q.tags.is_empty() {
        let clause = format!(
            "seq IN (SELECT thought_seq FROM thought_tags WHERE user_id = ? AND tag IN ({}))",
            placeholders(q.tags.len())
        );
        let args = std::iter::once(Arg::Id(owner.0)).chain(q.tags.iter().cloned().map(Arg::Text));
        f.and(&clause, args);
    }
    let d = direction(q.order);
    let order = match q.sort_by {
        ThoughtSort::CreatedAt => format!("created_at {d}, seq {d}"),
        ThoughtSort::UpdatedAt => format!("updated_at {d}, seq {d}"),
    };
    sql::page(pool, PageQuery::filtered("thoughts", &f, &order), q.page, crate::schema::thoughts::decode).await
}

pub(crate) async fn suggestions(pool: &SqlitePool, owner: UserId, q: &SuggestionQuery) -> Result<Vec<Suggestion>> {
    let (f, order) = filter::suggestions(STYLE, owner.0, q);
    sql::list(pool, "suggestions", &f, order, q.effective_limit(), crate::schema::suggestions::decode).await
}

pub(crate) async fn approvals(pool: &SqlitePool, owner: UserId, q: &ApprovalQuery) -> Result<Page<Approval>> {
    let f = filter::approvals(STYLE, owner.0, q);
    let query = PageQuery::filtered("approvals", &f, "created_at DESC, seq DESC");
    sql::page(pool, query, q.page, crate::schema::approvals::decode).await
}

pub(crate) async fn events(pool: &SqlitePool, owner: UserId, q: &EventQuery) -> Result<Vec<Event>> {
    let f = filter::events(STYLE, owner.0, q);
    sql::list(pool, "events", &f, "seq ASC", q.effective_limit(), decode::event).await
}

pub(crate) async fn consciousness_checks(
    pool: &SqlitePool,
    owner: UserId,
    q: &CheckQuery,
) -> Result<Vec<ConsciousnessCheck>> {
    let f = filter::consciousness_checks(STYLE, owner.0, q);
    let decode = crate::schema::consciousness_checks::decode;
    sql::list(pool, "consciousness_checks", &f, "created_at DESC, seq DESC", q.effective_limit(), decode).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use steward_core::task::TaskStatus;

    use sqlx::AssertSqlSafe;

    use super::*;
    use crate::sqlite::connect::{SqliteOptions, open};

    /// Every short page (`is_short_task_page`): one status in creation
    /// order, and the owner's tasks in each order.
    pub(crate) fn short_pages() -> Vec<TaskQuery> {
        let sorts = [TaskSort::CreatedAt, TaskSort::UpdatedAt, TaskSort::DueDate, TaskSort::Priority, TaskSort::Title];
        let mut queries = vec![TaskQuery { status: Some(TaskStatus::Pending), ..TaskQuery::default() }];
        for sort_by in sorts {
            for order in [SortOrder::Asc, SortOrder::Desc] {
                queries.push(TaskQuery { sort_by, order, ..TaskQuery::default() });
            }
        }
        assert!(queries.iter().all(is_short_task_page));
        queries
    }

    /// `plan`, the plan of `q`'s page, walks an index and sorts nothing.
    pub(crate) fn assert_walks_an_index(q: &TaskQuery, plan: &[String]) {
        assert!(plan.iter().any(|step| step.contains("INDEX")), "{:?} {:?}: {plan:?}", q.sort_by, q.order);
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{:?} {:?} sorts: {plan:?}", q.sort_by, q.order);
    }

    /// What SQLite plans for the statement of one task list page.
    async fn plan(pool: &SqlitePool, q: &TaskQuery) -> Vec<String> {
        let query = task_page(UserId(Uuid::from_u128(7)), q).unwrap();
        let rows = query.with_total("EXPLAIN QUERY PLAN ", q.page).unwrap().fetch_all(pool).await.unwrap();
        rows.iter().map(|row| sqlx::Row::get::<String, _>(row, "detail")).collect()
    }

    /// Every order of an owner's list, and a list by status in creation
    /// order, walks an index: the first page never sorts the owner's whole
    /// list. A list by tag in creation order takes its page from the tag
    /// table's key and sorts only that page. (An edit to an index or an
    /// `ORDER BY` that breaks this shows up here, not only in a benchmark
    /// over a million rows.)
    #[tokio::test]
    async fn first_pages_walk_an_index_instead_of_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let opened = open(&url, &SqliteOptions::default()).await.unwrap();
        for q in &short_pages() {
            assert_walks_an_index(q, &plan(&opened.read, q).await);
        }
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let q = TaskQuery {
                tag: Some("work".into()),
                status: Some(TaskStatus::Pending),
                order,
                ..TaskQuery::default()
            };
            let plan = plan(&opened.read, &q).await;
            assert!(plan.contains(&"SEARCH task_tags USING PRIMARY KEY (user_id=? AND tag=?)".to_string()), "{plan:?}");
            assert!(plan.contains(&"SEARCH tasks USING INTEGER PRIMARY KEY (rowid=?)".to_string()), "{plan:?}");
            assert_eq!(
                plan.iter().filter(|step| step.contains("TEMP B-TREE")).count(),
                1,
                "only the page is sorted: {plan:?}"
            );
        }
    }

    /// What a deleted task's foreign keys look for (its sub-steps, its
    /// thoughts) is found through the partial indexes, which hold only rows
    /// that have a value: `col = ?` implies `col IS NOT NULL` to SQLite's
    /// planner, so a delete never scans every task or thought.
    #[tokio::test]
    async fn cascades_of_a_deleted_task_use_the_partial_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let opened = open(&url, &SqliteOptions::default()).await.unwrap();
        let lookups = [
            ("SELECT seq FROM tasks WHERE parent_id = ?", "INDEX tasks_by_parent (parent_id=?)"),
            ("UPDATE thoughts SET task_id = NULL WHERE task_id = ?", "INDEX thoughts_by_task (task_id=?)"),
        ];
        for (sql, index) in lookups {
            let rows = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind(Uuid::from_u128(8))
                .fetch_all(&opened.read)
                .await
                .unwrap();
            let plan: Vec<String> = rows.iter().map(|row| sqlx::Row::get::<String, _>(row, "detail")).collect();
            assert!(plan.iter().any(|step| step.contains(index)), "{sql}: {plan:?}");
        }
        for (table, index) in
            [("tasks", "tasks_by_parent"), ("tasks", "tasks_by_source"), ("thoughts", "thoughts_by_task")]
        {
            let partial: bool = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT partial FROM pragma_index_list('{table}') WHERE name = '{index}'"
            )))
            .fetch_one(&opened.read)
            .await
            .unwrap();
            assert!(partial, "{index} holds every {table} row, those without a value too");
        }
    }

    /// The agent's reads walk their indexes: the conversation list by
    /// `conversations_by_updated` (backwards), a conversation's runs by
    /// `runs_by_conversation`, a run's steps by its `(run_id, seq)` key;
    /// none sorts.
    #[tokio::test]
    async fn agent_reads_walk_an_index_instead_of_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let opened = open(&url, &SqliteOptions::default()).await.unwrap();
        let owner = UserId(Uuid::from_u128(7));
        let page = PageRequest::default();
        let conversations = conversation_page(owner).with_total("EXPLAIN QUERY PLAN ", page).unwrap();
        let by_parent = |sql: &'static str| {
            let plan = format!("EXPLAIN QUERY PLAN {sql}");
            sqlx::query(AssertSqlSafe(plan)).bind(Uuid::from_u128(8)).bind(owner.0)
        };
        let reads = [
            ("conversations", conversations, "conversations_by_updated"),
            ("runs", by_parent(RUNS), "runs_by_conversation"),
            ("run_steps", by_parent(RUN_STEPS), "sqlite_autoindex_steps"),
        ];
        for (read, query, index) in reads {
            let rows = query.fetch_all(&opened.read).await.unwrap();
            let plan: Vec<String> = rows.iter().map(|row| sqlx::Row::get::<String, _>(row, "detail")).collect();
            assert!(plan.iter().any(|step| step.contains(index)), "{read}: {plan:?}");
            assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{read} sorts: {plan:?}");
        }
    }
}
