//! What the commands print: tables and summaries for people, JSON for
//! scripts (`--json`). Rendering only; no decisions about the data.
//!
//! Output is written in one piece and write errors are returned, never
//! panicked on (a closed pipe is an ordinary event for a CLI). Text that
//! came from a person or a file is shown through [`escape`], so a control
//! character in it (a terminal escape sequence) is printed as `\u{1b}`,
//! never acted on by the terminal.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ColumnConstraint, ContentArrangement, Table};
use serde::Serialize;
use serde_json::{Map, Value};
use steward::{Completion, Page, Scored, Suggestion, Task, Thought};

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

    pub(crate) fn is_json(&self) -> bool {
        self.json
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
            escape(&task.title),
            task.priority.to_string(),
            task.status.to_string(),
            due(task),
            escape(&task.tags.join(", ")),
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
        ("title", escape(&task.title)),
        ("description", or_dash(task.description.as_deref().map(escape))),
        ("priority", task.priority.to_string()),
        ("status", task.status.to_string()),
        ("due", or_dash(Some(due(task)).filter(|d| !d.is_empty()))),
        ("recurrence", or_dash(task.recurrence.as_deref().map(escape))),
        ("tags", or_dash(Some(escape(&task.tags.join(", "))).filter(|t| !t.is_empty()))),
        ("parent", or_dash(task.parent_id.map(|id| id.to_string()))),
        ("assignee", task.assignee.to_string()),
        ("effort", or_dash(task.estimated_effort_minutes.map(|m| format!("{m} min")))),
        ("source thought", or_dash(task.source_thought_id.map(|id| id.to_string()))),
        ("metadata", escape(&task.metadata.to_string())),
        ("created", instant(&task.created_at)),
        ("updated", instant(&task.updated_at)),
        ("completed", or_dash(task.completed_at.as_ref().map(instant))),
        ("version", task.version.to_string()),
    ];
    fields.iter().map(|(name, value)| format!("{name:<15} {value}")).collect::<Vec<_>>().join("\n")
}

/// Every field of a thought, its content last and whole (lines and tabs
/// kept, other control characters escaped).
pub(crate) fn thought_details(thought: &Thought) -> String {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let list = |items: &[String]| or_dash(Some(escape(&items.join(", "))).filter(|t| !t.is_empty()));
    let fields = [
        ("id", thought.id.to_string()),
        ("status", thought.status.to_string()),
        ("tags", list(&thought.tags)),
        ("type", or_dash(thought.thought_type.map(|t| t.as_str().to_string()))),
        ("actionable", or_dash(thought.is_actionable.map(|a| a.to_string()))),
        ("suggested tags", list(&thought.suggested_tags)),
        ("task", or_dash(thought.task_id.map(|id| id.to_string()))),
        ("created", instant(&thought.created_at)),
        ("updated", instant(&thought.updated_at)),
        ("analyzed", or_dash(thought.analyzed_at.as_ref().map(instant))),
        ("version", thought.version.to_string()),
    ];
    let mut text = fields.iter().map(|(name, value)| format!("{name:<15} {value}")).collect::<Vec<_>>().join("\n");
    text.push_str("\n\n");
    text.push_str(&escape_keeping_lines(&thought.content));
    text
}

/// Search hits with their relevance, best first.
pub(crate) fn scored_thought_page(page: &Page<Scored<Thought>>) -> String {
    if page.items.is_empty() {
        return footer(page);
    }
    let mut table = table(&["id", "score", "content", "tags", "found in"]);
    for hit in &page.items {
        let found_in: Vec<&str> = hit
            .matched_fields
            .iter()
            .map(|f| match f {
                steward::SearchField::Content => "content",
                steward::SearchField::Tags => "tags",
            })
            .collect();
        table.add_row(vec![
            hit.item.id.to_string(),
            format!("{:.2}", hit.match_score),
            shorten(&hit.item.content, 60),
            escape(&hit.item.tags.join(", ")),
            found_in.join(", "),
        ]);
    }
    format!("{table}\n{}", footer(page))
}

