//! The built-in tools: their names, what each may touch, and the arguments
//! each takes (with JSON Schemas generated from these types).
//!
//! This is the catalogue the model sees and the policy reads. Running a
//! tool is the engine's job (`engine::agent`); external tools (MCP) join
//! through the same [`ToolSpec`] shape and are never [`Effect::Read`].

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::model::ToolSpec;
use crate::approval::{ApprovalStatus, Decision};
use crate::task::{Priority, TaskStatus};

/// What a tool may do to a person's data: what the default policy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Reads only.
    Read,
    /// Creates or changes records, one at a time.
    Write,
    /// Deletes, or changes many records at once.
    Destructive,
    /// Acts outside Steward (an MCP server's tool): nothing is known.
    External,
    /// Answers one of the person's pending approvals on their behalf. The
    /// engine allows it only in a conversation, and only for approvals that
    /// were already waiting when the person wrote; never in a run working
    /// a task on its own, and never for what the run itself asked.
    Decide,
}

/// The most sub-steps one split makes.
pub const MAX_SPLIT_STEPS: usize = 20;
/// A sub-step's estimate, in minutes, is within this range.
pub const STEP_MINUTES: std::ops::RangeInclusive<u32> = 1..=10;

/// `add_task`: creates a task for the person.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct AddTask {
    /// The task's title, 1-200 characters.
    pub title: String,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<NaiveDate>,
    /// `HH:MM`, 24 h, in the person's timezone.
    pub due_time: Option<String>,
    /// An RFC 5545 RRULE, e.g. `FREQ=WEEKLY;BYDAY=MO`.
    pub recurrence: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Makes the new task a sub-step of this one.
    pub parent_id: Option<Uuid>,
    pub estimated_effort_minutes: Option<i32>,
}

/// `list_tasks`: the person's tasks, newest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ListTasks {
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub tag: Option<String>,
    /// Words that must all appear in the title or description.
    pub query: Option<String>,
    /// Due on or before this date.
    pub due_before: Option<NaiveDate>,
    /// 1-50, default 20.
    pub limit: Option<u32>,
}

/// `get_task`, `complete_task`, `delete_task`: one task by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskRef {
    pub task_id: Uuid,
}

/// `update_task`: changes the named fields of a task; absent fields stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UpdateTask {
    pub task_id: Uuid,
    pub title: Option<String>,
    /// An empty string clears it.
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<TaskStatus>,
    pub due_date: Option<NaiveDate>,
    /// `HH:MM`.
    pub due_time: Option<String>,
    pub tags: Option<Vec<String>>,
    pub estimated_effort_minutes: Option<i32>,
}

/// One sub-step of a split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    pub title: String,
    /// 1-10 minutes.
    pub estimated_minutes: u32,
}

/// `split_task`: adds sub-steps to a task, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SplitTask {
    pub task_id: Uuid,
    /// 1-20 steps, each small enough to do in 1-10 minutes.
    pub steps: Vec<Step>,
}

/// `capture_thought`: keeps a note for later.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CaptureThought {
    pub content: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `search_thoughts`: full-text search over the person's thoughts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SearchThoughts {
    pub query: String,
    /// 1-50, default 10.
    pub limit: Option<u32>,
}

/// `accept_suggestion`: turns a suggested task into a real one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SuggestionRef {
    pub suggestion_id: Uuid,
}

/// `list_approvals`: decisions waiting for the person (pending by default).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ListApprovals {
    pub status: Option<ApprovalStatus>,
}

/// `decide_approval`: answers a pending approval as the person said in
/// this conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecideApproval {
    pub approval_id: Uuid,
    pub decision: Decision,
    /// Why, in the person's words (optional).
    pub reason: Option<String>,
}

/// A built-in tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    AddTask,
    ListTasks,
    GetTask,
    UpdateTask,
    CompleteTask,
    DeleteTask,
    SplitTask,
    CaptureThought,
    SearchThoughts,
    AcceptSuggestion,
    ListApprovals,
    DecideApproval,
}

