//! What the person asked for, read from their last message: one
//! [`Intent`] per message, by keyword phrases, case-insensitively. Pure
//! and total: any text (any length, any script) reads as some intent, and
//! nothing here panics. Dates stay as the person wrote them; the model
//! reads them with the quick-add grammar when it answers.

use steward_core::approval::Decision;
use steward_core::task::{Priority, TaskStatus};

/// Which due dates a list asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    Today,
    Tomorrow,
    ThisWeek,
    Overdue,
}

/// The filters a list names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListFilter {
    pub(crate) due: Option<Due>,
    pub(crate) priority: Option<Priority>,
    pub(crate) status: Option<TaskStatus>,
    pub(crate) tag: Option<String>,
}

/// A change to a task named by title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A date phrase ("friday", "next monday at 9am").
    Due(String),
    Priority(Priority),
    Rename(String),
    Status(TaskStatus),
}

/// What a message asks for. Titles are as written (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intent {
    /// A quick-add phrase.
    Add(String),
    List(ListFilter),
    Show(String),
    Complete(String),
    Update(String, Change),
    Delete(String),
    /// The task's title, and the steps the text names.
    Split(String, Vec<String>),
    Capture(String),
    Approvals,
    /// Approve or reject a pending approval; the words that say which
    /// (empty: the only one waiting), or its number in the list shown.
    Decide(Decision, String),
    Help,
    /// Nothing the local model can do.
    Unknown,
}

impl Intent {
    /// The title of the task the intent acts on, when it needs one found.
    pub(crate) fn target(&self) -> Option<&str> {
        match self {
            Intent::Show(t) | Intent::Complete(t) | Intent::Update(t, _) | Intent::Delete(t) | Intent::Split(t, _) => {
                Some(t)
            }
            _ => None,
        }
    }
}

const CAPTURE: &[&str] = &[
    "note:",
    "note that",
    "note",
    "remember that",
    "jot down",
    "idea:",
    "thought:",
    "capture",
    "write down",
    "keep in mind that",
];
const ADD: &[&str] = &[
    "please add a task to",
    "please add",
    "add a task to",
    "add a task",
    "add task",
    "add a todo",
    "add todo",
    "add",
    "create a task to",
    "create a task",
    "create task",
    "new task:",
    "new task",
    "todo:",
    "todo",
    "to do:",
    "task:",
    "remind me to",
    "remind me",
    "i need to",
    "i have to",
    "i must",
    "schedule",
];
const COMPLETE: &[&str] =
    &["complete", "finish", "i finished", "i did", "i've done", "done with", "check off", "tick off", "close"];
const MARK_DONE: &[&str] =
    &[" as done", " as complete", " as completed", " as finished", " done", " complete", " completed", " finished"];
const DELETE: &[&str] = &["delete task", "delete", "remove task", "remove", "drop", "get rid of", "trash"];
const MOVE: &[&str] = &["move", "reschedule", "postpone", "push", "defer", "shift"];
const SHOW: &[&str] =
    &["show me the task", "show me", "show task", "show", "details of", "details for", "tell me about", "what about"];
const LISTY: &[&str] = &[
    "task",
    "tasks",
    "todo",
    "todos",
    "to-dos",
    "to do",
    "due",
    "overdue",
    "agenda",
    "list",
    "everything",
    "all",
    "what do i have",
    "what's on",
    "whats on",
    "what is on",
    "on my plate",
    "my day",
    "my week",
];

