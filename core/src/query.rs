//! List and search requests, and the page they return. The defaults and
//! bounds here are the API's: `limit` 1–100 (default 20), newest first.

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, FieldError, Result};
use crate::ids::TaskId;
use crate::task::{Assignee, Priority, TaskStatus};
use crate::thought::ThoughtStatus;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// The largest offset: stores count rows with signed 64-bit integers.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

impl std::str::FromStr for SortOrder {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "asc" => Ok(SortOrder::Asc),
            "desc" => Ok(SortOrder::Desc),
            _ => Err(Error::Invalid(vec![FieldError::query("sort_order", "must be asc or desc")])),
        }
    }
}

/// Offset pagination shared by every list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub offset: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_LIMIT, offset: 0 }
    }
}

impl PageRequest {
    pub fn new(limit: u32, offset: u64) -> Result<PageRequest> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::Invalid(vec![FieldError::query("limit", format!("must be between 1 and {MAX_LIMIT}"))]));
        }
        if offset > MAX_OFFSET {
            return Err(Error::Invalid(vec![FieldError::query("offset", format!("must be at most {MAX_OFFSET}"))]));
        }
        Ok(PageRequest { limit, offset })
    }
}

/// One page of results and the total that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u32,
}

impl<T> Page<T> {
    pub fn has_more(&self) -> bool {
        self.offset + u64::from(self.limit) < self.total
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            offset: self.offset,
            limit: self.limit,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSort {
    #[default]
    CreatedAt,
    UpdatedAt,
    /// Tasks without a due date sort after dated ones in both directions.
    DueDate,
    /// By rank: critical first in `desc`.
    Priority,
    Title,
}

impl std::str::FromStr for TaskSort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim() {
            "created_at" => TaskSort::CreatedAt,
            "updated_at" => TaskSort::UpdatedAt,
            "due_date" => TaskSort::DueDate,
            "priority" => TaskSort::Priority,
            "title" => TaskSort::Title,
            other => {
                return Err(Error::Invalid(vec![FieldError::query(
                    "sort_by",
                    format!("cannot sort tasks by '{other}'"),
                )]));
            }
        })
    }
}

/// Which tasks to list. Every filter narrows (AND); ties in the sort key are
/// broken by insertion order in the same direction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    /// Exact tag (normalised to lower case).
    pub tag: Option<String>,
    pub assignee: Option<Assignee>,
    pub parent_id: Option<TaskId>,
    /// Due on or before this date.
    pub due_before: Option<NaiveDate>,
    /// Due on or after this date.
    pub due_after: Option<NaiveDate>,
    /// Full-text words that must all appear in title or description.
    pub text: Option<String>,
    pub sort_by: TaskSort,
    pub order: SortOrder,
    pub page: PageRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThoughtSort {
    #[default]
    CreatedAt,
    UpdatedAt,
}

impl std::str::FromStr for ThoughtSort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "created_at" => Ok(ThoughtSort::CreatedAt),
            "updated_at" => Ok(ThoughtSort::UpdatedAt),
            other => {
                Err(Error::Invalid(vec![FieldError::query("sort_by", format!("cannot sort thoughts by '{other}'"))]))
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThoughtQuery {
    pub status: Option<ThoughtStatus>,
    /// Any of these tags (OR), exact element, case-insensitive.
    pub tags: Vec<String>,
    pub sort_by: ThoughtSort,
    pub order: SortOrder,
    pub page: PageRequest,
}

/// Fields a thought search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SearchField {
    Content,
    Tags,
}

/// A search is a bounded result set, as in search engines: it returns at
/// most this many results, the best by its order (score, then newest, then
/// latest inserted), and its `Page.total` is the number it returns, exact
/// and never above this. Pages past the total are empty; `has_more` is false
/// on the page that reaches it. Beyond the best thousand a query should be
/// narrowed, not paged: the bound is what lets a store answer without
/// counting every match (PostgreSQL visits each counted row).
pub const MAX_SEARCH_RESULTS: u32 = 1_000;

/// A full-text search over the owner's thoughts; see [`MAX_SEARCH_RESULTS`]
/// for the size of its result set.
#[derive(Debug, Clone, PartialEq)]
pub struct ThoughtSearch {
    pub text: String,
    pub fields: Vec<SearchField>,
    pub page: PageRequest,
}

/// A search hit: the item, a relevance in (0, 1] (1 for the best hit), and
/// the fields the words were found in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Scored<T> {
    #[serde(flatten)]
    pub item: T,
    pub match_score: f64,
    pub matched_fields: Vec<SearchField>,
}

/// The moments a task statistics read counts from: the owner's calendar
/// date (for overdue) and now (for the completion windows and SLA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsWindow {
    pub today: NaiveDate,
    pub now: chrono::DateTime<chrono::Utc>,
}

