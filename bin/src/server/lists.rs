//! The shape of list answers: `{"<items>": [...], "pagination": {total,
//! offset, limit, has_more}}` for paged lists, `{"<items>": [...], "count"}`
//! for the short unpaged ones. Serialised straight from the items, without
//! an intermediate JSON tree.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use steward::Page;

use axum::body::Bytes;

use super::envelope::{self, Reply};
use super::error::ApiError;

/// A page of `name` (`tasks`, `thoughts`, …).
pub(crate) fn page<T: Serialize>(name: &str, page: Page<T>) -> Reply {
    Reply::ok(Listed { name, items: &page.items, tail: ("pagination", pagination(&page)) })
}

/// The JSON text of [`page`]'s `data`.
pub(crate) fn page_json<T: Serialize>(name: &str, page: &Page<T>) -> Result<Bytes, ApiError> {
    envelope::to_json(&Listed { name, items: &page.items, tail: ("pagination", pagination(page)) })
}

/// The `pagination` member of a page.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Pagination {
    total: u64,
    offset: u64,
    #[schemars(range(min = 1))]
    limit: u32,
    has_more: bool,
}

pub(crate) fn pagination<T>(page: &Page<T>) -> Pagination {
    Pagination { total: page.total, offset: page.offset, limit: page.limit, has_more: page.has_more() }
}

/// A short list of `name`, all of it, with its length.
pub(crate) fn counted<T: Serialize>(name: &str, items: Vec<T>) -> Reply {
    Reply::ok(Listed { name, items: &items, tail: ("count", items.len()) })
}

/// `{"<name>": items, "<tail.0>": tail.1}`.
struct Listed<'a, T, U> {
    name: &'a str,
    items: &'a [T],
    tail: (&'static str, U),
}

impl<T: Serialize, U: Serialize> Serialize for Listed<'_, T, U> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.name, self.items)?;
        map.serialize_entry(self.tail.0, &self.tail.1)?;
        map.end()
    }
}
