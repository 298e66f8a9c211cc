//! A task. Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::task::Task;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "tasks",
    keys: &["id", "user_id"],
    columns: &[
        "title",
        "description",
        "priority",
        "priority_rank",
        "status",
        "due_date",
        "due_time",
        "recurrence",
        "tags",
        "parent_id",
        "estimated_effort_minutes",
        "assignee",
        "source_thought_id",
        "metadata",
        "completed_at",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    // Written for the indexes.
    unread: &["priority_rank"],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, t: &'a Task) -> Result<()> {
    w.text("title", &t.title);
    w.opt_text("description", t.description.as_deref());
    w.text("priority", t.priority.as_str());
    // The rank is 1–4 by construction.
    w.i16("priority_rank", i16::try_from(t.priority.rank()).unwrap_or(i16::MAX));
    w.text("status", t.status.as_str());
    w.opt_date("due_date", t.due_date);
    w.opt_time("due_time", t.due_time);
    w.opt_text("recurrence", t.recurrence.as_deref());
    w.texts("tags", &t.tags)?;
    w.opt_id("parent_id", t.parent_id.as_ref().map(|id| &id.0));
    w.opt_i32("estimated_effort_minutes", t.estimated_effort_minutes);
    w.text("assignee", t.assignee.as_str());
    w.opt_id("source_thought_id", t.source_thought_id.as_ref().map(|id| &id.0));
    w.json("metadata", &t.metadata)?;
    w.opt_instant("completed_at", t.completed_at);
    w.versioned_owned((t.created_at, t.updated_at, t.version), &t.id.0, &t.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Task> {
    let c = Row(row);
    Ok(Task {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        title: c.text("title")?,
        description: c.opt_text("description")?,
        priority: c.parse("priority")?,
        status: c.parse("status")?,
        due_date: c.opt_date("due_date")?,
        due_time: c.opt_time("due_time")?,
        recurrence: c.opt_text("recurrence")?,
        tags: c.texts("tags")?,
        parent_id: c.opt_id("parent_id")?,
        estimated_effort_minutes: c.opt_i32("estimated_effort_minutes")?,
        assignee: c.parse("assignee")?,
        source_thought_id: c.opt_id("source_thought_id")?,
        metadata: c.json("metadata")?,
        completed_at: c.opt_instant("completed_at")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}

/// One (status, priority) group of a statistics read: `status`,
/// `priority`, `n`, `overdue`, `done_7`, `done_30`.
pub(crate) fn decode_group<R: ColumnReader + ?Sized>(row: &R) -> Result<steward_core::query::TaskGroup> {
    let c = Row(row);
    Ok(steward_core::query::TaskGroup {
        status: c.parse("status")?,
        priority: c.parse("priority")?,
        count: c.u64("n")?,
        overdue: c.u64("overdue")?,
        completed_last_7_days: c.u64("done_7")?,
        completed_last_30_days: c.u64("done_30")?,
    })
}

/// A single `n` column (a count).
pub(crate) fn decode_count<R: ColumnReader + ?Sized>(row: &R) -> Result<u64> {
    Row(row).u64("n")
}
