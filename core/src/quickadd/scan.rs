//! The scanner: takes every grammar phrase (priority, tags, dates, times,
//! recurrences and the connector words before them) out of the tokens, and
//! the leading openers (`add task`, `remind me to`, `urgent:`), until the
//! words left — the title — contain no grammar, so a title always re-parses
//! to itself.

use super::ParseError;
use super::clock::{Clock, Part};
use super::lexicon;
use super::opener::opener;
use super::recur::{Recur, RecurMatch, match_recur};
use super::token::{Token, trim_trailing, word};
use super::when::{Ctx, When, match_when};
use crate::Priority;
use chrono::NaiveDate;

/// How many connector words (`due`, `by`, `on`, `at`) may stand in a row
/// before a date or time (`due on friday`).
const MAX_CONNECTORS: usize = 3;

/// One grammar phrase.
#[derive(Debug)]
enum Item {
    Priority(Priority),
    Tag(String),
    When(When),
    Recur(RecurMatch),
}

/// Everything taken out of a phrase. Of each kind the first one found wins;
/// later ones are still taken out of the title (tags all count).
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) priority: Option<Priority>,
    pub(crate) tags: Vec<String>,
    pub(crate) date: Option<NaiveDate>,
    /// Today, unless `date` is set (`tonight`, `end of day`).
    pub(crate) soft_today: bool,
    pub(crate) clock: Option<Clock>,
    pub(crate) part: Option<Part>,
    pub(crate) recur: Option<Recur>,
}

impl Found {
    fn apply(&mut self, item: Item) {
        match item {
            Item::Priority(p) => {
                self.priority.get_or_insert(p);
            }
            Item::Tag(t) => {
                if !self.tags.contains(&t) {
                    self.tags.push(t);
                }
            }
            Item::When(w) => self.apply_when(w),
            Item::Recur(r) => {
                self.recur.get_or_insert(r.recur);
                self.apply_when(r.when);
            }
        }
    }

    fn apply_when(&mut self, w: When) {
        if let Some(d) = w.date {
            self.date.get_or_insert(d);
        }
        self.soft_today |= w.soft_today;
        if let Some(c) = w.clock {
            self.clock.get_or_insert(c);
        }
        if let Some(p) = w.part {
            self.part.get_or_insert(p);
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
pub(crate) fn extract<'t, 'a>(ctx: &Ctx, toks: &'t [Token<'a>]) -> Result<(Found, Vec<&'t Token<'a>>), ParseError> {
    let mut found = Found::default();
    let all: Vec<&Token<'a>> = toks.iter().collect();
    let n = all.len();
    let mut gone = vec![false; n];
    let mut i = 0;
    while i < n {
        let window = all.get(i..n.min(i + WINDOW)).unwrap_or_default();
        let Some((len, item)) = match_at(ctx, window)? else {
            i += 1;
            continue;
        };
        found.apply(item);
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
        if let Some((len, item)) = match_at(ctx, &window)? {
            found.apply(item);
            let before = alive.before(t);
            idx.iter().take(len.max(1)).for_each(|&k| alive.remove(k));
            mark_back(&alive, before, &mut queued, &mut dirty);
        }
    }

    loop {
        alive.window(alive.head, &mut idx);
        window.clear();
        window.extend(idx.iter().filter_map(|&k| all.get(k).copied()));
        let (strip, priority) = opener(&window);
        if strip == 0 {
            break;
        }
        if let Some(p) = priority {
            found.apply(Item::Priority(p));
        }
        idx.iter().take(strip).for_each(|&k| alive.remove(k));
    }

    let mut title = Vec::new();
    let mut k = alive.head;
    while let Some(tok) = all.get(k) {
        title.push(*tok);
        k = alive.after(k);
    }
    Ok((found, title))
}

/// The grammar phrase at the start of `window`, if any, and its length.
fn match_at(ctx: &Ctx, window: &[&Token<'_>]) -> Result<Option<(usize, Item)>, ParseError> {
    let (toks, i) = (window, 0);
    let Some(tok) = toks.get(i) else { return Ok(None) };
    if tok.raw.starts_with('#')
        && let Some(t) = lexicon::tag(trim_trailing(tok.raw))
    {
        return Ok(Some((1, Item::Tag(t))));
    }
    if let Some(p) = lexicon::bangs(tok.raw) {
        return Ok(Some((1, Item::Priority(p))));
    }
    let w0 = &*tok.word;
    if let Some(p) = lexicon::p_level(w0) {
        return Ok(Some((1, Item::Priority(p))));
    }
    if let Some(p) = w0.strip_suffix("-priority").and_then(lexicon::level) {
        return Ok(Some((1, Item::Priority(p))));
    }
    if let Some(p) = lexicon::level(w0).filter(|_| word(toks, i + 1) == "priority") {
        return Ok(Some((2, Item::Priority(p))));
    }
    // `asap` anywhere; `urgent` and `important` as the last word (`call the
    // bank urgent`); as the first word they are openers. Elsewhere they
    // describe something (`reply to urgent email`).
    if let Some(p) = lexicon::priority_word(w0).filter(|_| w0 == "asap" || toks.len() == 1) {
        return Ok(Some((1, Item::Priority(p))));
    }
    if let Some((n, r)) = match_recur(toks, i) {
        return Ok(Some((n, Item::Recur(r))));
    }
    let mut j = i;
    let mut after_at = false;
    while j < i + MAX_CONNECTORS && lexicon::connector(word(toks, j)) {
        after_at = word(toks, j) == "at";
        j += 1;
    }
    let after_connector = j > i;
    if after_connector && let Some((n, r)) = match_recur(toks, j) {
        return Ok(Some((j - i + n, Item::Recur(r))));
    }
    Ok(match_when(ctx, toks, j, after_connector, after_at)?.map(|(n, w)| (j - i + n, Item::When(w))))
}
