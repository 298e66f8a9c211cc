//! Reading tool results back: the task a title lookup found, and the
//! plain-text account of what the calls did. Results are read leniently
//! (any JSON holding objects with `id` and `title`, or plain text), so the
//! model does not depend on how the agent formats them.

use serde_json::Value;
use steward_core::agent::tools::Builtin;
use steward_core::agent::{ToolCall, ToolResult};
use steward_core::search;
use uuid::Uuid;

use super::intent::Intent;

/// Most tasks a summary lists.
const LIST_MAX: usize = 20;

/// The task in a `list_tasks` result that best matches `target`: an exact
/// title (ignoring case) first, else the one sharing the most words with
/// it (the first on a tie). `None` if nothing shares a word.
pub(crate) fn best_match(content: &str, target: &str) -> Option<Uuid> {
    let value: Value = serde_json::from_str(content).ok()?;
    let tasks = titled(&value);
    if let Some((id, _)) = tasks.iter().find(|(_, t)| t.trim().eq_ignore_ascii_case(target.trim())) {
        return Some(*id);
    }
    let wanted = search::words(target);
    let mut best: Option<(usize, Uuid)> = None;
    for (id, title) in &tasks {
        let words = search::words(title);
        let shared = wanted.iter().filter(|w| words.contains(w)).count();
        if shared > 0 && best.is_none_or(|(b, _)| shared > b) {
            best = Some((shared, *id));
        }
    }
    best.map(|(_, id)| id)
}