/// Suggestions as a table.
pub(crate) fn suggestion_table(suggestions: &[Suggestion]) -> String {
    let mut table = table(&["id", "title", "priority", "confidence", "status", "due hint"]);
    for s in suggestions {
        table.add_row(vec![
            s.id.to_string(),
            escape(&s.title),
            s.priority.to_string(),
            format!("{:.2}", s.confidence),
            if s.is_deleted { format!("{} (deleted)", s.status) } else { s.status.to_string() },
            s.due_date_hint.map(|d| d.to_string()).unwrap_or_default(),
        ]);
    }
    table.to_string()
}

/// Every field of a suggestion, one per line.
pub(crate) fn suggestion_details(s: &Suggestion) -> String {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let fields = [
        ("id", s.id.to_string()),
        ("title", escape(&s.title)),
        ("description", or_dash(s.description.as_deref().map(escape))),
        ("priority", s.priority.to_string()),
        ("confidence", format!("{:.2}", s.confidence)),
        ("reasoning", or_dash(s.reasoning.as_deref().map(escape))),
        ("status", s.status.to_string()),
        ("due hint", or_dash(s.due_date_hint.map(|d| d.to_string()))),
        ("thought", s.source_thought_id.to_string()),
        ("task", or_dash(s.created_task_id.map(|id| id.to_string()))),
        ("deleted", or_dash(s.deleted_at.as_ref().map(instant))),
        ("created", instant(&s.created_at)),
        ("version", s.version.to_string()),
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
            escape(&thought.tags.join(", ")),
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

/// The first `max` characters on one line, with `…` when cut, escaped.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return escape(&flat);
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    escape(&cut)
}

/// `text` with every control character (C0, DEL, C1) written out as
/// `\u{…}`, so a terminal shows it instead of obeying it.
pub(crate) fn escape(text: &str) -> String {
    escape_except(text, |_| false)
}

/// [`escape`], keeping newlines and tabs (for multi-line content shown whole).
pub(crate) fn escape_keeping_lines(text: &str) -> String {
    escape_except(text, |c| c == '\n' || c == '\t')
}

fn escape_except(text: &str, keep: impl Fn(char) -> bool) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| if c.is_control() && !keep(c) { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

/// `steward task stats` for people.
pub(crate) fn task_statistics(s: &steward::core::query::TaskStatistics) -> String {
    let st = &s.by_status;
    let pr = &s.by_priority;
    format!(
        "{} tasks: {} pending, {} in progress, {} waiting for approval, {} done, {} cancelled\n\
         by priority: {} critical, {} high, {} medium, {} low\n\
         overdue: {}; completed in the last 7 days: {}, in the last 30 days: {}; late agent tasks: {}",
        s.total,
        st.pending,
        st.in_progress,
        st.waiting_approval,
        st.done,
        st.cancelled,
        pr.critical,
        pr.high,
        pr.medium,
        pr.low,
        s.overdue,
        s.completed_last_7_days,
        s.completed_last_30_days,
        s.sla_breaches
    )
}

#[cfg(test)]
mod tests {
    use super::{escape, escape_keeping_lines, shorten};

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape("x \u{1b}[31mred"), "x \\u{1b}[31mred");
        assert_eq!(escape("a\tb\nc"), "a\\u{9}b\\u{a}c");
        assert_eq!(escape_keeping_lines("a\tb\nc\u{7}"), "a\tb\nc\\u{7}");
        assert_eq!(escape("plain café"), "plain café");
    }

    #[test]
    fn long_content_is_cut_on_a_character_boundary() {
        assert_eq!(shorten("héllo wörld", 5), "héll…");
        assert_eq!(shorten("short", 60), "short");
        assert_eq!(shorten("two\nlines", 60), "two lines");
    }
}