/// Reads one message.
pub(crate) fn intent(message: &str) -> Intent {
    let text = message.trim().trim_end_matches(['?', '!', '.']).trim();
    if text.is_empty() {
        return Intent::Help;
    }
    if let Some(rest) = after_any(text, CAPTURE).filter(|r| !r.is_empty()) {
        return Intent::Capture(rest.to_string());
    }
    let lower = text.to_lowercase();
    if let Some(decide) = decide(text) {
        return decide;
    }
    if has_word(&lower, "approval") || has_word(&lower, "approvals") || lower.contains("need my ok") {
        return Intent::Approvals;
    }
    if matches!(lower.as_str(), "help" | "what can you do" | "hi" | "hello" | "hey") {
        return Intent::Help;
    }
    if let Some(rest) = after_any(text, &["split task", "split", "break down", "break up", "break"]) {
        return split(rest);
    }
    if let Some(i) = complete(text) {
        return i;
    }
    if let Some(rest) = after_any(text, &["cancel task", "cancel"]).filter(|r| !r.is_empty()) {
        return Intent::Update(rest.to_string(), Change::Status(TaskStatus::Cancelled));
    }
    if let Some(rest) = after_any(text, DELETE).filter(|r| !r.is_empty()) {
        return Intent::Delete(rest.to_string());
    }
    if let Some(i) = update(text) {
        return i;
    }
    if let Some(i) = list(text, &lower) {
        return i;
    }
    if let Some(rest) = after_any(text, SHOW).filter(|r| !r.is_empty()) {
        return Intent::Show(strip_article(rest).to_string());
    }
    if let Some(rest) = after_any(text, ADD).filter(|r| !r.is_empty()) {
        let rest = before_any(rest, &[" to my list", " to my tasks", " to the list", " to my todo list"]);
        return Intent::Add(rest.to_string());
    }
    Intent::Unknown
}

const APPROVE: &[&str] = &["yes, approve", "yes approve", "ok, approve", "ok approve", "approve", "go ahead with"];
const REJECT: &[&str] =
    &["no, reject", "no reject", "don't approve", "do not approve", "reject", "deny", "decline", "refuse"];
/// Words that point at an approval without saying which.
const POINTERS: &[&str] =
    &["it", "that", "this", "the", "one", "pending", "request", "approval", "action", "please", "only", "call"];

/// `approve …` / `reject …`: which approval is left to the words after.
fn decide(text: &str) -> Option<Intent> {
    let (decision, rest) = match after_any(text, REJECT) {
        Some(rest) => (Decision::Rejected, rest),
        None => (Decision::Approved, after_any(text, APPROVE)?),
    };
    let which: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty() && !POINTERS.contains(&w.to_lowercase().as_str()))
        .collect();
    Some(Intent::Decide(decision, which.join(" ")))
}

fn complete(text: &str) -> Option<Intent> {
    if let Some(rest) = after_any(text, &["mark", "set"])
        && let Some(title) = MARK_DONE.iter().find_map(|s| strip_suffix_ci(rest, s))
        && !title.trim().is_empty()
    {
        return Some(Intent::Complete(strip_article(title.trim()).to_string()));
    }
    if let Some(title) = [" is done", " is finished", " is complete"].iter().find_map(|s| strip_suffix_ci(text, s))
        && !title.trim().is_empty()
        && after_any(text, ADD).is_none()
    {
        return Some(Intent::Complete(strip_article(title.trim()).to_string()));
    }
    after_any(text, COMPLETE).filter(|r| !r.is_empty()).map(|r| Intent::Complete(strip_article(r).to_string()))
}

fn update(text: &str) -> Option<Intent> {
    if let Some(rest) = after_any(text, &["rename task", "rename"])
        && let Some((title, name)) = split_last(rest, " to ")
    {
        return Some(Intent::Update(strip_article(title).to_string(), Change::Rename(name.to_string())));
    }
    if let Some(rest) = after_any(text, MOVE)
        && let Some((title, when)) = split_last(rest, " to ").or_else(|| split_last(rest, " until "))
    {
        return Some(Intent::Update(strip_article(title).to_string(), Change::Due(when.to_string())));
    }
    if let Some(title) = after_any(text, &["prioritize", "prioritise"]).filter(|r| !r.is_empty()) {
        return Some(Intent::Update(strip_article(title).to_string(), Change::Priority(Priority::High)));
    }
    let rest = after_any(text, &["make", "set", "change", "mark"])?;
    let rest = strip_suffix_ci(rest, " priority").unwrap_or(rest);
    let (title, level) = split_last(rest, " to ").or_else(|| split_last(rest, " as ")).or_else(|| {
        let (title, level) = rest.rsplit_once(' ')?;
        Some((title, level))
    })?;
    let title = strip_suffix_ci(title, " priority").unwrap_or(title);
    let title = after_any(title, &["the priority of", "priority of"]).unwrap_or(title);
    let level = after_any(level, &["a", "an"]).unwrap_or(level);
    let level = strip_suffix_ci(level, " priority").unwrap_or(level);
    let priority = priority_word(level)?;
    Some(Intent::Update(strip_article(title.trim()).to_string(), Change::Priority(priority)))
}

