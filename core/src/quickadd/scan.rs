//! The scanner: takes every grammar phrase (priority, tags, dates, times,
//! recurrences and the connector words before them) out of the tokens, and
//! the leading `add task` / `remind me to`, until the words left — the
//! title — contain no grammar, so a title always re-parses to itself.

use super::lexicon;
use super::recur::{Recur, match_recur};
use super::token::{Token, trim_trailing, word};
use super::when::{Ctx, When, match_when};
use crate::Priority;
use chrono::{NaiveDate, NaiveTime};

/// How many connector words (`due`, `by`, `on`, `at`) may stand in a row
/// before a date or time (`due on friday`).
const MAX_CONNECTORS: usize = 3;

/// One grammar phrase.
#[derive(Debug)]
enum Item {
    Priority(Priority),
    Tag(String),
    When(When),
    Recur(Recur),
}

/// Everything taken out of a phrase. Of each kind the first one found wins;
/// later ones are still taken out of the title (tags all count).
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) priority: Option<Priority>,
    pub(crate) tags: Vec<String>,
    pub(crate) date: Option<NaiveDate>,
    /// The time, and whether it was a bare hour (`at 9`).
    pub(crate) time: Option<(NaiveTime, bool)>,
    pub(crate) tonight: bool,
    pub(crate) recur: Option<Recur>,
}

impl Found {
    fn apply(&mut self, ctx: &Ctx, item: Item) {
        match item {
            Item::Priority(p) => {
                self.priority.get_or_insert(p);
            }
            Item::Tag(t) => {
                if !self.tags.contains(&t) {
                    self.tags.push(t);
                }
            }
            Item::When(When::Date(d)) => {
                self.date.get_or_insert(d);
            }
            Item::When(When::Time { time, bare }) => {
                self.time.get_or_insert((time, bare));
            }
            Item::When(When::Tonight) => {
                self.date.get_or_insert(ctx.today);
                self.tonight = true;
            }
            Item::Recur(r) => {
                self.recur.get_or_insert(r);
            }
        }
    }
}

/// How far a matcher may look: each match attempt sees only the next
/// `WINDOW` remaining tokens, so its outcome can only change when one of
/// those is taken out. It is also the longest a phrase can be.
const WINDOW: usize = 16;

/// No token (end of the list).
const NONE: usize = usize::MAX;

/// The tokens not taken out yet: a doubly linked list over token indices.
#[derive(Debug)]
struct Alive {
    next: Vec<usize>,
    prev: Vec<usize>,
    gone: Vec<bool>,
    head: usize,
}

impl Alive {
    fn new(gone: Vec<bool>) -> Self {
        let n = gone.len();
        let mut alive = Alive { next: vec![NONE; n], prev: vec![NONE; n], gone, head: NONE };
        let mut last = NONE;
        for i in 0..n {
            if alive.is_gone(i) {
                continue;
            }
            match alive.next.get_mut(last) {
                Some(slot) => *slot = i,
                None => alive.head = i,
            }
            if let Some(slot) = alive.prev.get_mut(i) {
                *slot = last;
            }
            last = i;
        }
        alive
    }

    fn is_gone(&self, i: usize) -> bool {
        self.gone.get(i).copied().unwrap_or(true)
    }

    fn after(&self, i: usize) -> usize {
        self.next.get(i).copied().unwrap_or(NONE)
    }

    fn before(&self, i: usize) -> usize {
        self.prev.get(i).copied().unwrap_or(NONE)
    }

    fn remove(&mut self, i: usize) {
        if self.is_gone(i) {
            return;
        }
        let (p, n) = (self.before(i), self.after(i));
        match self.next.get_mut(p) {
            Some(slot) => *slot = n,
            None => self.head = n,
        }
        if let Some(slot) = self.prev.get_mut(n) {
            *slot = p;
        }
        if let Some(g) = self.gone.get_mut(i) {
            *g = true;
        }
    }

    /// The indices of up to `WINDOW` remaining tokens from `i` on.
    fn window(&self, mut i: usize, out: &mut Vec<usize>) {
        out.clear();
        while i != NONE && out.len() < WINDOW {
            out.push(i);
            i = self.after(i);
        }
    }
}

/// Queues `k` and the tokens before it, up to `WINDOW` in all: those whose
/// window held the token just taken out after `k`.
fn mark_back(alive: &Alive, mut k: usize, queued: &mut [bool], dirty: &mut Vec<usize>) {
    for _ in 0..WINDOW {
        let Some(q) = queued.get_mut(k) else { return };
        if !*q {
            *q = true;
            dirty.push(k);
        }
        k = alive.before(k);
    }
}

