//! The task a thought proposes: its title (the thought's first sentence
//! without its lead-in, read by the quick-add grammar for a due date,
//! priority and tags), an effort estimate from the opening verb, and the
//! reasons the rules give.

use chrono::NaiveDate;

use super::AnalysisContext;
use super::classify::{Folded, Signals};
use super::lexicon::{LEAD_INS, REMINDERS, effort_minutes};
use crate::quickadd::{self, ParsedTask};
use crate::suggestion::NewSuggestion;
use crate::task::{Priority, TITLE_MAX};

/// Words that make a to-do something for "whenever".
const SOMEDAY: &[&str] = &["someday", "eventually", "whenever", "sometime", "one day"];

/// The first sentence or line of `text`, trimmed (the whole text when it has
/// no break). A `.` counts only before whitespace, so `5.30pm` stays whole.
pub(super) fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        if c == '\n' || (matches!(c, '.' | '!' | '?' | ';') && next_is_space) {
            let head = text[..i].trim();
            if !head.is_empty() {
                return head;
            }
        }
    }
    text
}

/// `sentence` without a lead-in ("remind me to", "I need to", "todo:"),
/// matched on folded words so case and punctuation do not matter.
pub(super) fn strip_lead_in(sentence: &str) -> &str {
    let tokens: Vec<(usize, &str)> = token_offsets(sentence);
    for phrase in REMINDERS.iter().chain(LEAD_INS) {
        let want = crate::search::words(phrase);
        for n in 1..=tokens.len().min(5) {
            let got: Vec<String> = tokens[..n].iter().flat_map(|(_, t)| crate::search::words(t)).collect();
            if got == want {
                let rest = tokens.get(n).map_or("", |(at, _)| &sentence[*at..]);
                let rest = rest.trim_start_matches([':', '-', ',', ' ']).trim();
                // "remind me to" may leave "to" behind ("remind me: to …").
                let rest = rest.strip_prefix("to ").unwrap_or(rest);
                return if rest.is_empty() { sentence } else { rest };
            }
            if got.len() >= want.len() {
                break;
            }
        }
    }
    sentence
}

/// Whitespace-separated tokens with their byte offsets.
fn token_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// Reads the action with the quick-add grammar; `None` when the phrase is
/// not a task to it (nothing left once dates are taken out, a date that
/// does not exist).
pub(super) fn parse_action(action: &str, ctx: &AnalysisContext) -> Option<ParsedTask> {
    quickadd::parse_with(action, ctx.now, ctx.tz, &ctx.options).ok()
}

/// One line, single-spaced, without control characters, at most
/// `TITLE_MAX` characters (cut at a word when it can be), first letter
/// capitalised.
pub(super) fn tidy_title(raw: &str) -> String {
    let spaced: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean: String = spaced.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim_end_matches([',', ';', ':', '-']).trim();
    let mut title: String = clean.chars().take(TITLE_MAX).collect();
    if clean.chars().count() > TITLE_MAX
        && let Some(cut) = title.rfind(' ').filter(|at| *at > TITLE_MAX / 2)
    {
        title.truncate(cut);
    }
    let mut chars = title.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The suggestion for an actionable thought; `None` when no title is left.
pub(super) fn suggestion(
    content: &str,
    parsed: Option<&ParsedTask>,
    action: &str,
    signals: &Signals,
    confidence: f64,
) -> Option<NewSuggestion> {
    let title = tidy_title(parsed.map_or(action, |p| p.title.as_str()));
    if title.is_empty() {
        return None;
    }
    let folded = Folded::new(content);
    let priority = parsed.and_then(|p| p.priority).unwrap_or_else(|| priority(&folded, signals));
    let due: Option<NaiveDate> = parsed.and_then(|p| p.due_date);
    let effort = signals.verb.as_deref().map_or(30, effort_minutes);
    let description = content.trim().replace('\0', "");
    let description = (description != title && description != action).then_some(description);
    Some(NewSuggestion {
        title,
        description,
        priority: Some(priority),
        estimated_effort_minutes: Some(effort),
        due_date_hint: due,
        confidence,
        reasoning: Some(reasons(signals, due, priority)),
    })
}

fn priority(folded: &Folded, signals: &Signals) -> Priority {
    if folded.has_any(&["emergency", "critical"]) {
        Priority::Critical
    } else if signals.urgent || signals.important {
        Priority::High
    } else if folded.has_any(SOMEDAY) {
        Priority::Low
    } else {
        Priority::Medium
    }
}

/// Why the rules think this is a task, in one sentence.
fn reasons(signals: &Signals, due: Option<NaiveDate>, priority: Priority) -> String {
    let mut why = Vec::new();
    if signals.reminder {
        why.push("asks to be reminded".to_string());
    }
    if signals.obligation {
        why.push("says something needs doing".to_string());
    }
    if let Some(verb) = &signals.verb {
        why.push(format!("opens with the action '{verb}'"));
    }
    if let Some(due) = due {
        why.push(format!("names a date ({due})"));
    }
    if matches!(priority, Priority::Critical | Priority::High) {
        why.push("uses urgent or important wording".to_string());
    }
    if why.is_empty() {
        why.push("reads like something to do".to_string());
    }
    format!("Local rules: the thought {}.", why.join(", "))
}
