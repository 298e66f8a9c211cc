//! Tasks: the record, its input forms, and its status machine.
//!
//! Validation and every legal status change live here; stores persist what
//! this module produced and nothing else.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Entity, Error, Result};
use crate::ids::{TaskId, ThoughtId, UserId};
use crate::recurrence::Recurrence;
use crate::validate::Checks;

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
pub const TASK_TAGS_MAX: usize = 20;

/// How urgent a task (or a job) is. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Critical, Priority::High, Priority::Medium, Priority::Low];

    /// 4 for critical down to 1 for low; what stores sort by.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 1,
            Priority::Medium => 2,
            Priority::High => 3,
            Priority::Critical => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Priority::ALL.into_iter().find(|p| p.rank() == rank)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

/// Where a task stands.
///
/// ```text
/// pending ⇄ in_progress ⇄ waiting_approval      (any of these three → done | cancelled)
/// done → pending (reopen)        cancelled → pending (restore)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Pending,
    InProgress,
    WaitingApproval,
    Done,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Pending,
        TaskStatus::InProgress,
        TaskStatus::WaitingApproval,
        TaskStatus::Done,
        TaskStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::WaitingApproval => "waiting_approval",
            TaskStatus::Done => "done",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Open tasks still need doing.
    pub fn is_open(self) -> bool {
        matches!(self, TaskStatus::Pending | TaskStatus::InProgress | TaskStatus::WaitingApproval)
    }

    /// Whether `self → to` is a move the machine allows. Staying put is
    /// allowed (and is a no-op).
    pub fn can_become(self, to: TaskStatus) -> bool {
        self == to || self.is_open() || to == TaskStatus::Pending
    }
}

/// Who is expected to do a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Assignee {
    #[default]
    Me,
    Agent,
}

impl Assignee {
    pub fn as_str(self) -> &'static str {
        match self {
            Assignee::Me => "me",
            Assignee::Agent => "agent",
        }
    }
}

macro_rules! enum_text {
    ($ty:ty, $what:literal, [$($variant:expr),+ $(,)?]) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::str::FromStr for $ty {
            type Err = $crate::Error;
            fn from_str(s: &str) -> $crate::Result<Self> {
                let wanted = s.trim().to_ascii_lowercase();
                [$($variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| {
                        let allowed = [$($variant.as_str()),+].join(", ");
                        $crate::Error::invalid($what, format!("'{s}' is not one of {allowed}"))
                    })
            }
        }
    };
}
pub(crate) use enum_text;

enum_text!(Priority, "priority", [Priority::Critical, Priority::High, Priority::Medium, Priority::Low]);
enum_text!(
    TaskStatus,
    "status",
    [TaskStatus::Pending, TaskStatus::InProgress, TaskStatus::WaitingApproval, TaskStatus::Done, TaskStatus::Cancelled]
);
enum_text!(Assignee, "assignee", [Assignee::Me, Assignee::Agent]);

/// A unit of work for a person or the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Task {
    pub id: TaskId,
    pub user_id: UserId,
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub status: TaskStatus,
    pub due_date: Option<NaiveDate>,
    #[serde(with = "crate::serde_time::hhmm_opt")]
    #[cfg_attr(feature = "openapi", schemars(schema_with = "crate::serde_time::hhmm_schema"))]
    pub due_time: Option<NaiveTime>,
    /// An RFC 5545 RRULE without the `RRULE:` prefix.
    pub recurrence: Option<String>,
    pub tags: Vec<String>,
    pub parent_id: Option<TaskId>,
    pub estimated_effort_minutes: Option<i32>,
    pub assignee: Assignee,
    pub source_thought_id: Option<ThoughtId>,
    pub metadata: Value,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// What a caller gives to create a task. Status is not an input: new tasks
/// are pending.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
#[cfg_attr(feature = "openapi", schemars(extend("required" = ["title"])))]
pub struct NewTask {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = TITLE_MAX), pattern(crate::validate::patterns::LINE)))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schemars(length(max = DESCRIPTION_MAX), pattern(crate::validate::patterns::OPTIONAL_TEXT)))]
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub due_date: Option<NaiveDate>,
    #[serde(with = "crate::serde_time::hhmm_opt")]
    #[cfg_attr(feature = "openapi", schemars(schema_with = "crate::serde_time::hhmm_schema"))]
    pub due_time: Option<NaiveTime>,
    #[cfg_attr(feature = "openapi", schemars(pattern(crate::recurrence::SCHEMA_PATTERN)))]
    pub recurrence: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(max = TASK_TAGS_MAX), inner(pattern(crate::validate::patterns::TAG)), extend("uniqueItems" = true)))]
    pub tags: Vec<String>,
    pub parent_id: Option<TaskId>,
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = i32::MAX)))]
    pub estimated_effort_minutes: Option<i32>,
    pub assignee: Option<Assignee>,
    pub source_thought_id: Option<ThoughtId>,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<serde_json::Map<String, serde_json::Value>>"))]
    pub metadata: Option<Value>,
}

