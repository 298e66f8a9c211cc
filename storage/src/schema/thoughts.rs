//! A captured thought. Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::thought::Thought;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "thoughts",
    keys: &["id", "user_id"],
    columns: &[
        "content",
        "tags",
        "status",
        "context",
        "thought_type",
        "is_actionable",
        "actionable_confidence",
        "suggested_tags",
        "related_topics",
        "emotional_tone",
        "urgency",
        "analyzed_at",
        "related_thought_ids",
        "task_id",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, t: &'a Thought) -> Result<()> {
    w.text("content", &t.content);
    w.texts("tags", &t.tags)?;
    w.text("status", t.status.as_str());
    w.opt_json("context", t.context.as_ref())?;
    w.opt_text("thought_type", t.thought_type.map(|k| k.as_str()));
    w.opt_bool("is_actionable", t.is_actionable);
    w.opt_f64("actionable_confidence", t.actionable_confidence);
    w.texts("suggested_tags", &t.suggested_tags)?;
    w.texts("related_topics", &t.related_topics)?;
    w.opt_text("emotional_tone", t.emotional_tone.as_deref());
    w.opt_text("urgency", t.urgency.as_deref());
    w.opt_instant("analyzed_at", t.analyzed_at);
    w.ids("related_thought_ids", t.related_thought_ids.iter().map(|id| id.0))?;
    w.opt_id("task_id", t.task_id.as_ref().map(|id| &id.0));
    w.versioned_owned((t.created_at, t.updated_at, t.version), &t.id.0, &t.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Thought> {
    let c = Row(row);
    Ok(Thought {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        content: c.text("content")?,
        tags: c.texts("tags")?,
        status: c.parse("status")?,
        context: c.opt_json("context")?,
        thought_type: c.opt_parse("thought_type")?,
        is_actionable: c.opt_bool("is_actionable")?,
        actionable_confidence: c.opt_f64("actionable_confidence")?,
        suggested_tags: c.texts("suggested_tags")?,
        related_topics: c.texts("related_topics")?,
        emotional_tone: c.opt_text("emotional_tone")?,
        urgency: c.opt_text("urgency")?,
        analyzed_at: c.opt_instant("analyzed_at")?,
        related_thought_ids: c.ids("related_thought_ids")?,
        task_id: c.opt_id("task_id")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