fn list(text: &str, lower: &str) -> Option<Intent> {
    if after_any(text, &["show task", "show me the task", "details of", "tell me about"]).is_some_and(|r| !r.is_empty())
    {
        return None;
    }
    let listy = LISTY.iter().any(|w| has_phrase(lower, w));
    let asks =
        after_any(text, &["list", "show", "what", "whats", "what's", "which", "my", "any", "give me", "tell me"]);
    if !listy || (asks.is_none() && !has_word(lower, "due") && !has_word(lower, "overdue")) {
        return None;
    }
    let due = if has_word(lower, "overdue") || has_word(lower, "late") {
        Some(Due::Overdue)
    } else if has_word(lower, "tomorrow") {
        Some(Due::Tomorrow)
    } else if has_phrase(lower, "this week") || has_phrase(lower, "my week") {
        Some(Due::ThisWeek)
    } else if has_word(lower, "today") || has_phrase(lower, "my day") {
        Some(Due::Today)
    } else {
        None
    };
    let priority = ["critical", "urgent", "high", "important", "medium", "low"]
        .iter()
        .find(|w| has_word(lower, w))
        .and_then(|w| priority_word(w));
    let status = if ["done", "completed", "finished"].iter().any(|w| has_word(lower, w)) {
        Some(TaskStatus::Done)
    } else if has_phrase(lower, "in progress") {
        Some(TaskStatus::InProgress)
    } else {
        None
    };
    let tag = text
        .split_whitespace()
        .filter_map(|w| w.strip_prefix('#'))
        .map(|t| t.trim_end_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .find(|t| !t.is_empty());
    Some(Intent::List(ListFilter { due, priority, status, tag }))
}

/// `split X into a, b and c`, or `split a, b and c` (the task is named by
/// the whole list; its parts are the steps).
fn split(rest: &str) -> Intent {
    let rest = strip_article(rest.trim());
    let rest = after_any(rest, &["down", "up"]).unwrap_or(rest);
    if rest.is_empty() {
        return Intent::Help;
    }
    match split_last(rest, " into ") {
        Some((title, steps)) => {
            let steps = after_any(steps, &["steps:", "steps", "parts:", "parts"]).unwrap_or(steps);
            Intent::Split(strip_article(title).to_string(), items(steps))
        }
        None => Intent::Split(rest.to_string(), items(rest)),
    }
}

/// `a, b and c` → `[a, b, c]`. When the first part opens with a verb and
/// every other part is a short phrase with none ("buy milk, eggs and
/// bread"), each part gets the verb. A list whose later parts are actions
/// of their own ("find the login, log in to the bank") is left as it is.
pub(crate) fn items(list: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for chunk in list.split([',', ';', '\n']) {
        let mut pieces = vec![chunk];
        for sep in [" and then ", " then ", " and ", " & "] {
            pieces = pieces.into_iter().flat_map(|p| split_all_ci(p, sep)).collect();
        }
        for p in pieces {
            let p = p.trim();
            let p = after_any(p, &["and", "then"]).unwrap_or(p).trim();
            if !p.is_empty() {
                parts.push(p.to_string());
            }
        }
    }
    let opens_with_verb =
        |p: &str| p.split_whitespace().next().is_some_and(|w| VERBS.contains(&w.to_lowercase().as_str()));
    let is_object = |p: &str| {
        let words: Vec<String> = p.split_whitespace().map(str::to_lowercase).collect();
        words.len() <= 3 && !opens_with_verb(p) && !words.iter().any(|w| LINKS.contains(&w.as_str()))
    };
    if parts.len() > 1
        && opens_with_verb(&parts[0])
        && parts[0].contains(' ')
        && parts.iter().skip(1).all(|p| is_object(p))
        && let Some((verb, _)) = parts[0].split_once(' ')
    {
        let verb = verb.to_string();
        for p in parts.iter_mut().skip(1) {
            *p = format!("{verb} {p}");
        }
    }
    parts
}

/// Words that open an action: a list part that starts with one is a step
/// of its own, not an object of the first part's verb.
const VERBS: &[&str] = &[
    "buy", "get", "call", "email", "write", "read", "clean", "pick", "pay", "send", "book", "fix", "check", "make",
    "prepare", "review", "draft", "order", "wash", "pack", "cook", "bake", "plan", "find", "print", "sign", "file",
    "log", "go", "open", "ask", "set", "take", "put", "update", "submit", "visit", "text", "reply", "meet", "schedule",
    "cancel", "return", "download", "install", "upload", "move", "add", "remove", "sort", "fill", "collect", "drop",
    "bring", "look", "tell", "water", "feed", "walk", "run", "start", "finish", "test", "deploy", "backup", "renew",
    "confirm", "research", "compare", "choose", "decide", "invite", "share", "copy", "save", "close", "empty",
];

/// Words that make a part a clause rather than a bare object ("log in to
/// the bank", "talk with Sam").
const LINKS: &[&str] = &["to", "in", "on", "with", "from", "at", "into", "for", "about", "out", "up"];

pub(crate) fn priority_word(word: &str) -> Option<Priority> {
    match word.trim().to_lowercase().as_str() {
        "critical" | "urgent" | "p1" | "top" => Some(Priority::Critical),
        "high" | "important" | "p2" => Some(Priority::High),
        "medium" | "normal" | "p3" => Some(Priority::Medium),
        "low" | "p4" | "unimportant" => Some(Priority::Low),
        _ => None,
    }
}

/// `text` after the first of `prefixes` it starts with (ASCII
/// case-insensitive, at a word boundary), trimmed, without a leading `:`.
pub(crate) fn after_any<'a>(text: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find_map(|p| {
        let head = text.get(..p.len())?;
        let boundary = p.ends_with(':') || text[p.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        (head.eq_ignore_ascii_case(p) && boundary).then(|| text[p.len()..].trim_start_matches([':', ' ', ',']).trim())
    })
}