impl NewTask {
    pub fn titled(title: impl Into<String>) -> Self {
        NewTask { title: title.into(), ..Default::default() }
    }
}

/// A partial update: `None` leaves a field as it is. An empty description
/// clears it; an empty recurrence stops the repetition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct TaskPatch {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = TITLE_MAX), pattern(crate::validate::patterns::LINE)))]
    pub title: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(max = DESCRIPTION_MAX), pattern(crate::validate::patterns::OPTIONAL_TEXT)))]
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<TaskStatus>,
    pub due_date: Option<NaiveDate>,
    #[serde(with = "crate::serde_time::hhmm_opt")]
    #[cfg_attr(feature = "openapi", schemars(schema_with = "crate::serde_time::hhmm_schema"))]
    pub due_time: Option<NaiveTime>,
    #[cfg_attr(feature = "openapi", schemars(pattern(crate::recurrence::SCHEMA_PATTERN)))]
    pub recurrence: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(max = TASK_TAGS_MAX), inner(pattern(crate::validate::patterns::TAG)), extend("uniqueItems" = true)))]
    pub tags: Option<Vec<String>>,
    pub parent_id: Option<TaskId>,
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = i32::MAX)))]
    pub estimated_effort_minutes: Option<i32>,
    pub assignee: Option<Assignee>,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<serde_json::Map<String, serde_json::Value>>"))]
    pub metadata: Option<Value>,
}

impl Task {
    /// Builds a valid pending task, or reports every broken rule.
    pub(crate) fn create(id: TaskId, user_id: UserId, input: NewTask, now: DateTime<Utc>) -> Result<Task> {
        let mut c = Checks::new();
        let title = c.line("title", &input.title, 1, TITLE_MAX);
        let description = c.optional_text("description", input.description.as_deref(), DESCRIPTION_MAX);
        let tags = c.tags("tags", &input.tags, TASK_TAGS_MAX);
        let recurrence = recurrence_field(&mut c, input.recurrence.as_deref());
        effort_field(&mut c, input.estimated_effort_minutes);
        let metadata = input.metadata.unwrap_or_else(|| Value::Object(Default::default()));
        c.object("metadata", &metadata);
        if input.parent_id == Some(id) {
            c.fail("parent_id", "a task cannot be its own parent");
        }
        c.finish()?;
        Ok(Task {
            id,
            user_id,
            title,
            description,
            priority: input.priority.unwrap_or(Priority::Medium),
            status: TaskStatus::Pending,
            due_date: input.due_date,
            due_time: input.due_time,
            recurrence,
            tags,
            parent_id: input.parent_id,
            estimated_effort_minutes: input.estimated_effort_minutes,
            assignee: input.assignee.unwrap_or_default(),
            source_thought_id: input.source_thought_id,
            metadata,
            completed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// Applies a partial update, validating every field given (all or
    /// nothing). A status in the patch follows the same machine as
    /// [`Task::set_status`]. The caller marks the write with [`Task::touch`].
    pub(crate) fn apply(&mut self, patch: TaskPatch, now: DateTime<Utc>) -> Result<()> {
        let mut c = Checks::new();
        let mut next = self.clone();
        if let Some(title) = patch.title {
            next.title = c.line("title", &title, 1, TITLE_MAX);
        }
        if let Some(description) = patch.description {
            next.description = c.optional_text("description", Some(&description), DESCRIPTION_MAX);
        }
        if let Some(tags) = patch.tags {
            next.tags = c.tags("tags", &tags, TASK_TAGS_MAX);
        }
        if let Some(recurrence) = patch.recurrence {
            next.recurrence = recurrence_field(&mut c, Some(&recurrence));
        }
        if let Some(minutes) = patch.estimated_effort_minutes {
            effort_field(&mut c, Some(minutes));
            next.estimated_effort_minutes = Some(minutes);
        }
        if let Some(metadata) = patch.metadata {
            c.object("metadata", &metadata);
            next.metadata = metadata;
        }
        if let Some(parent) = patch.parent_id {
            if parent == self.id {
                c.fail("parent_id", "a task cannot be its own parent");
            }
            next.parent_id = Some(parent);
        }
        next.priority = patch.priority.unwrap_or(next.priority);
        next.due_date = patch.due_date.or(next.due_date);
        next.due_time = patch.due_time.or(next.due_time);
        next.assignee = patch.assignee.unwrap_or(next.assignee);
        c.finish()?;
        if let Some(status) = patch.status {
            next.set_status(status, now)?;
        }
        *self = next;
        Ok(())
    }

    /// Moves the task through its status machine. Returns whether anything
    /// changed; an illegal move is `Error::InvalidTransition` and changes
    /// nothing.
    pub(crate) fn set_status(&mut self, to: TaskStatus, now: DateTime<Utc>) -> Result<bool> {
        if self.status == to {
            return Ok(false);
        }
        if !self.status.can_become(to) {
            return Err(Error::transition(Entity::Task, self.status, to));
        }
        self.completed_at = (to == TaskStatus::Done).then_some(now);
        self.status = to;
        Ok(true)
    }

    /// Marks one successful write: the next version and a fresh `updated_at`.
    /// Called once per write by the engine, after the changes are made.
    pub(crate) fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.updated_at);
        self.version += 1;
    }

    /// The next occurrence of a recurring task, as a fresh pending task due
    /// on the first date of its rule after the current due date and not
    /// before `today` (so completing an overdue daily task does not create a
    /// task that is already overdue).
    pub(crate) fn next_occurrence(&self, id: TaskId, today: NaiveDate, now: DateTime<Utc>) -> Result<Option<Task>> {
        let Some(rule) = self.recurrence.as_deref() else { return Ok(None) };
        let rule = Recurrence::parse(rule)?;
        let anchor = self.due_date.unwrap_or(today);
        let Some(due) = rule.next_after(anchor, today) else { return Ok(None) };
        Ok(Some(Task {
            id,
            status: TaskStatus::Pending,
            due_date: Some(due),
            completed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            ..self.clone()
        }))
    }

    /// The moment the task is due, for a task with a due date and time, read
    /// in the owner's timezone `tz`. A time that a DST change skips is read
    /// as the first valid moment after it; an ambiguous one as the earlier.
    pub fn due_at(&self, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        use chrono::TimeZone;
        let local = self.due_date?.and_time(self.due_time?);
        let mut probe = local;
        for _ in 0..4 {
            if let Some(at) = tz.from_local_datetime(&probe).earliest() {
                return Some(at.with_timezone(&Utc));
            }
            probe += chrono::Duration::minutes(30);
        }
        None
    }

    /// Overdue: open and due before `today` (the owner's calendar date).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status.is_open() && self.due_date.is_some_and(|d| d < today)
    }
}

