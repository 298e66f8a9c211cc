//! An approval an action waits for. Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::approval::Approval;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "approvals",
    keys: &["id", "user_id"],
    columns: &[
        "task_id",
        "run_id",
        "action_type",
        "details",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
        "reason",
        "expires_at",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, a: &'a Approval) -> Result<()> {
    w.opt_id("task_id", a.task_id.as_ref().map(|id| &id.0));
    w.opt_id("run_id", a.run_id.as_ref().map(|id| &id.0));
    w.text("action_type", &a.action_type);
    w.json("details", &a.details)?;
    w.text("status", a.status.as_str());
    w.text("requested_by", &a.requested_by);
    w.opt_id("decided_by", a.decided_by.as_ref().map(|id| &id.0));
    w.opt_instant("decided_at", a.decided_at);
    w.opt_text("reason", a.reason.as_deref());
    w.instant("expires_at", a.expires_at);
    w.versioned_owned((a.created_at, a.updated_at, a.version), &a.id.0, &a.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Approval> {
    let c = Row(row);
    Ok(Approval {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        task_id: c.opt_id("task_id")?,
        run_id: c.opt_id("run_id")?,
        action_type: c.text("action_type")?,
        details: c.json("details")?,
        status: c.parse("status")?,
        requested_by: c.text("requested_by")?,
        decided_by: c.opt_id("decided_by")?,
        decided_at: c.opt_instant("decided_at")?,
        reason: c.opt_text("reason")?,
        expires_at: c.instant("expires_at")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
