//! The rule-based consciousness check: a review of a person's recent
//! thoughts. Themes are the tags they keep coming back to, patterns the
//! shape of what they capture (mostly tasks? recurring words? many open
//! questions?), suggested actions the actionable thoughts not yet turned
//! into tasks, concerns and positives from tone and urgency. Pure: the
//! engine picks the thoughts and records the findings.

use super::{AnalysisContext, analyze, keywords};
use crate::consciousness::Findings;
use crate::thought::{Thought, ThoughtAnalysis, ThoughtType};

/// How many themes and suggested actions a check names at most.
const TOP: usize = 5;

/// Reviews `thoughts` (newest first, as the engine reads them).
pub fn review(thoughts: &[Thought], ctx: &AnalysisContext) -> Findings {
    if thoughts.is_empty() {
        return Findings {
            summary: "No thoughts captured recently: nothing to reflect on yet.".into(),
            ..Findings::default()
        };
    }
    let seen: Vec<Seen<'_>> = thoughts.iter().map(|t| Seen::of(t, ctx)).collect();
    let n = seen.len();
    let themes = themes(&seen);
    let mut patterns = Vec::new();
    let count = |kind: ThoughtType| seen.iter().filter(|s| s.analysis.thought_type == Some(kind)).count();
    let mut kinds: Vec<(ThoughtType, usize)> = [
        ThoughtType::Task,
        ThoughtType::Reminder,
        ThoughtType::Note,
        ThoughtType::Idea,
        ThoughtType::Question,
        ThoughtType::Journal,
    ]
    .into_iter()
    .map(|k| (k, count(k)))
    .filter(|(_, c)| *c > 0)
    .collect();
    kinds.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    if let Some((kind, c)) = kinds.first()
        && *c * 2 > n
    {
        patterns.push(format!("Most of your recent thoughts are {}s ({c} of {n}).", kind.as_str()));
    }
    for (word, c) in recurring_words(&seen) {
        patterns.push(format!("You keep coming back to \"{word}\" ({c} thoughts)."));
    }
    let questions = count(ThoughtType::Question);
    if questions >= 2 {
        patterns.push(format!("{questions} open questions are waiting for answers."));
    }
    let ideas = count(ThoughtType::Idea);
    if ideas >= 2 {
        patterns.push(format!("{ideas} ideas captured: a good moment to pick one to explore."));
    }

    let open: Vec<&Seen<'_>> =
        seen.iter().filter(|s| s.analysis.is_actionable && s.thought.task_id.is_none()).collect();
    let suggested_actions: Vec<String> = open
        .iter()
        .take(TOP)
        .map(|s| format!("Turn into a task: {}", s.title))
        .chain((questions > 0).then(|| "Set aside time to answer your open questions.".to_string()))
        .collect();

    let mut concerns = Vec::new();
    let negative = seen.iter().filter(|s| s.analysis.emotional_tone.as_deref() == Some("negative")).count();
    if negative > 0 {
        let sound = if negative == 1 { "sounds" } else { "sound" };
        concerns.push(format!("{negative} of your recent thoughts {sound} stressed or low."));
    }
    let urgent = seen.iter().filter(|s| s.analysis.urgency.as_deref() == Some("high")).count();
    if urgent > 0 {
        concerns.push(format!("{urgent} urgent item(s) need attention soon."));
    }
    if open.len() > TOP {
        concerns.push(format!("{} actionable thoughts are not tasks yet: the list is growing.", open.len()));
    }
    let mut positives = Vec::new();
    let positive = seen.iter().filter(|s| s.analysis.emotional_tone.as_deref() == Some("positive")).count();
    if positive > 0 {
        let are = if positive == 1 { "is" } else { "are" };
        positives.push(format!("{positive} of your recent thoughts {are} upbeat."));
    }
    let handled = seen.iter().filter(|s| s.thought.task_id.is_some()).count();
    if handled > 0 {
        positives.push(format!("{handled} thought(s) already became tasks."));
    }
    if ideas > 0 {
        positives.push("You are generating new ideas.".into());
    }

    let mix: Vec<String> = kinds.iter().map(|(k, c)| format!("{c} {}", plural(k.as_str(), *c))).collect();
    let mut summary = format!("Looked at {n} recent {}: {}.", plural("thought", n), mix.join(", "));
    if !themes.is_empty() {
        summary.push_str(&format!(" Main themes: {}.", themes.join(", ")));
    }
    if !open.is_empty() {
        let becomes = if open.len() == 1 { "a task" } else { "tasks" };
        summary.push_str(&format!(" {} could become {becomes}.", open.len()));
    }
    Findings {
        summary,
        themes,
        patterns,
        suggested_actions,
        concerns,
        positives,
        thoughts_analyzed: i32::try_from(n).unwrap_or(i32::MAX),
        tokens_used: 0,
    }
}

/// A thought with its analysis: the recorded one, else the rules' now.
struct Seen<'a> {
    thought: &'a Thought,
    analysis: ThoughtAnalysis,
    title: String,
    words: Vec<String>,
}

impl<'a> Seen<'a> {
    fn of(thought: &'a Thought, ctx: &AnalysisContext) -> Seen<'a> {
        let fresh = analyze(&thought.content, ctx);
        let analysis = match (thought.analyzed_at, thought.is_actionable, thought.actionable_confidence) {
            (Some(_), Some(is_actionable), Some(actionable_confidence)) => ThoughtAnalysis {
                thought_type: thought.thought_type,
                is_actionable,
                actionable_confidence,
                suggested_tags: thought.suggested_tags.clone(),
                related_topics: thought.related_topics.clone(),
                emotional_tone: thought.emotional_tone.clone(),
                urgency: thought.urgency.clone(),
            },
            _ => fresh.thought,
        };
        let title = fresh.task.map_or_else(|| short(&thought.content), |t| t.title);
        let mut words = keywords(&thought.content);
        words.dedup();
        Seen { thought, analysis, title, words }
    }
}

/// Tags (the thought's own and suggested) named by the most thoughts.
fn themes(seen: &[Seen<'_>]) -> Vec<String> {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for s in seen {
        let mut tags: Vec<&String> = s.thought.tags.iter().chain(&s.analysis.suggested_tags).collect();
        tags.sort();
        tags.dedup();
        for tag in tags {
            match counted.iter_mut().find(|(t, _)| t == tag) {
                Some((_, c)) => *c += 1,
                None => counted.push((tag.clone(), 1)),
            }
        }
    }
    counted.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    counted.into_iter().take(TOP).map(|(t, _)| t).collect()
}

/// Words found in at least three thoughts (or two of few), most first.
fn recurring_words(seen: &[Seen<'_>]) -> Vec<(String, usize)> {
    let at_least = if seen.len() < 6 { 2 } else { 3 };
    let mut counted: Vec<(String, usize)> = Vec::new();
    for s in seen {
        for w in &s.words {
            match counted.iter_mut().find(|(x, _)| x == w) {
                Some((_, c)) => *c += 1,
                None => counted.push((w.clone(), 1)),
            }
        }
    }
    counted.retain(|(_, c)| *c >= at_least);
    counted.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    counted.truncate(3);
    counted
}

fn plural(word: &str, n: usize) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}

/// The first line, at most 80 characters.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let cut: String = line.chars().take(80).collect();
    if line.chars().count() > 80 { format!("{cut}…") } else { cut }
}
