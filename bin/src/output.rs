//! What the commands print: tables and summaries for people, JSON for
//! scripts (`--json`). Rendering only; no decisions about the data.
//!
//! Output is written in one piece and write errors are returned, never
//! panicked on (a closed pipe is an ordinary event for a CLI).

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ColumnConstraint, ContentArrangement, Table};
use serde::Serialize;
use serde_json::{Map, Value};
use steward::{Completion, Page, Task, Thought};

use crate::errors::Failure;

/// Where and how results go: stdout, as JSON or as text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn new(json: bool) -> Output {
        Output { json }
    }

    /// Prints `machine` as JSON with `--json`, else the text `human` renders.
    pub(crate) fn emit<T: Serialize + ?Sized>(
        &self,
        machine: &T,
        human: impl FnOnce() -> String,
    ) -> Result<(), Failure> {
        let text = if self.json { to_json(machine)? } else { human() };
        print(&text)?;
        Ok(())
    }
}

/// One JSON document on one line.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value)
        .map_err(|e| Failure::Domain(steward::Error::Internal(format!("cannot encode JSON: {e}"))))
}

/// Writes `text` and a final newline to stdout.
pub(crate) fn print(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()
}

/// `{"<items_key>": [...], "pagination": {total, offset, limit, has_more}}`.
pub(crate) fn page_json<T: Serialize>(items_key: &str, page: &Page<T>) -> Result<Value, Failure> {
    let items = serde_json::to_value(&page.items)
        .map_err(|e| Failure::Domain(steward::Error::Internal(format!("cannot encode JSON: {e}"))))?;
    let mut pagination = Map::new();
    pagination.insert("total".into(), page.total.into());
    pagination.insert("offset".into(), page.offset.into());
    pagination.insert("limit".into(), page.limit.into());
    pagination.insert("has_more".into(), page.has_more().into());
    let mut body = Map::new();
    body.insert(items_key.into(), items);
    body.insert("pagination".into(), Value::Object(pagination));
    Ok(Value::Object(body))
}

/// Tasks as a table: full ids (people copy them), title, priority, status,
/// due, tags.
pub(crate) fn task_table(tasks: &[Task]) -> String {
    let mut table = table(&["id", "title", "priority", "status", "due", "tags"]);
    for task in tasks {
        table.add_row(vec![
            task.id.to_string(),
            task.title.clone(),
            task.priority.to_string(),
            task.status.to_string(),
            due(task),
            task.tags.join(", "),
        ]);
    }
    table.to_string()
}

/// A page of tasks with its "showing X–Y of TOTAL" footer.
pub(crate) fn task_page(page: &Page<Task>) -> String {
    if page.items.is_empty() {
        return footer(page);
    }
    format!("{}\n{}", task_table(&page.items), footer(page))
}

/// A completed task and, for a recurring one, its next occurrence.
pub(crate) fn completion(done: &Completion) -> String {
    let mut text = format!("completed:\n{}", task_table(std::slice::from_ref(&done.task)));
    if let Some(next) = &done.next {
        text.push_str("\nnext occurrence:\n");
        text.push_str(&task_table(std::slice::from_ref(next)));
    }
    text
}

/// Every field of a task, one per line.
pub(crate) fn task_details(task: &Task) -> String {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let fields = [
        ("id", task.id.to_string()),
        ("title", task.title.clone()),
        ("description", or_dash(task.description.clone())),
        ("priority", task.priority.to_string()),
        ("status", task.status.to_string()),
        ("due", or_dash(Some(due(task)).filter(|d| !d.is_empty()))),
        ("recurrence", or_dash(task.recurrence.clone())),
        ("tags", or_dash(Some(task.tags.join(", ")).filter(|t| !t.is_empty()))),
        ("parent", or_dash(task.parent_id.map(|id| id.to_string()))),
        ("assignee", task.assignee.to_string()),
        ("effort", or_dash(task.estimated_effort_minutes.map(|m| format!("{m} min")))),
        ("source thought", or_dash(task.source_thought_id.map(|id| id.to_string()))),
        ("metadata", task.metadata.to_string()),
        ("created", instant(&task.created_at)),
        ("updated", instant(&task.updated_at)),
        ("completed", or_dash(task.completed_at.as_ref().map(instant))),
        ("version", task.version.to_string()),
    ];
    fields.iter().map(|(name, value)| format!("{name:<15} {value}")).collect::<Vec<_>>().join("\n")
}

/// Thoughts as a table; long content is shortened (the JSON has it all).
pub(crate) fn thought_table(thoughts: &[Thought]) -> String {
    let mut table = table(&["id", "content", "tags", "status", "created"]);
    for thought in thoughts {
        table.add_row(vec![
            thought.id.to_string(),
            shorten(&thought.content, 60),
            thought.tags.join(", "),
            thought.status.to_string(),
            instant(&thought.created_at),
        ]);
    }
    table.to_string()
}

/// A page of thoughts with its footer.
pub(crate) fn thought_page(page: &Page<Thought>) -> String {
    if page.items.is_empty() {
        return footer(page);
    }
    format!("{}\n{}", thought_table(&page.items), footer(page))
}

/// `showing 21–40 of 57`.
pub(crate) fn footer<T>(page: &Page<T>) -> String {
    if page.items.is_empty() {
        return format!("showing 0 of {}", page.total);
    }
    let first = page.offset + 1;
    let last = page.offset + page.items.len() as u64;
    format!("showing {first}–{last} of {}", page.total)
}

/// The due date and time, whichever are set (empty when neither).
pub(crate) fn due(task: &Task) -> String {
    let date = task.due_date.map(|d| d.format("%Y-%m-%d").to_string());
    let time = task.due_time.map(|t| t.format("%H:%M").to_string());
    match (date, time) {
        (Some(date), Some(time)) => format!("{date} {time}"),
        (Some(date), None) => date,
        (None, Some(time)) => time,
        (None, None) => String::new(),
    }
}

pub(crate) fn instant(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub(crate) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    // Ids are copied by hand: never wrap them.
    if let Some(id) = table.column_mut(0) {
        id.set_constraint(ColumnConstraint::ContentWidth);
    }
    table
}

/// The first `max` characters on one line, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_content_is_cut_on_a_character_boundary() {
        assert_eq!(shorten("héllo wörld", 5), "héll…");
        assert_eq!(shorten("short", 60), "short");
        assert_eq!(shorten("two\nlines", 60), "two lines");
    }
}