impl Builtin {
    pub const ALL: [Builtin; 12] = [
        Builtin::AddTask,
        Builtin::ListTasks,
        Builtin::GetTask,
        Builtin::UpdateTask,
        Builtin::CompleteTask,
        Builtin::DeleteTask,
        Builtin::SplitTask,
        Builtin::CaptureThought,
        Builtin::SearchThoughts,
        Builtin::AcceptSuggestion,
        Builtin::ListApprovals,
        Builtin::DecideApproval,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::AddTask => "add_task",
            Builtin::ListTasks => "list_tasks",
            Builtin::GetTask => "get_task",
            Builtin::UpdateTask => "update_task",
            Builtin::CompleteTask => "complete_task",
            Builtin::DeleteTask => "delete_task",
            Builtin::SplitTask => "split_task",
            Builtin::CaptureThought => "capture_thought",
            Builtin::SearchThoughts => "search_thoughts",
            Builtin::AcceptSuggestion => "accept_suggestion",
            Builtin::ListApprovals => "list_approvals",
            Builtin::DecideApproval => "decide_approval",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    pub fn effect(self) -> Effect {
        match self {
            Builtin::ListTasks | Builtin::GetTask | Builtin::SearchThoughts | Builtin::ListApprovals => Effect::Read,
            Builtin::AddTask
            | Builtin::UpdateTask
            | Builtin::CompleteTask
            | Builtin::SplitTask
            | Builtin::CaptureThought
            | Builtin::AcceptSuggestion => Effect::Write,
            Builtin::DeleteTask => Effect::Destructive,
            Builtin::DecideApproval => Effect::Decide,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Builtin::AddTask => "Create a task for the person.",
            Builtin::ListTasks => "List the person's tasks, newest first, optionally filtered.",
            Builtin::GetTask => "Read one task by id, with its sub-steps' ids.",
            Builtin::UpdateTask => "Change fields of a task; fields left out stay as they are.",
            Builtin::CompleteTask => "Mark a task done (a recurring task gets its next occurrence).",
            Builtin::DeleteTask => "Delete a task and its sub-steps.",
            Builtin::SplitTask => "Break a task into small sub-steps of 1-10 minutes each, in order.",
            Builtin::CaptureThought => "Keep a note, idea or reminder as a thought.",
            Builtin::SearchThoughts => "Full-text search over the person's thoughts.",
            Builtin::AcceptSuggestion => "Accept a suggested task, creating it.",
            Builtin::ListApprovals => "List approvals (pending by default).",
            Builtin::DecideApproval => {
                "Approve or reject a pending approval, only when the person has just said so in this conversation."
            }
        }
    }

    /// The JSON Schema of the arguments.
    pub fn input_schema(self) -> Value {
        let schema = match self {
            Builtin::AddTask => schemars::schema_for!(AddTask),
            Builtin::ListTasks => schemars::schema_for!(ListTasks),
            Builtin::GetTask | Builtin::CompleteTask | Builtin::DeleteTask => schemars::schema_for!(TaskRef),
            Builtin::UpdateTask => schemars::schema_for!(UpdateTask),
            Builtin::SplitTask => schemars::schema_for!(SplitTask),
            Builtin::CaptureThought => schemars::schema_for!(CaptureThought),
            Builtin::SearchThoughts => schemars::schema_for!(SearchThoughts),
            Builtin::AcceptSuggestion => schemars::schema_for!(SuggestionRef),
            Builtin::ListApprovals => schemars::schema_for!(ListApprovals),
            Builtin::DecideApproval => schemars::schema_for!(DecideApproval),
        };
        let mut value = schema.to_value();
        // Providers want the bare object schema: no meta-schema, no title.
        if let Value::Object(map) = &mut value {
            map.remove("$schema");
            map.remove("title");
        }
        value
    }

    pub fn spec(self) -> ToolSpec {
        ToolSpec { name: self.name().into(), description: self.description().into(), input_schema: self.input_schema() }
    }
}

/// Every built-in tool as the model sees it.
pub fn builtin_specs() -> Vec<ToolSpec> {
    Builtin::ALL.into_iter().map(Builtin::spec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_an_object_with_its_required_fields() {
        for b in Builtin::ALL {
            let schema = b.input_schema();
            assert_eq!(schema["type"], "object", "{}", b.name());
            assert!(schema.get("$schema").is_none());
            assert_eq!(Builtin::from_name(b.name()), Some(b));
        }
        let add = Builtin::AddTask.input_schema();
        assert_eq!(add["required"], serde_json::json!(["title"]));
        assert_eq!(Builtin::SplitTask.input_schema()["required"], serde_json::json!(["task_id", "steps"]));
        let priority = serde_json::to_string(&add).unwrap_or_default();
        assert!(priority.contains("critical"), "priority enum values are in the schema: {priority}");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = Builtin::ALL.iter().map(|b| b.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