fn recurrence_field(c: &mut Checks, raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    if raw.is_empty() {
        return None;
    }
    match Recurrence::parse(raw) {
        Ok(rule) => Some(rule.as_str().to_string()),
        Err(Error::Invalid(errors)) => {
            for e in errors {
                c.fail("recurrence", e.msg);
            }
            None
        }
        Err(other) => {
            c.fail("recurrence", other.to_string());
            None
        }
    }
}

fn effort_field(c: &mut Checks, minutes: Option<i32>) {
    if minutes.is_some_and(|m| m <= 0) {
        c.fail("estimated_effort_minutes", "must be greater than 0");
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn status() -> impl Strategy<Value = TaskStatus> {
        proptest::sample::select(TaskStatus::ALL.to_vec())
    }

    fn fresh(now: DateTime<Utc>) -> Task {
        Task::create(TaskId(uuid::Uuid::from_u128(1)), UserId(uuid::Uuid::from_u128(2)), NewTask::titled("t"), now)
            .unwrap()
    }

    proptest! {
        /// Whatever sequence of moves is attempted, the task only ever takes
        /// legal steps, a refused move changes nothing, and `completed_at`
        /// is set exactly when the task is done.
        #[test]
        fn status_machine_only_takes_legal_steps(moves in proptest::collection::vec(status(), 0..40)) {
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let mut task = fresh(start);
            for (i, to) in moves.into_iter().enumerate() {
                let now = start + Duration::seconds(i as i64);
                let before = task.clone();
                match task.set_status(to, now) {
                    Ok(changed) => {
                        prop_assert!(before.status.can_become(to));
                        prop_assert_eq!(changed, before.status != to);
                        prop_assert_eq!(task.status, to);
                    }
                    Err(Error::InvalidTransition { .. }) => {
                        prop_assert!(!before.status.can_become(to));
                        prop_assert_eq!(&task, &before);
                    }
                    Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                }
                prop_assert_eq!(task.completed_at.is_some(), task.status == TaskStatus::Done);
            }
        }

        /// Closed tasks can only be reopened; open ones may go anywhere.
        #[test]
        fn closed_tasks_only_reopen(from in status(), to in status()) {
            let legal = from.can_become(to);
            if from.is_open() || from == to || to == TaskStatus::Pending {
                prop_assert!(legal);
            } else {
                prop_assert!(!legal);
            }
        }

        /// A rejected patch leaves the task exactly as it was.
        #[test]
        fn invalid_patch_is_all_or_nothing(title in ".{0,3}", minutes in -5i32..5) {
            let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let mut task = fresh(now);
            let before = task.clone();
            let patch = TaskPatch { title: Some(title.clone()), estimated_effort_minutes: Some(minutes), priority: Some(Priority::Critical), ..Default::default() };
            match task.apply(patch, now) {
                Ok(()) => {
                    prop_assert!(!title.trim().is_empty() && minutes > 0);
                    prop_assert_eq!(task.priority, Priority::Critical);
                }
                Err(_) => prop_assert_eq!(&task, &before),
            }
        }
    }
}