/// Every object with a UUID `id` and a string `title`, in document order.
fn titled(value: &Value) -> Vec<(Uuid, String)> {
    let mut out = Vec::new();
    walk(value, &mut |obj| {
        let id = obj.get("id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        let title = obj.get("title").and_then(Value::as_str);
        if let (Some(id), Some(title)) = (id, title) {
            out.push((id, title.to_string()));
        }
    });
    out
}

fn walk(value: &Value, visit: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
    match value {
        Value::Object(obj) => {
            visit(obj);
            obj.values().for_each(|v| walk(v, visit));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// What the calls did, one line per call.
pub(crate) fn done(wanted: &Intent, calls: &[&ToolCall], results: &[&ToolResult]) -> String {
    let lines: Vec<String> = results
        .iter()
        .map(|result| {
            let call = calls.iter().find(|c| c.id == result.call_id).or(calls.first());
            line(wanted, call.copied(), result)
        })
        .collect();
    if lines.is_empty() { "Done.".into() } else { lines.join("\n") }
}

fn line(wanted: &Intent, call: Option<&ToolCall>, result: &ToolResult) -> String {
    let tool = call.and_then(|c| Builtin::from_name(&c.name));
    if result.is_error {
        return format!("That didn't work: {}", short(&result.content, 200));
    }
    let value: Value = serde_json::from_str(&result.content).unwrap_or(Value::Null);
    let args = call.map(|c| &c.arguments).unwrap_or(&Value::Null);
    let title = titled(&value)
        .into_iter()
        .next()
        .map(|(_, t)| t)
        .or_else(|| args.get("title").and_then(Value::as_str).map(str::to_string))
        .or_else(|| wanted.target().map(str::to_string))
        .unwrap_or_else(|| "the task".into());
    match tool {
        Some(Builtin::AddTask) => {
            let due = args.get("due_date").and_then(Value::as_str).map(|d| format!(", due {d}")).unwrap_or_default();
            format!("Added \"{title}\"{due}.")
        }
        Some(Builtin::ListTasks) => list(&value),
        Some(Builtin::GetTask) => show(&value, &title),
        Some(Builtin::CompleteTask) => format!("Marked \"{title}\" done."),
        Some(Builtin::DeleteTask) => format!("Deleted \"{}\".", wanted.target().unwrap_or(&title)),
        Some(Builtin::UpdateTask) => format!("Updated \"{title}\"{}.", changes(args)),
        Some(Builtin::SplitTask) => {
            let steps: Vec<&str> = args
                .get("steps")
                .and_then(Value::as_array)
                .map(|s| s.iter().filter_map(|s| s.get("title").and_then(Value::as_str)).collect())
                .unwrap_or_default();
            let target = wanted.target().unwrap_or(&title);
            format!("Split \"{target}\" into {} steps: {}.", steps.len(), steps.join("; "))
        }
        Some(Builtin::CaptureThought) => {
            let content = args.get("content").and_then(Value::as_str).unwrap_or_default();
            format!("Noted: \"{}\".", short(content, 200))
        }
        Some(Builtin::ListApprovals) => approvals(&value),
        Some(Builtin::DecideApproval) => decided(&value),
        _ => format!("Done: {}", short(&result.content, 200)),
    }
}

fn list(value: &Value) -> String {
    let mut tasks: Vec<String> = Vec::new();
    walk(value, &mut |obj| {
        let Some(title) = obj.get("title").and_then(Value::as_str) else { return };
        if obj.get("id").is_none() {
            return;
        }
        let due = obj.get("due_date").and_then(Value::as_str).map(|d| format!(", due {d}")).unwrap_or_default();
        let priority = obj.get("priority").and_then(Value::as_str).unwrap_or("medium");
        tasks.push(format!("- {title} ({priority}{due})"));
    });
    match tasks.len() {
        0 => "No tasks match.".into(),
        n => {
            let shown: Vec<String> = tasks.into_iter().take(LIST_MAX).collect();
            let more = if n > LIST_MAX { format!("\n… and {} more", n - LIST_MAX) } else { String::new() };
            format!("{n} task{}:\n{}{more}", if n == 1 { "" } else { "s" }, shown.join("\n"))
        }
    }
}

fn show(value: &Value, title: &str) -> String {
    let mut facts = Vec::new();
    for field in ["status", "priority", "due_date", "due_time"] {
        if let Some(v) = find_str(value, field) {
            facts.push(format!("{}: {v}", field.replace('_', " ")));
        }
    }
    let description = find_str(value, "description").map(|d| format!("\n{}", short(&d, 500))).unwrap_or_default();
    format!("\"{title}\" — {}{description}", facts.join(", "))
}

/// The approvals in a `list_approvals` result, in order: id, action and
/// the words of what it would do (for matching what the person said).
fn approval_rows(value: &Value) -> Vec<(Uuid, String, String)> {
    let mut rows = Vec::new();
    walk(value, &mut |obj| {
        let id = obj.get("id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        if let (Some(id), Some(action)) = (id, obj.get("action_type").and_then(Value::as_str)) {
            // An agent's call is `tool_call` with the tool in its details.
            let tool = obj.get("details").and_then(|d| d.get("tool")).and_then(Value::as_str).unwrap_or(action);
            let details = obj.get("details").map(Value::to_string).unwrap_or_default();
            rows.push((id, tool.to_string(), format!("{} {details}", tool.replace('_', " "))));
        }
    });
    rows
}

fn approvals(value: &Value) -> String {
    let rows = approval_rows(value);
    if rows.is_empty() {
        return "Nothing is waiting for your approval.".into();
    }
    let lines: Vec<String> =
        rows.iter().enumerate().map(|(i, (_, action, _))| format!("{}. {action}", i + 1)).collect();
    format!(
        "{} waiting for your decision:\n{}\nSay \"approve 1\" or \"reject 1\" to decide.",
        rows.len(),
        lines.join("\n")
    )
}

/// Which pending approval `which` names, from a `list_approvals` result:
/// its number in the list, else the one sharing the most words with it,
/// else (when `which` is empty) the only one. `Err` is what to tell the
/// person instead.
pub(crate) fn pick_approval(content: &str, which: &str) -> Result<Uuid, String> {
    let value: Value = serde_json::from_str(content).map_err(|_| "I couldn't read the approvals.".to_string())?;
    let rows = approval_rows(&value);
    if rows.is_empty() {
        return Err("Nothing is waiting for your approval.".into());
    }
    let ask = || format!("{} Which one?", approvals(&value));
    if which.trim().is_empty() {
        return if rows.len() == 1 { Ok(rows[0].0) } else { Err(ask()) };
    }
    if let Some(n) = which.split_whitespace().find_map(|w| w.trim_start_matches('#').parse::<usize>().ok()) {
        return rows.get(n.wrapping_sub(1)).map(|r| r.0).ok_or_else(ask);
    }
    let wanted = search::words(which);
    let scored: Vec<(usize, Uuid)> = rows
        .iter()
        .map(|(id, _, text)| {
            let words = search::words(text);
            let named = |w: &String| words.iter().any(|x| x == w || (w.len() >= 4 && x.starts_with(w.as_str())));
            (wanted.iter().filter(|w| named(w)).count(), *id)
        })
        .collect();
    let best = scored.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let mut top = scored.iter().filter(|(n, _)| *n == best && best > 0);
    match (top.next(), top.next()) {
        (Some((_, id)), None) => Ok(*id),
        _ => Err(ask()),
    }
}

fn decided(value: &Value) -> String {
    let tool = value.pointer("/approval/details/tool").and_then(Value::as_str).map(str::to_string);
    let action = tool.or_else(|| find_str(value, "action_type")).unwrap_or_else(|| "the action".into());
    match find_str(value, "status").as_deref() {
        Some("approved") => format!("Approved {action}; the agent carries on with it."),
        Some("rejected") => format!("Rejected {action}; it will not happen."),
        Some(other) => format!("{action} is {other}."),
        None => "Done.".into(),
    }
}

fn changes(args: &Value) -> String {
    let mut out = Vec::new();
    for (field, label) in [("due_date", "due"), ("due_time", "at"), ("priority", "priority"), ("status", "status")] {
        if let Some(v) = args.get(field).and_then(Value::as_str) {
            out.push(format!("{label} {v}"));
        }
    }
    if let Some(name) = args.get("title").and_then(Value::as_str) {
        out.push(format!("renamed to \"{name}\""));
    }
    if out.is_empty() { String::new() } else { format!(": {}", out.join(", ")) }
}

fn find_str(value: &Value, field: &str) -> Option<String> {
    let mut found = None;
    walk(value, &mut |obj| {
        if found.is_none() {
            found = obj.get(field).and_then(Value::as_str).map(str::to_string);
        }
    });
    found
}

fn short(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    if text.chars().count() > max { format!("{cut}…") } else { cut }
}