/// Takes all grammar out of `toks`; returns it with the title tokens.
///
/// A left-to-right pass takes each phrase as soon as it starts. Taking words
/// out can bring others together into a new phrase (`may #x 5` → `may 5`),
/// so every token whose window lost a word is tried again, until no
/// remaining token starts a phrase; then the opener is stripped. What is
/// left therefore parses to itself, in time linear in the input.
pub(crate) fn extract<'t, 'a>(ctx: &Ctx, toks: &'t [Token<'a>]) -> (Found, Vec<&'t Token<'a>>) {
    let mut found = Found::default();
    let all: Vec<&Token<'a>> = toks.iter().collect();
    let n = all.len();
    let mut gone = vec![false; n];
    let mut i = 0;
    while i < n {
        let window = all.get(i..n.min(i + WINDOW)).unwrap_or_default();
        let Some((len, item)) = match_at(ctx, window) else {
            i += 1;
            continue;
        };
        found.apply(ctx, item);
        let len = len.max(1);
        gone.iter_mut().skip(i).take(len).for_each(|g| *g = true);
        i += len;
    }

    let mut alive = Alive::new(gone);
    let mut queued = vec![false; n];
    let mut dirty = Vec::new();
    for k in 0..n {
        if !alive.is_gone(k) && k + 1 < n && alive.is_gone(k + 1) {
            mark_back(&alive, k, &mut queued, &mut dirty);
        }
    }
    let mut idx = Vec::with_capacity(WINDOW);
    let mut window = Vec::with_capacity(WINDOW);
    while let Some(t) = dirty.pop() {
        if let Some(q) = queued.get_mut(t) {
            *q = false;
        }
        if alive.is_gone(t) {
            continue;
        }
        alive.window(t, &mut idx);
        window.clear();
        window.extend(idx.iter().filter_map(|&k| all.get(k).copied()));
        if let Some((len, item)) = match_at(ctx, &window) {
            found.apply(ctx, item);
            let before = alive.before(t);
            idx.iter().take(len.max(1)).for_each(|&k| alive.remove(k));
            mark_back(&alive, before, &mut queued, &mut dirty);
        }
    }

    loop {
        alive.window(alive.head, &mut idx);
        window.clear();
        window.extend(idx.iter().filter_map(|&k| all.get(k).copied()));
        let strip = prefix_len(&window);
        if strip == 0 {
            break;
        }
        idx.iter().take(strip).for_each(|&k| alive.remove(k));
    }

    let mut title = Vec::new();
    let mut k = alive.head;
    while let Some(tok) = all.get(k) {
        title.push(*tok);
        k = alive.after(k);
    }
    (found, title)
}

/// The grammar phrase at the start of `window`, if any, and its length.
fn match_at(ctx: &Ctx, window: &[&Token<'_>]) -> Option<(usize, Item)> {
    let (toks, i) = (window, 0);
    let tok = toks.get(i)?;
    if let Some(t) = lexicon::tag(trim_trailing(tok.raw)) {
        return Some((1, Item::Tag(t)));
    }
    let w0 = &*tok.word;
    if let Some(p) = lexicon::p_level(w0) {
        return Some((1, Item::Priority(p)));
    }
    if let Some(p) = w0.strip_suffix("-priority").and_then(lexicon::level) {
        return Some((1, Item::Priority(p)));
    }
    if let Some(p) = lexicon::level(w0).filter(|_| word(toks, i + 1) == "priority") {
        return Some((2, Item::Priority(p)));
    }
    if let Some((n, r)) = match_recur(toks, i) {
        return Some((n, Item::Recur(r)));
    }
    let mut j = i;
    let mut after_at = false;
    while j < i + MAX_CONNECTORS && lexicon::connector(word(toks, j)) {
        after_at = word(toks, j) == "at";
        j += 1;
    }
    let after_connector = j > i;
    if after_connector && let Some((n, r)) = match_recur(toks, j) {
        return Some((j - i + n, Item::Recur(r)));
    }
    match_when(ctx, toks, j, after_connector, after_at).map(|(n, w)| (j - i + n, Item::When(w)))
}

/// How many leading tokens are an `add (a|an) (new) task|todo` or
/// `remind me to` opener.
fn prefix_len(toks: &[&Token<'_>]) -> usize {
    match word(toks, 0) {
        "add" => {
            let mut j = 1;
            if matches!(word(toks, j), "a" | "an") {
                j += 1;
            }
            if word(toks, j) == "new" {
                j += 1;
            }
            if matches!(word(toks, j), "task" | "todo") { j + 1 } else { 0 }
        }
        "remind" if word(toks, 1) == "me" && word(toks, 2) == "to" => 3,
        _ => 0,
    }
}
