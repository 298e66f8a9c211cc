//! Task suggestions: a task proposed from a thought, with a confidence, that
//! the owner accepts (creating the linked task), rejects, or soft-deletes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Conflict, Entity, Error, Result};
use crate::ids::{SuggestionId, TaskId, ThoughtId, UserId};
use crate::task::{DESCRIPTION_MAX, Priority, TITLE_MAX, enum_text};
use crate::validate::Checks;

/// `pending → presented → accepted | rejected | expired` (pending may skip
/// `presented`). Decided suggestions never change status again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SuggestionStatus {
    Pending,
    Presented,
    Accepted,
    Rejected,
    Expired,
}

impl SuggestionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionStatus::Pending => "pending",
            SuggestionStatus::Presented => "presented",
            SuggestionStatus::Accepted => "accepted",
            SuggestionStatus::Rejected => "rejected",
            SuggestionStatus::Expired => "expired",
        }
    }

    /// The statuses still waiting for the owner's answer (stores filter on
    /// them in their own query language).
    pub const OPEN: [SuggestionStatus; 2] = [SuggestionStatus::Pending, SuggestionStatus::Presented];

    /// Still waiting for the owner's answer.
    pub fn is_open(self) -> bool {
        SuggestionStatus::OPEN.contains(&self)
    }
}
enum_text!(
    SuggestionStatus,
    "status",
    [
        SuggestionStatus::Pending,
        SuggestionStatus::Presented,
        SuggestionStatus::Accepted,
        SuggestionStatus::Rejected,
        SuggestionStatus::Expired
    ]
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Suggestion {
    pub id: SuggestionId,
    pub user_id: UserId,
    pub source_thought_id: ThoughtId,
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub estimated_effort_minutes: Option<i32>,
    pub due_date_hint: Option<NaiveDate>,
    pub confidence: f64,
    pub reasoning: Option<String>,
    pub status: SuggestionStatus,
    /// What the owner did: `accepted`, `rejected`, or null.
    pub user_action: Option<String>,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub user_action_at: Option<DateTime<Utc>>,
    pub created_task_id: Option<TaskId>,
    pub is_deleted: bool,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub deleted_at: Option<DateTime<Utc>>,
    pub deletion_reason: Option<String>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A proposal, as analysis produces it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewSuggestion {
    pub title: String,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub estimated_effort_minutes: Option<i32>,
    pub due_date_hint: Option<NaiveDate>,
    pub confidence: f64,
    pub reasoning: Option<String>,
}

/// Optional changes the owner makes while accepting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct AcceptOverrides {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = TITLE_MAX), pattern(crate::validate::patterns::LINE)))]
    pub title: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(max = DESCRIPTION_MAX), pattern(crate::validate::patterns::OPTIONAL_TEXT)))]
    pub description: Option<String>,
    pub priority: Option<Priority>,
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = i32::MAX)))]
    pub estimated_effort_minutes: Option<i32>,
    pub due_date: Option<NaiveDate>,
}

impl Suggestion {
    pub(crate) fn propose(
        id: SuggestionId,
        user_id: UserId,
        thought: ThoughtId,
        input: NewSuggestion,
        now: DateTime<Utc>,
    ) -> Result<Suggestion> {
        let mut c = Checks::new();
        let title = c.line("title", &input.title, 1, TITLE_MAX);
        let description = c.optional_text("description", input.description.as_deref(), DESCRIPTION_MAX);
        let reasoning = c.optional_text("reasoning", input.reasoning.as_deref(), DESCRIPTION_MAX);
        if !(0.0..=1.0).contains(&input.confidence) {
            c.fail("confidence", "must be between 0 and 1");
        }
        if input.estimated_effort_minutes.is_some_and(|m| m <= 0) {
            c.fail("estimated_effort_minutes", "must be greater than 0");
        }
        c.finish()?;
        Ok(Suggestion {
            id,
            user_id,
            source_thought_id: thought,
            title,
            description,
            priority: input.priority.unwrap_or(Priority::Medium),
            estimated_effort_minutes: input.estimated_effort_minutes,
            due_date_hint: input.due_date_hint,
            confidence: input.confidence,
            reasoning,
            status: SuggestionStatus::Pending,
            user_action: None,
            user_action_at: None,
            created_task_id: None,
            is_deleted: false,
            deleted_at: None,
            deletion_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    fn decide(&mut self, to: SuggestionStatus, now: DateTime<Utc>) -> Result<()> {
        if !self.status.is_open() || self.is_deleted {
            return Err(Error::transition(Entity::Suggestion, self.status, to));
        }
        self.status = to;
        self.user_action = Some(to.as_str().to_string());
        self.user_action_at = Some(now);
        Ok(())
    }

    /// Marks the suggestion accepted, linked to the task made from it.
    pub(crate) fn accept(&mut self, task: TaskId, now: DateTime<Utc>) -> Result<()> {
        self.decide(SuggestionStatus::Accepted, now)?;
        self.created_task_id = Some(task);
        Ok(())
    }

    pub(crate) fn reject(&mut self, reason: Option<String>, now: DateTime<Utc>) -> Result<()> {
        self.decide(SuggestionStatus::Rejected, now)?;
        if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
            self.reasoning = Some(reason.trim().to_string());
        }
        Ok(())
    }

    /// Soft delete; the status is kept so a restore puts it back as it was.
    pub(crate) fn delete(&mut self, reason: Option<String>, now: DateTime<Utc>) -> Result<()> {
        if self.is_deleted {
            return Err(Error::Conflict(Conflict::AlreadyDeleted { entity: Entity::Suggestion }));
        }
        self.is_deleted = true;
        self.deleted_at = Some(now);
        self.deletion_reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        Ok(())
    }

    pub(crate) fn restore(&mut self) -> Result<()> {
        if !self.is_deleted {
            return Err(Error::NotDeleted { entity: Entity::Suggestion });
        }
        self.is_deleted = false;
        self.deleted_at = None;
        self.deletion_reason = None;
        Ok(())
    }

    pub(crate) fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.updated_at);
        self.version += 1;
    }
}
