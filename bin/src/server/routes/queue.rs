//! `/queue`: the work queue as the caller may see it (core decides: an
//! admin everything, others their own jobs), and retrying a job.

use axum::extract::State;
use steward::JobId;
use steward::core::job::JobQuery;

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::{Params, PathId};
use crate::server::lists;
use crate::server::state::AppState;

pub(crate) async fn stats(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.queue_stats(&p).await?))
}

pub(crate) async fn jobs(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let query = JobQuery { state: q.domain("state"), kind: q.text("kind"), page: q.page(20) };
    let query = q.finish(query)?;
    Ok(lists::page("jobs", s.steward.jobs(&p, &query).await?))
}

pub(crate) async fn retry(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<JobId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.retry_job(&p, id).await?))
}
