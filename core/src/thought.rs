//! Thoughts: quickly captured notes. Capture is one write; analysis (tags,
//! type, actionability) arrives later from the queue and is recorded with
//! [`ThoughtAnalysis`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::error::Result;
use crate::ids::{TaskId, ThoughtId, UserId};
use crate::task::enum_text;
use crate::validate::Checks;

pub const CONTENT_MAX: usize = 5000;
pub const THOUGHT_TAGS_MAX: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ThoughtStatus {
    #[default]
    Active,
    Archived,
    Completed,
}

impl ThoughtStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ThoughtStatus::Active => "active",
            ThoughtStatus::Archived => "archived",
            ThoughtStatus::Completed => "completed",
        }
    }
}
enum_text!(ThoughtStatus, "status", [ThoughtStatus::Active, ThoughtStatus::Archived, ThoughtStatus::Completed]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ThoughtType {
    Task,
    Note,
    Reminder,
    Question,
    Idea,
    Journal,
}

impl ThoughtType {
    pub fn as_str(self) -> &'static str {
        match self {
            ThoughtType::Task => "task",
            ThoughtType::Note => "note",
            ThoughtType::Reminder => "reminder",
            ThoughtType::Question => "question",
            ThoughtType::Idea => "idea",
            ThoughtType::Journal => "journal",
        }
    }
}
enum_text!(
    ThoughtType,
    "thought_type",
    [
        ThoughtType::Task,
        ThoughtType::Note,
        ThoughtType::Reminder,
        ThoughtType::Question,
        ThoughtType::Idea,
        ThoughtType::Journal
    ]
);

/// A captured note and what analysis later learned about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Thought {
    pub id: ThoughtId,
    pub user_id: UserId,
    pub content: String,
    pub tags: Vec<String>,
    pub status: ThoughtStatus,
    /// Caller-supplied context, echoed verbatim.
    pub context: Option<Value>,
    pub thought_type: Option<ThoughtType>,
    pub is_actionable: Option<bool>,
    pub actionable_confidence: Option<f64>,
    pub suggested_tags: Vec<String>,
    pub related_topics: Vec<String>,
    pub emotional_tone: Option<String>,
    pub urgency: Option<String>,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub analyzed_at: Option<DateTime<Utc>>,
    pub related_thought_ids: Vec<ThoughtId>,
    pub task_id: Option<TaskId>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
#[cfg_attr(feature = "openapi", schemars(extend("required" = ["content"])))]
pub struct NewThought {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = CONTENT_MAX), pattern(crate::validate::patterns::LINES)))]
    pub content: String,
    #[cfg_attr(feature = "openapi", schemars(length(max = THOUGHT_TAGS_MAX), inner(pattern(crate::validate::patterns::TAG)), extend("uniqueItems" = true)))]
    pub tags: Vec<String>,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<serde_json::Map<String, serde_json::Value>>"))]
    pub context: Option<Value>,
}

impl NewThought {
    pub fn new(content: impl Into<String>) -> Self {
        NewThought { content: content.into(), ..Default::default() }
    }
}

/// A partial update by the owner.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ThoughtPatch {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = CONTENT_MAX), pattern(crate::validate::patterns::LINES)))]
    pub content: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(max = THOUGHT_TAGS_MAX), inner(pattern(crate::validate::patterns::TAG)), extend("uniqueItems" = true)))]
    pub tags: Option<Vec<String>>,
    pub status: Option<ThoughtStatus>,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<serde_json::Map<String, serde_json::Value>>"))]
    pub context: Option<Value>,
}

/// What an analysis of a thought produced (from the local model or an LLM).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThoughtAnalysis {
    pub thought_type: Option<ThoughtType>,
    pub is_actionable: bool,
    pub actionable_confidence: f64,
    pub suggested_tags: Vec<String>,
    pub related_topics: Vec<String>,
    pub emotional_tone: Option<String>,
    pub urgency: Option<String>,
}

fn context_field(c: &mut Checks, context: &Option<Value>) {
    if let Some(v) = context
        && !v.is_null()
    {
        c.object("context", v);
    }
}

impl Thought {
    pub(crate) fn capture(id: ThoughtId, user_id: UserId, input: NewThought, now: DateTime<Utc>) -> Result<Thought> {
        let mut c = Checks::new();
        let content = c.lines("content", &input.content, 1, CONTENT_MAX);
        let tags = c.tags("tags", &input.tags, THOUGHT_TAGS_MAX);
        context_field(&mut c, &input.context);
        c.finish()?;
        Ok(Thought {
            id,
            user_id,
            content,
            tags,
            status: ThoughtStatus::Active,
            context: input.context.filter(|v| !v.is_null()),
            thought_type: None,
            is_actionable: None,
            actionable_confidence: None,
            suggested_tags: Vec::new(),
            related_topics: Vec::new(),
            emotional_tone: None,
            urgency: None,
            analyzed_at: None,
            related_thought_ids: Vec::new(),
            task_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    pub(crate) fn apply(&mut self, patch: ThoughtPatch) -> Result<()> {
        let mut c = Checks::new();
        let mut next = self.clone();
        if let Some(content) = patch.content {
            next.content = c.lines("content", &content, 1, CONTENT_MAX);
        }
        if let Some(tags) = patch.tags {
            next.tags = c.tags("tags", &tags, THOUGHT_TAGS_MAX);
        }
        if patch.context.is_some() {
            context_field(&mut c, &patch.context);
            next.context = patch.context;
        }
        next.status = patch.status.unwrap_or(next.status);
        c.finish()?;
        *self = next;
        Ok(())
    }

    /// Records an analysis. Confidence must lie in [0, 1].
    pub(crate) fn record_analysis(&mut self, analysis: ThoughtAnalysis, now: DateTime<Utc>) -> Result<()> {
        if !(0.0..=1.0).contains(&analysis.actionable_confidence) {
            return Err(Error::invalid("actionable_confidence", "must be between 0 and 1"));
        }
        let mut c = Checks::new();
        let suggested = c.tags("suggested_tags", &analysis.suggested_tags, 10);
        c.finish()?;
        self.thought_type = analysis.thought_type;
        self.is_actionable = Some(analysis.is_actionable);
        self.actionable_confidence = Some(analysis.actionable_confidence);
        self.suggested_tags = suggested;
        self.related_topics = analysis.related_topics;
        self.emotional_tone = analysis.emotional_tone;
        self.urgency = analysis.urgency;
        self.analyzed_at = Some(now);
        Ok(())
    }

    pub(crate) fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.updated_at);
        self.version += 1;
    }
}