impl StatsWindow {
    /// Completions at or after this moment count as "the last 7 days".
    pub fn week_ago(&self) -> chrono::DateTime<chrono::Utc> {
        self.now - chrono::Duration::days(7)
    }

    /// Completions at or after this moment count as "the last 30 days".
    pub fn month_ago(&self) -> chrono::DateTime<chrono::Utc> {
        self.now - chrono::Duration::days(30)
    }
}

/// One owner's tasks at a glance (`GET /api/v1/tasks/statistics`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TaskStatistics {
    pub total: u64,
    pub by_status: StatusCounts,
    pub by_priority: PriorityCounts,
    /// Open and due before the owner's today.
    pub overdue: u64,
    /// Done, completed within the last 7 (30) days.
    pub completed_last_7_days: u64,
    pub completed_last_30_days: u64,
    /// Tasks given to the agent whose queue job is still waiting or running
    /// past its deadline.
    pub sla_breaches: u64,
}

/// Tasks per status; every status is present, zero included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StatusCounts {
    pub pending: u64,
    pub in_progress: u64,
    pub waiting_approval: u64,
    pub done: u64,
    pub cancelled: u64,
}

/// Tasks per priority; every priority is present, zero included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PriorityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

/// What a store counts for one (status, priority) group of an owner's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskGroup {
    pub status: TaskStatus,
    pub priority: Priority,
    pub count: u64,
    pub overdue: u64,
    pub completed_last_7_days: u64,
    pub completed_last_30_days: u64,
}

impl TaskStatistics {
    /// The statistics of these groups (as a store reads them, by status and
    /// priority), with `sla_breaches` late agent tasks.
    pub fn from_groups(groups: impl IntoIterator<Item = TaskGroup>, sla_breaches: u64) -> TaskStatistics {
        let mut stats = TaskStatistics { sla_breaches, ..TaskStatistics::default() };
        groups.into_iter().for_each(|g| stats.add(g));
        stats
    }

    /// Adds one group's counts (the stores read them grouped by status and
    /// priority, then fold them here).
    pub fn add(&mut self, group: TaskGroup) {
        self.total += group.count;
        let status = match group.status {
            TaskStatus::Pending => &mut self.by_status.pending,
            TaskStatus::InProgress => &mut self.by_status.in_progress,
            TaskStatus::WaitingApproval => &mut self.by_status.waiting_approval,
            TaskStatus::Done => &mut self.by_status.done,
            TaskStatus::Cancelled => &mut self.by_status.cancelled,
        };
        *status += group.count;
        let priority = match group.priority {
            Priority::Critical => &mut self.by_priority.critical,
            Priority::High => &mut self.by_priority.high,
            Priority::Medium => &mut self.by_priority.medium,
            Priority::Low => &mut self.by_priority.low,
        };
        *priority += group.count;
        self.overdue += group.overdue;
        self.completed_last_7_days += group.completed_last_7_days;
        self.completed_last_30_days += group.completed_last_30_days;
    }
}

/// The words each sort key and order is written with in a query string
/// (feature `openapi`), as the `FromStr` impls above read them.
#[cfg(feature = "openapi")]
mod schemas {
    use std::borrow::Cow;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    use super::{SortOrder, TaskSort, ThoughtSort};

    pub(super) const TASK_SORTS: [&str; 5] = ["created_at", "updated_at", "due_date", "priority", "title"];
    pub(super) const THOUGHT_SORTS: [&str; 2] = ["created_at", "updated_at"];
    pub(super) const ORDERS: [&str; 2] = ["asc", "desc"];

    macro_rules! words_schema {
        ($ty:ty, $name:literal, $words:expr, $default:literal) => {
            impl JsonSchema for $ty {
                fn schema_name() -> Cow<'static, str> {
                    $name.into()
                }
                fn json_schema(_: &mut SchemaGenerator) -> Schema {
                    json_schema!({ "type": "string", "enum": $words, "default": $default })
                }
            }
        };
    }
    words_schema!(TaskSort, "TaskSort", TASK_SORTS, "created_at");
    words_schema!(ThoughtSort, "ThoughtSort", THOUGHT_SORTS, "created_at");
    words_schema!(SortOrder, "SortOrder", ORDERS, "desc");

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_word_in_a_schema_parses() {
            for word in TASK_SORTS {
                assert!(word.parse::<TaskSort>().is_ok(), "{word}");
            }
            for word in THOUGHT_SORTS {
                assert!(word.parse::<ThoughtSort>().is_ok(), "{word}");
            }
            for word in ORDERS {
                assert!(word.parse::<SortOrder>().is_ok(), "{word}");
            }
        }
    }
}
