//! A consciousness check and its findings. Its table, how a row is bound
//! (the columns in order, then the keys) and how one is read back: adding a
//! field is a column here, a line in each function, and a migration per
//! store. The findings' lists are JSON arrays of strings.

use steward_core::consciousness::ConsciousnessCheck;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "consciousness_checks",
    keys: &["id", "user_id"],
    columns: &[
        "status",
        "summary",
        "themes",
        "patterns",
        "suggested_actions",
        "concerns",
        "positives",
        "thoughts_analyzed",
        "tokens_used",
        "completed_at",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, c: &'a ConsciousnessCheck) -> Result<()> {
    w.text("status", c.status.as_str());
    w.opt_text("summary", c.summary.as_deref());
    w.json("themes", &c.themes)?;
    w.json("patterns", &c.patterns)?;
    w.json("suggested_actions", &c.suggested_actions)?;
    w.json("concerns", &c.concerns)?;
    w.json("positives", &c.positives)?;
    w.i32("thoughts_analyzed", c.thoughts_analyzed);
    w.i64("tokens_used", c.tokens_used);
    w.opt_instant("completed_at", c.completed_at);
    w.versioned_owned((c.created_at, c.updated_at, c.version), &c.id.0, &c.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<ConsciousnessCheck> {
    let c = Row(row);
    Ok(ConsciousnessCheck {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        status: c.parse("status")?,
        summary: c.opt_text("summary")?,
        themes: c.json("themes")?,
        patterns: c.json("patterns")?,
        suggested_actions: c.json("suggested_actions")?,
        concerns: c.json("concerns")?,
        positives: c.json("positives")?,
        thoughts_analyzed: c.i32("thoughts_analyzed")?,
        tokens_used: c.i64("tokens_used")?,
        completed_at: c.opt_instant("completed_at")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