fn before_any<'a>(text: &'a str, suffixes: &[&str]) -> &'a str {
    suffixes.iter().find_map(|s| strip_suffix_ci(text, s)).unwrap_or(text).trim()
}

fn strip_suffix_ci<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let at = text.len().checked_sub(suffix.len())?;
    let tail = text.get(at..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..at])
}

/// Splits at the last ASCII case-insensitive `sep`; both sides non-empty.
fn split_last<'a>(text: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let at = text.to_ascii_lowercase().rfind(sep)?;
    let (head, tail) = (text.get(..at)?.trim(), text.get(at + sep.len()..)?.trim());
    (!head.is_empty() && !tail.is_empty()).then_some((head, tail))
}

fn split_all_ci<'a>(text: &'a str, sep: &str) -> Vec<&'a str> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(at) = lower.get(start..).and_then(|l| l.find(sep)) {
        out.push(text.get(start..start + at).unwrap_or_default());
        start += at + sep.len();
    }
    out.push(text.get(start..).unwrap_or_default());
    out
}

fn strip_article(text: &str) -> &str {
    after_any(text, &["the task", "task", "the", "my"]).filter(|r| !r.is_empty()).unwrap_or(text)
}

fn has_word(lower: &str, word: &str) -> bool {
    lower.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-').any(|w| w == word)
}

fn has_phrase(lower: &str, phrase: &str) -> bool {
    if phrase.contains(' ') { lower.contains(phrase) } else { has_word(lower, phrase) }
}
