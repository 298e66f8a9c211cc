//! `/tasks`: create, quick-add, list, show, update, delete, change status,
//! complete (with the next occurrence of a recurring task as `next`).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward::core::quickadd::ParsedTask;
use steward::{Completion, NewTask, Task, TaskId, TaskPatch, TaskQuery, TaskStatus};

use crate::server::auth::Caller;
use crate::server::envelope::{NoContent, Reply};
use crate::server::error::ApiError;
use crate::server::extract::{Body, IfMatch, Params, PathId};
use crate::server::state::AppState;

pub(crate) async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(new): Body<NewTask>,
) -> Result<Reply, ApiError> {
    let task = s.steward.create_task(&p, new).await?;
    Ok(Reply::created_at(format!("/tasks/{}", task.id), task))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["text"]))]
pub(crate) struct Quick {
    #[serde(default)]
    #[schemars(length(min = 1), pattern(steward::core::patterns::LINE))]
    text: String,
}

/// A task with what the quick-add parser understood beside its fields.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct QuickAdded {
    #[serde(flatten)]
    task: Task,
    parsed: ParsedTask,
}

pub(crate) async fn quick(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(q): Body<Quick>,
) -> Result<Reply, ApiError> {
    let added = s.steward.quick_add(&p, &q.text).await?;
    let at = format!("/tasks/{}", added.task.id);
    Ok(Reply::created_at(at, QuickAdded { task: added.task, parsed: added.parsed }))
}

pub(crate) async fn statistics(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.task_statistics(&p).await?))
}

pub(crate) async fn list(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let query = TaskQuery {
        status: q.domain("status"),
        priority: q.domain("priority"),
        tag: q.text("tag"),
        assignee: q.domain("assignee"),
        parent_id: q.value::<uuid::Uuid>("parent_id", "a UUID").map(TaskId),
        due_before: q.value("due_before", "a date (YYYY-MM-DD)"),
        due_after: q.value("due_after", "a date (YYYY-MM-DD)"),
        text: q.text("q"),
        sort_by: q.sort(),
        order: q.order(),
        page: q.page(20),
    };
    let query = q.finish(query)?;
    s.pages.page(&s.steward, p.user_id, "tasks", &query, || s.steward.tasks(&p, query.clone())).await
}

pub(crate) async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<TaskId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.task(&p, id).await?))
}

pub(crate) async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<TaskId>,
    IfMatch(version): IfMatch,
    Body(patch): Body<TaskPatch>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.update_task(&p, id, patch, version).await?))
}

pub(crate) async fn remove(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<TaskId>,
    IfMatch(version): IfMatch,
) -> Result<NoContent, ApiError> {
    s.steward.delete_task(&p, id, version).await?;
    Ok(NoContent)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct StatusChange {
    status: TaskStatus,
}

/// The task's fields, and `next`: the occurrence a completion created.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Completed {
    #[serde(flatten)]
    task: Task,
    next: Option<Task>,
}

impl From<Completion> for Completed {
    fn from(c: Completion) -> Completed {
        Completed { task: c.task, next: c.next }
    }
}

pub(crate) async fn set_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<TaskId>,
    IfMatch(version): IfMatch,
    Body(change): Body<StatusChange>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(Completed::from(s.steward.set_task_status(&p, id, change.status, version).await?)))
}

pub(crate) async fn complete(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<TaskId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(Completed::from(s.steward.complete_task(&p, id).await?)))
}
