//! What kind of thought this is and how actionable: the signals read from
//! the folded words (lexicon phrases, the opening verb, a question mark, a
//! due date the quick-add grammar found) and the rules that turn them into
//! a [`ThoughtType`], a confidence, an urgency and a tone.

use super::lexicon::{
    ACTION_VERBS, IDEAS, IMPORTANT, JOURNAL, LEAD_INS, NEGATIVE, OBLIGATIONS, POSITIVE, QUESTION_OPENERS, REMINDERS,
    URGENT,
};
use crate::search;
use crate::thought::ThoughtType;

/// Question openers that make a question even without a `?` ("how to …").
const STRONG_OPENERS: &[&str] =
    &["what", "why", "how", "who", "which", "whom", "whose", "where", "wonder", "wondering"];

/// A confidence at or above this makes a thought actionable.
pub const ACTIONABLE_AT: f64 = 0.5;

/// Folded text: the search words joined by single spaces, with a space at
/// each end so phrases match on word boundaries.
#[derive(Debug, Clone)]
pub(super) struct Folded {
    pub(super) words: Vec<String>,
    spaced: String,
}

impl Folded {
    pub(super) fn new(text: &str) -> Folded {
        let words = search::words(text);
        let spaced = format!(" {} ", words.join(" "));
        Folded { words, spaced }
    }

    /// Whether the text holds `phrase` (folded the same way) as whole words.
    pub(super) fn has(&self, phrase: &str) -> bool {
        let folded = search::words(phrase).join(" ");
        !folded.is_empty() && self.spaced.contains(&format!(" {folded} "))
    }

    pub(super) fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// Whether the text starts with `phrase` (folded).
    pub(super) fn starts_with(&self, phrase: &str) -> bool {
        let folded = search::words(phrase).join(" ");
        !folded.is_empty() && self.spaced.starts_with(&format!(" {folded} "))
    }

    pub(super) fn first(&self) -> Option<&str> {
        self.words.first().map(String::as_str)
    }
}

/// What the rules noticed in a thought.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Signals {
    pub(super) question: bool,
    pub(super) reminder: bool,
    pub(super) obligation: bool,
    /// The action verb the thought (after any lead-in) opens with.
    pub(super) verb: Option<String>,
    pub(super) idea: bool,
    pub(super) journal: bool,
    pub(super) has_due_date: bool,
    pub(super) due_soon: bool,
    pub(super) due_today: bool,
    pub(super) urgent: bool,
    pub(super) important: bool,
}

impl Signals {
    /// Reads the lexicon's signals; the due-date ones are filled by the caller.
    pub(super) fn read(text: &str, folded: &Folded, rest: &Folded) -> Signals {
        let first = folded.first().unwrap_or_default();
        let verb = rest.first().filter(|w| ACTION_VERBS.contains(w)).map(str::to_string);
        // "buy milk?" is a task said with a shrug; "should I buy milk?" asks.
        let asks = text.trim_end().ends_with('?') && (QUESTION_OPENERS.contains(&first) || verb.is_none());
        Signals {
            question: asks || STRONG_OPENERS.contains(&first),
            reminder: REMINDERS.iter().any(|p| folded.starts_with(p)) || folded.has("remind me"),
            obligation: folded.has_any(OBLIGATIONS) || LEAD_INS.iter().any(|p| folded.starts_with(p)),
            verb,
            idea: folded.has_any(IDEAS),
            journal: folded.has_any(JOURNAL),
            urgent: folded.has_any(URGENT),
            important: folded.has_any(IMPORTANT),
            ..Signals::default()
        }
    }

    /// The type the signals point to, strongest first.
    pub(super) fn thought_type(&self) -> ThoughtType {
        if self.reminder {
            ThoughtType::Reminder
        } else if self.question {
            ThoughtType::Question
        } else if self.obligation || self.verb.is_some() {
            ThoughtType::Task
        } else if self.idea {
            ThoughtType::Idea
        } else if self.journal {
            ThoughtType::Journal
        } else if self.has_due_date {
            ThoughtType::Reminder
        } else {
            ThoughtType::Note
        }
    }

    /// How sure the rules are that this asks for action, in [0, 1].
    pub(super) fn actionable_confidence(&self, kind: ThoughtType) -> f64 {
        let bonus = |on: bool, by: f64| if on { by } else { 0.0 };
        let score = match kind {
            ThoughtType::Task => {
                0.65 + bonus(self.obligation, 0.15)
                    + bonus(self.verb.is_some(), 0.1)
                    + bonus(self.has_due_date, 0.1)
                    + bonus(self.urgent || self.important, 0.05)
            }
            ThoughtType::Reminder => {
                0.7 + bonus(self.reminder, 0.05) + bonus(self.has_due_date, 0.1) + bonus(self.verb.is_some(), 0.05)
            }
            ThoughtType::Question => 0.3 + bonus(self.verb.is_some() || self.obligation, 0.1),
            ThoughtType::Idea => 0.3 + bonus(self.verb.is_some(), 0.1),
            ThoughtType::Journal => 0.1,
            ThoughtType::Note => 0.2 + bonus(self.urgent, 0.1),
        };
        round2(score.clamp(0.0, 0.95))
    }

    /// `high` (urgent words, due today), `medium` (important, due within a
    /// week) or `low`.
    pub(super) fn urgency(&self) -> &'static str {
        if self.urgent || self.due_today {
            "high"
        } else if self.important || self.due_soon {
            "medium"
        } else {
            "low"
        }
    }
}

/// `positive`, `negative`, `mixed` or `neutral`, by counting feeling words.
pub(super) fn tone(folded: &Folded) -> &'static str {
    let count = |list: &[&str]| folded.words.iter().filter(|w| list.contains(&w.as_str())).count();
    match (count(POSITIVE), count(NEGATIVE)) {
        (0, 0) => "neutral",
        (p, 0) if p > 0 => "positive",
        (0, _) => "negative",
        (p, n) if p > n => "positive",
        (p, n) if n > p => "negative",
        _ => "mixed",
    }
}

/// Rounds to two decimals, so confidences compare and print cleanly.
pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
