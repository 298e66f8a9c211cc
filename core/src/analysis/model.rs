//! Thought analysis by a language model, with the rules as the floor: the
//! model is asked for a JSON verdict; what it says that is valid replaces
//! the rules' answer field by field, and a model that fails, refuses or
//! answers something unreadable leaves the rules' answer whole.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{Analysis, AnalysisContext, Analyzer, analyze, review};
use crate::agent::model::{LanguageModel, Message, ModelRequest};
use crate::consciousness::{CHECK_ENTRY_MAX, CHECK_LIST_MAX, CHECK_SUMMARY_MAX, Findings};
use crate::suggestion::NewSuggestion;
use crate::task::Priority;
use crate::thought::Thought;
use crate::thought::{THOUGHT_TAGS_MAX, ThoughtType};

const INSTRUCTIONS: &str = "You classify one captured thought of a person. Answer with one JSON object and \
nothing else: {\"thought_type\": \"task|note|reminder|question|idea|journal\", \"is_actionable\": bool, \
\"actionable_confidence\": number 0-1, \"tags\": [up to 5 short lowercase words], \"topics\": [strings], \
\"emotional_tone\": string|null, \"urgency\": \"low|medium|high\"|null, \"task\": null or {\"title\": string, \
\"priority\": \"critical|high|medium|low\", \"due_date\": \"YYYY-MM-DD\"|null, \"estimated_effort_minutes\": \
int|null, \"reasoning\": string}}.";

/// Analyses with `model`, falling back to [`super::Rules`] on any failure. The
/// local offline model is the rules already: with it, this is [`Rules`].
#[derive(Debug, Clone)]
pub struct ModelAnalyzer {
    model: Arc<dyn LanguageModel>,
}

impl ModelAnalyzer {
    pub fn new(model: Arc<dyn LanguageModel>) -> ModelAnalyzer {
        ModelAnalyzer { model }
    }
}

/// What the model is asked to answer; every field optional, so a partial
/// answer still counts for what it has.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Verdict {
    thought_type: Option<ThoughtType>,
    is_actionable: Option<bool>,
    actionable_confidence: Option<f64>,
    tags: Option<Vec<String>>,
    topics: Option<Vec<String>>,
    emotional_tone: Option<String>,
    urgency: Option<String>,
    task: Option<TaskVerdict>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TaskVerdict {
    title: String,
    priority: Option<Priority>,
    due_date: Option<NaiveDate>,
    estimated_effort_minutes: Option<i32>,
    reasoning: Option<String>,
}

#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
impl Analyzer for ModelAnalyzer {
    fn name(&self) -> &str {
        self.model.name()
    }

    async fn analyze(&self, content: &str, ctx: &AnalysisContext) -> Analysis {
        let rules = analyze(content, ctx);
        if self.model.name() == "local" {
            return rules;
        }
        let today = ctx.now.with_timezone(&ctx.tz).date_naive();
        let system = format!("{INSTRUCTIONS} Today is {today}.");
        let request = ModelRequest::new(Some(system), vec![Message::user(content)]);
        let verdict = match self.model.complete(&request).await {
            Ok(reply) => parse(&reply.message().text()),
            Err(error) => {
                tracing::warn!(error = %error, analyzer = self.model.name(), "thought analysis fell back to the rules");
                None
            }
        };
        match verdict {
            Some(verdict) => merge(rules, verdict),
            None => rules,
        }
    }
}

/// The JSON object in `text` (from its first `{` to its last `}`: models
/// wrap answers in prose or code fences), as a `T`.
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str(text.get(start..=end)?).ok()
}

