//! `/thoughts`: capture, list, search, show, update, delete.

use axum::extract::State;
use serde::Serialize;
use steward::{NewThought, Scored, SearchField, Thought, ThoughtId, ThoughtPatch, ThoughtQuery};

use crate::server::auth::Caller;
use crate::server::envelope::{NoContent, Reply};
use crate::server::error::ApiError;
use crate::server::extract::{Body, IfMatch, Params, PathId};
use crate::server::lists;
use crate::server::state::AppState;

/// A search's default page size (`API.md` §3).
const SEARCH_LIMIT: u32 = 50;

pub(crate) async fn capture(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(new): Body<NewThought>,
) -> Result<Reply, ApiError> {
    let thought = s.steward.capture_thought(&p, new).await?;
    Ok(Reply::created_at(format!("/thoughts/{}", thought.id), thought))
}

pub(crate) async fn list(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let tags = q.text("tags").map(|t| t.split(',').map(str::to_string).collect()).unwrap_or_default();
    let query =
        ThoughtQuery { status: q.domain("status"), tags, sort_by: q.sort(), order: q.order(), page: q.page(20) };
    let query = q.finish(query)?;
    s.pages.page(&s.steward, p.user_id, "thoughts", &query, || s.steward.thoughts(&p, query.clone())).await
}

pub(crate) async fn search(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let text = q.text("q");
    let fields = match q.text("fields") {
        Some(fields) => fields.split(',').filter_map(|f| search_field(&mut q, f)).collect(),
        None => vec![SearchField::Content, SearchField::Tags],
    };
    let page = q.page(SEARCH_LIMIT);
    let text = match text {
        Some(text) => q.finish(text)?,
        None => {
            let missing = steward::FieldError::query("q", "is required and must not be empty");
            return Err(ApiError::invalid(vec![missing]));
        }
    };
    let found = s.steward.search_thoughts(&p, &text, &fields, page).await?;
    let pagination = lists::pagination(&found);
    Ok(Reply::ok(SearchResults { query: text, results: found.items, pagination }))
}

/// A search's answer: the query as read, the hits best first, the page.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct SearchResults {
    query: String,
    results: Vec<Scored<Thought>>,
    pagination: lists::Pagination,
}

fn search_field(q: &mut crate::server::extract::QueryReader<'_>, name: &str) -> Option<SearchField> {
    match name.trim() {
        "content" => Some(SearchField::Content),
        "tags" => Some(SearchField::Tags),
        _ => {
            q.reject("fields", format!("'{}' is not one of content, tags", name.trim()));
            None
        }
    }
}

pub(crate) async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ThoughtId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.thought(&p, id).await?))
}

pub(crate) async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ThoughtId>,
    IfMatch(version): IfMatch,
    Body(patch): Body<ThoughtPatch>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.update_thought(&p, id, patch, version).await?))
}

pub(crate) async fn remove(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ThoughtId>,
    IfMatch(version): IfMatch,
) -> Result<NoContent, ApiError> {
    s.steward.delete_thought(&p, id, version).await?;
    Ok(NoContent)
}

pub(crate) async fn related(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ThoughtId>,
    params: Params,
) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let limit = q.value::<u32>("limit", "a whole number from 1 to 50").unwrap_or(10);
    if !(1..=50).contains(&limit) {
        q.reject("limit", "must be between 1 and 50");
    }
    let limit = q.finish(limit)?;
    let related = s.steward.related_thoughts(&p, id, limit).await?;
    Ok(Reply::ok(Related { thought_id: id, related }))
}

/// The thoughts most like one, most similar first.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Related {
    thought_id: ThoughtId,
    related: Vec<Scored<Thought>>,
}
