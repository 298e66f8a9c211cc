//! The shape of list answers: `{"<items>": [...], "pagination": {total,
//! offset, limit, has_more}}` for paged lists, `{"<items>": [...], "count"}`
//! for the short unpaged ones.

use serde::Serialize;
use serde_json::{Map, Value, json};
use steward::Page;

use super::envelope::Reply;

/// A page of `name` (`tasks`, `thoughts`, …).
pub(crate) fn page<T: Serialize>(name: &str, page: Page<T>) -> Reply {
    let pagination = pagination(&page);
    let mut data = Map::new();
    data.insert(name.into(), serde_json::to_value(&page.items).unwrap_or(Value::Array(Vec::new())));
    data.insert("pagination".into(), pagination);
    Reply::ok(Value::Object(data))
}

pub(crate) fn pagination<T>(page: &Page<T>) -> Value {
    json!({ "total": page.total, "offset": page.offset, "limit": page.limit, "has_more": page.has_more() })
}

/// A short list of `name`, all of it, with its length.
pub(crate) fn counted<T: Serialize>(name: &str, items: Vec<T>) -> Reply {
    let count = items.len();
    let mut data = Map::new();
    data.insert(name.into(), serde_json::to_value(items).unwrap_or(Value::Array(Vec::new())));
    data.insert("count".into(), json!(count));
    Reply::ok(Value::Object(data))
}