/// The rules' analysis with every valid field of the model's verdict.
fn merge(mut a: Analysis, v: Verdict) -> Analysis {
    let t = &mut a.thought;
    if let Some(kind) = v.thought_type {
        t.thought_type = Some(kind);
    }
    if let Some(actionable) = v.is_actionable {
        t.is_actionable = actionable;
    }
    if let Some(c) = v.actionable_confidence.filter(|c| c.is_finite()) {
        t.actionable_confidence = (c.clamp(0.0, 1.0) * 100.0).round() / 100.0;
    }
    if let Some(tags) = v.tags {
        let mut clean: Vec<String> = Vec::new();
        for tag in tags.iter().map(|t| t.trim().to_lowercase()) {
            let valid = !tag.is_empty()
                && tag.chars().count() <= 50
                && tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
            if valid && !clean.contains(&tag) && clean.len() < THOUGHT_TAGS_MAX {
                clean.push(tag);
            }
        }
        if !clean.is_empty() {
            t.suggested_tags = clean;
        }
    }
    if let Some(topics) = v.topics {
        let topics: Vec<String> = topics
            .into_iter()
            .map(|s| s.trim().chars().take(50).collect::<String>())
            .filter(|s| !s.is_empty())
            .take(super::MAX_TOPICS)
            .collect();
        if !topics.is_empty() {
            t.related_topics = topics;
        }
    }
    if let Some(tone) =
        v.emotional_tone.map(|s| s.trim().chars().take(50).collect::<String>()).filter(|s| !s.is_empty())
    {
        t.emotional_tone = Some(tone);
    }
    if let Some(urgency) = v.urgency.filter(|u| matches!(u.as_str(), "low" | "medium" | "high")) {
        t.urgency = Some(urgency);
    }
    let confidence = t.actionable_confidence;
    let actionable = t.is_actionable;
    a.task = match v.task {
        Some(task) if actionable && !task.title.trim().is_empty() => Some(NewSuggestion {
            title: task.title.trim().chars().take(200).collect(),
            description: None,
            priority: task.priority,
            estimated_effort_minutes: task.estimated_effort_minutes.filter(|m| (1..=10_000).contains(m)),
            due_date_hint: task.due_date,
            confidence,
            reasoning: task.reasoning.map(|r| r.chars().take(1000).collect()),
        }),
        // The model saw no task: keep the rules' one only if it still
        // thinks the thought is actionable.
        _ if actionable => a.task.map(|s| NewSuggestion { confidence, ..s }),
        _ => None,
    };
    a
}

const REVIEW_INSTRUCTIONS: &str = "You reflect on a person's recent captured thoughts, newest first. Answer with \
one JSON object and nothing else: {\"summary\": string, \"themes\": [strings], \"patterns\": [strings], \
\"suggested_actions\": [strings], \"concerns\": [strings], \"positives\": [strings]}. Keep each entry short.";

