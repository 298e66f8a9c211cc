//! A task suggested from a thought. Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::suggestion::Suggestion;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "suggestions",
    keys: &["id", "user_id"],
    columns: &[
        "source_thought_id",
        "title",
        "description",
        "priority",
        "estimated_effort_minutes",
        "due_date_hint",
        "confidence",
        "reasoning",
        "status",
        "user_action",
        "user_action_at",
        "created_task_id",
        "is_deleted",
        "deleted_at",
        "deletion_reason",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, s: &'a Suggestion) -> Result<()> {
    w.id("source_thought_id", &s.source_thought_id.0);
    w.text("title", &s.title);
    w.opt_text("description", s.description.as_deref());
    w.text("priority", s.priority.as_str());
    w.opt_i32("estimated_effort_minutes", s.estimated_effort_minutes);
    w.opt_date("due_date_hint", s.due_date_hint);
    w.f64("confidence", s.confidence);
    w.opt_text("reasoning", s.reasoning.as_deref());
    w.text("status", s.status.as_str());
    w.opt_text("user_action", s.user_action.as_deref());
    w.opt_instant("user_action_at", s.user_action_at);
    w.opt_id("created_task_id", s.created_task_id.as_ref().map(|id| &id.0));
    w.bool("is_deleted", s.is_deleted);
    w.opt_instant("deleted_at", s.deleted_at);
    w.opt_text("deletion_reason", s.deletion_reason.as_deref());
    w.versioned_owned((s.created_at, s.updated_at, s.version), &s.id.0, &s.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Suggestion> {
    let c = Row(row);
    Ok(Suggestion {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        source_thought_id: c.id("source_thought_id")?,
        title: c.text("title")?,
        description: c.opt_text("description")?,
        priority: c.parse("priority")?,
        estimated_effort_minutes: c.opt_i32("estimated_effort_minutes")?,
        due_date_hint: c.opt_date("due_date_hint")?,
        confidence: c.f64("confidence")?,
        reasoning: c.opt_text("reasoning")?,
        status: c.parse("status")?,
        user_action: c.opt_text("user_action")?,
        user_action_at: c.opt_instant("user_action_at")?,
        created_task_id: c.opt_id("created_task_id")?,
        is_deleted: c.bool("is_deleted")?,
        deleted_at: c.opt_instant("deleted_at")?,
        deletion_reason: c.opt_text("deletion_reason")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
