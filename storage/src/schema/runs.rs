//! An agent run: one request worked to its end. Its table, how a row is
//! bound (the columns in order, then the keys) and how one is read back:
//! adding a field is a column here, a line in each function, and a
//! migration per store. The run's usage is two columns; counts and token
//! totals are 64-bit integers in both dialects.

use steward_core::agent::model::Usage;
use steward_core::agent::run::AgentRun;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::{Table, tokens};

pub(crate) const TABLE: Table = Table {
    name: "runs",
    keys: &["id", "user_id"],
    columns: &[
        "conversation_id",
        "task_id",
        "status",
        "steps",
        "turns",
        "input_tokens",
        "output_tokens",
        "model",
        "response",
        "error",
        "finished_at",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, r: &'a AgentRun) -> Result<()> {
    w.id("conversation_id", &r.conversation_id.0);
    w.opt_id("task_id", r.task_id.as_ref().map(|id| &id.0));
    w.text("status", r.status.as_str());
    w.i64("steps", i64::from(r.steps));
    w.i64("turns", i64::from(r.turns));
    w.i64("input_tokens", tokens(r.usage.input_tokens)?);
    w.i64("output_tokens", tokens(r.usage.output_tokens)?);
    w.opt_text("model", r.model.as_deref());
    w.opt_text("response", r.response.as_deref());
    w.opt_text("error", r.error.as_deref());
    w.opt_instant("finished_at", r.finished_at);
    w.versioned_owned((r.created_at, r.updated_at, r.version), &r.id.0, &r.user_id.0);
    Ok(())
}

/// The summed usage a `SUM` query reads back (`input_tokens`, `output_tokens`).
pub(crate) fn decode_usage<R: ColumnReader + ?Sized>(row: &R) -> Result<steward_core::agent::Usage> {
    let c = Row(row);
    Ok(steward_core::agent::Usage { input_tokens: c.u64("input_tokens")?, output_tokens: c.u64("output_tokens")? })
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<AgentRun> {
    let c = Row(row);
    Ok(AgentRun {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        conversation_id: c.id("conversation_id")?,
        task_id: c.opt_id("task_id")?,
        status: c.parse("status")?,
        steps: c.u32("steps")?,
        turns: c.u32("turns")?,
        usage: Usage { input_tokens: c.u64("input_tokens")?, output_tokens: c.u64("output_tokens")? },
        model: c.opt_text("model")?,
        response: c.opt_text("response")?,
        error: c.opt_text("error")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        finished_at: c.opt_instant("finished_at")?,
        version: c.i64("version")?,
    })
}