/// A consciousness check's findings: the rules' review, with what `model`
/// says in its place where it answers validly (and the tokens it used).
/// The local model, a failing model or an unreadable answer leave the
/// rules' findings.
pub async fn review_with(
    model: Option<&Arc<dyn LanguageModel>>,
    thoughts: &[Thought],
    ctx: &AnalysisContext,
) -> Findings {
    let rules = review(thoughts, ctx);
    let Some(model) = model.filter(|m| m.name() != "local") else { return rules };
    if thoughts.is_empty() {
        return rules;
    }
    let listing: String = thoughts.iter().map(|t| format!("- {}\n", t.content)).collect();
    let request = ModelRequest::new(Some(REVIEW_INSTRUCTIONS.into()), vec![Message::user(listing)]);
    let reply = match model.complete(&request).await {
        Ok(reply) => reply,
        Err(error) => {
            tracing::warn!(error = %error, "the consciousness check fell back to the rules");
            return rules;
        }
    };
    let Some(said) = parse::<Findings>(&reply.message().text()) else { return rules };
    let list = |said: Vec<String>, rules: Vec<String>| -> Vec<String> {
        let said: Vec<String> = said
            .into_iter()
            .map(|s| s.trim().chars().take(CHECK_ENTRY_MAX).collect::<String>())
            .filter(|s| !s.is_empty())
            .take(CHECK_LIST_MAX)
            .collect();
        if said.is_empty() { rules } else { said }
    };
    let summary = said.summary.trim().chars().take(CHECK_SUMMARY_MAX).collect::<String>();
    Findings {
        summary: if summary.is_empty() { rules.summary } else { summary },
        themes: list(said.themes, rules.themes),
        patterns: list(said.patterns, rules.patterns),
        suggested_actions: list(said.suggested_actions, rules.suggested_actions),
        concerns: list(said.concerns, rules.concerns),
        positives: list(said.positives, rules.positives),
        thoughts_analyzed: rules.thoughts_analyzed,
        tokens_used: i64::try_from(reply.usage.total()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::model::ModelError;
    use crate::testing::model::{ScriptedModel, text_reply};

    fn ctx() -> AnalysisContext {
        AnalysisContext::utc(crate::testing::start_time())
    }

    async fn with(reply: Result<&str, ModelError>, content: &str) -> (Analysis, Analysis) {
        let model = ScriptedModel::new([reply.map(text_reply)]);
        let analyzer = ModelAnalyzer::new(Arc::new(model));
        (analyzer.analyze(content, &ctx()).await, analyze(content, &ctx()))
    }

    #[tokio::test]
    async fn a_valid_answer_replaces_the_rules_field_by_field() {
        let answer = r#"Sure! ```json
        {"thought_type": "task", "is_actionable": true, "actionable_confidence": 1.7,
         "tags": ["Finance", "bills", "not a tag!", "bills"], "urgency": "high",
         "task": {"title": "Pay the electricity bill", "priority": "high", "due_date": "2026-02-23",
                  "estimated_effort_minutes": 10, "reasoning": "a bill with a date"}}
        ```"#;
        let (a, _) = with(Ok(answer), "electricity bill due monday").await;
        assert_eq!(a.thought.thought_type, Some(ThoughtType::Task));
        assert_eq!(a.thought.actionable_confidence, 1.0, "clamped");
        assert_eq!(a.thought.suggested_tags, ["finance", "bills"], "invalid and repeated tags dropped");
        assert_eq!(a.thought.urgency.as_deref(), Some("high"));
        let task = a.task.unwrap();
        assert_eq!(
            (task.title.as_str(), task.priority, task.confidence),
            ("Pay the electricity bill", Some(Priority::High), 1.0)
        );
        assert_eq!(task.due_date_hint, NaiveDate::from_ymd_opt(2026, 2, 23));
    }

    #[tokio::test]
    async fn a_failing_or_unreadable_model_leaves_the_rules_answer() {
        let content = "call the plumber tomorrow about the leak";
        let (failed, rules) = with(Err(ModelError::Timeout), content).await;
        assert_eq!(failed, rules);
        let (prose, rules) = with(Ok("I think this is a task."), content).await;
        assert_eq!(prose, rules);
        let (wrong, rules) = with(Ok(r#"{"thought_type": "grocery"}"#), content).await;
        assert_eq!(wrong, rules, "an unknown type makes the answer unreadable");
    }

    #[tokio::test]
    async fn a_review_takes_the_models_findings_or_the_rules() {
        let thought = |n: u128, text: &str| {
            let (id, owner) = (crate::ids::ThoughtId(uuid::Uuid::from_u128(n)), crate::ids::UserId(uuid::Uuid::nil()));
            Thought::capture(id, owner, crate::thought::NewThought::new(text), ctx().now).unwrap()
        };
        let thoughts = vec![thought(1, "plan the garden"), thought(2, "buy seeds")];
        let rules = review(&thoughts, &ctx());
        let answer = r#"{"summary": "Gardening is on your mind.", "themes": ["garden", " "], "concerns": []}"#;
        let model: Arc<dyn LanguageModel> = Arc::new(ScriptedModel::new([Ok(text_reply(answer))]));
        let found = review_with(Some(&model), &thoughts, &ctx()).await;
        assert_eq!(found.summary, "Gardening is on your mind.");
        assert_eq!(found.themes, ["garden"], "blank entries dropped");
        assert_eq!(found.concerns, rules.concerns, "an empty list keeps the rules'");
        assert_eq!(found.tokens_used, 15);
        assert_eq!(found.thoughts_analyzed, 2);
        let failing: Arc<dyn LanguageModel> = Arc::new(ScriptedModel::new([Err(ModelError::Timeout)]));
        assert_eq!(review_with(Some(&failing), &thoughts, &ctx()).await, rules);
        assert_eq!(review_with(None, &thoughts, &ctx()).await, rules);
    }

    #[tokio::test]
    async fn not_actionable_means_no_task() {
        let (a, _) = with(Ok(r#"{"is_actionable": false, "task": {"title": "x"}}"#), "buy milk tomorrow").await;
        assert!(!a.thought.is_actionable);
        assert_eq!(a.task, None);
    }
}
