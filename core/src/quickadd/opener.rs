//! Openers: the words people put before a task when they talk to an
//! assistant (`add a task to`, `remind me to`, `don't forget to`, `I need
//! to`, `todo:`) and a leading priority word (`urgent: fix login`). They
//! only count at the start of what is left of the phrase.

use super::lexicon;
use super::token::{Token, word};
use crate::Priority;

/// How many leading tokens of `toks` are one opener, and the priority it
/// says (only `urgent`/`asap`/`important` say one). 0 when there is none.
pub(crate) fn opener(toks: &[&Token<'_>]) -> (usize, Option<Priority>) {
    let w = |i| word(toks, i);
    let colon = |i: usize| toks.get(i).is_some_and(|t| t.raw.ends_with(':'));
    let to = |i| usize::from(w(i) == "to");
    let n = match w(0) {
        "add" => {
            let mut j = 1;
            if matches!(w(j), "a" | "an") {
                j += 1;
            }
            if w(j) == "new" {
                j += 1;
            }
            if matches!(w(j), "task" | "todo" | "reminder") { j + 1 + to(j + 1) } else { 0 }
        }
        "remind" if w(1) == "me" && w(2) == "to" => 3,
        "remember" if w(1) == "to" => 2,
        "don't" | "don’t" | "dont" if w(1) == "forget" && (colon(1) || w(2) == "to") => 2 + to(2),
        "do" if w(1) == "not" && w(2) == "forget" && (colon(2) || w(3) == "to") => 3 + to(3),
        // A place, not a priority.
        "urgent" if w(1) == "care" => 0,
        "i" => match w(1) {
            "need" | "have" | "want" if w(2) == "to" => 3,
            "must" | "should" | "gotta" => 2,
            _ => 0,
        },
        "need" if w(1) == "to" => 2,
        "please" => 1,
        "todo" | "to-do" | "task" | "reminder" if colon(0) => 1,
        "to" if w(1) == "do" && colon(1) => 2,
        w0 => {
            if let Some(p) = lexicon::priority_word(w0) {
                return (1, Some(p));
            }
            0
        }
    };
    (n, None)
}
