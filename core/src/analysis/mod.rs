//! Thought analysis by rules: what a captured thought is (task, note,
//! reminder, question, idea, journal), how actionable, which tags and
//! topics it touches, its tone and urgency, and — when it asks for action —
//! the task it proposes (title, priority, due date through the quick-add
//! grammar, effort, confidence, reasons).
//!
//! Pure and deterministic: the same content and [`AnalysisContext`] always
//! give the same [`Analysis`], and no input makes it panic. This module
//! decides nothing about what happens next (auto-tagging, suggestions,
//! auto-created tasks): that is the engine's, by the owner's settings
//! (`engine::analysis`). An [`Analyzer`] is the seam for a language model:
//! [`Rules`] is the local one; a model-backed analyzer asks the model and
//! falls back to these rules when it fails. [`review`] is the rule-based
//! consciousness check over many thoughts.

mod classify;
mod lexicon;
mod model;
mod review;
mod suggest;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

pub use classify::ACTIONABLE_AT;
pub use model::{ModelAnalyzer, review_with};
pub use review::review;

use crate::quickadd::ParseOptions;
use crate::settings::Settings;
use crate::suggestion::NewSuggestion;
use crate::thought::{THOUGHT_TAGS_MAX, ThoughtAnalysis};
use classify::{Folded, Signals, round2, tone};
use lexicon::{STOPWORDS, TOPICS};

/// At most this many topics are named in `related_topics`.
pub const MAX_TOPICS: usize = 5;
/// The longest tag analysis suggests.
const TAG_MAX_CHARS: usize = 50;

/// What dates in a thought mean: now, and the owner's timezone and date order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisContext {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub options: ParseOptions,
}

impl AnalysisContext {
    /// UTC and the default date order.
    pub fn utc(now: DateTime<Utc>) -> AnalysisContext {
        AnalysisContext { now, tz: chrono_tz::UTC, options: ParseOptions::default() }
    }

    /// The owner's timezone and date order.
    pub fn for_settings(settings: &Settings, now: DateTime<Utc>) -> AnalysisContext {
        AnalysisContext { now, tz: settings.tz(), options: settings.parse_options() }
    }
}

/// What analysing one thought found.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The fields recorded on the thought. `suggested_tags` are valid tags
    /// (lowercase, letters/digits/`-`/`_`), at most five.
    pub thought: ThoughtAnalysis,
    /// The task the thought proposes, when it is actionable; its confidence
    /// is the thought's `actionable_confidence`. Whether it becomes a
    /// suggestion or a task is the owner's setting.
    pub task: Option<NewSuggestion>,
}

/// Something that analyses a thought's content. Contract: always answers
/// (a failing model falls back to [`Rules`]), with confidences in [0, 1]
/// and valid tags; safe to call from many tasks at once.
#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
pub trait Analyzer: Send + Sync + std::fmt::Debug {
    /// A short name for logs (`"rules"`).
    fn name(&self) -> &str;
    async fn analyze(&self, content: &str, ctx: &AnalysisContext) -> Analysis;
}

/// The local, rule-based analyzer: [`analyze`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules;

#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
impl Analyzer for Rules {
    fn name(&self) -> &str {
        "rules"
    }

    async fn analyze(&self, content: &str, ctx: &AnalysisContext) -> Analysis {
        analyze(content, ctx)
    }
}

/// Analyses `content` by rules.
pub fn analyze(content: &str, ctx: &AnalysisContext) -> Analysis {
    let folded = Folded::new(content);
    let action = suggest::strip_lead_in(suggest::first_sentence(content));
    let rest = Folded::new(action);
    let mut signals = Signals::read(content, &folded, &rest);
    let parsed = suggest::parse_action(action, ctx);
    if let Some(due) = parsed.as_ref().and_then(|p| p.due_date) {
        let today = ctx.now.with_timezone(&ctx.tz).date_naive();
        signals.has_due_date = true;
        signals.due_today = due <= today;
        signals.due_soon = due <= today + Duration::days(7);
    }
    let kind = signals.thought_type();
    let confidence = signals.actionable_confidence(kind);
    let actionable = confidence >= ACTIONABLE_AT;
    let task = if actionable {
        suggest::suggestion(content, parsed.as_ref(), action, &signals, round2(confidence))
    } else {
        None
    };
    let thought = ThoughtAnalysis {
        thought_type: Some(kind),
        is_actionable: actionable,
        actionable_confidence: confidence,
        suggested_tags: tags(content, &folded),
        related_topics: keywords(content).into_iter().take(MAX_TOPICS).collect(),
        emotional_tone: Some(tone(&folded).to_string()),
        urgency: Some(signals.urgency().to_string()),
    };
    Analysis { thought, task }
}

/// Tags for `content`: its own `#hashtags` first, then topics by how many
/// of their keywords it names; valid tag syntax, at most five.
fn tags(content: &str, folded: &Folded) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in content.split_whitespace() {
        let Some(body) = token.trim_end_matches(|c: char| !c.is_alphanumeric()).strip_prefix('#') else {
            continue;
        };
        let tag = body.to_lowercase();
        let valid = !tag.is_empty()
            && tag.chars().count() <= TAG_MAX_CHARS
            && tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            && tag.chars().any(char::is_alphabetic);
        if valid && !out.contains(&tag) {
            out.push(tag);
        }
    }
    let mut topics: Vec<(usize, usize, &str)> = TOPICS
        .iter()
        .enumerate()
        .map(|(i, (tag, words))| (words.iter().filter(|w| folded.has(w)).count(), i, *tag))
        .filter(|(hits, _, _)| *hits > 0)
        .collect();
    topics.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, tag) in topics {
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    out.truncate(THOUGHT_TAGS_MAX);
    out
}

/// The words that say what `content` is about: folded, four letters or
/// more, not common words, most frequent first (ties in order of
/// appearance). What related-thought search looks for.
pub fn keywords(content: &str) -> Vec<String> {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for word in crate::search::words(content) {
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        if letters < 4 || word.chars().count() > 40 || STOPWORDS.contains(&word.as_str()) {
            continue;
        }
        match counted.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => counted.push((word, 1)),
        }
    }
    // A stable sort keeps first appearance among equal counts.
    counted.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    counted.into_iter().map(|(w, _)| w).collect()
}
