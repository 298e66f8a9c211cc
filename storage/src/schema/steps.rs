//! A step of an agent run, insert-only. Its table, how a row is bound (the
//! columns in order, then the keys) and how one is read back. `seq` here is
//! the step's position in its run (the table's order is `(run_id, seq)`, so
//! it keeps no insertion counter of its own); `kind` is
//! [`StepKind::name`], and `payload` the whole serialised [`StepKind`]
//! (tagged by `kind`), which is what a row is read back from.

use steward_core::agent::run::{RunStep, StepKind};

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::{Result, StoreError};

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "steps",
    keys: &["id", "user_id"],
    columns: &["run_id", "seq", "kind", "payload", "created_at"],
    versioned: false,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, s: &'a RunStep) -> Result<()> {
    w.id("run_id", &s.run_id.0);
    w.i64("seq", i64::from(s.seq));
    w.text("kind", s.kind.name());
    w.json("payload", &s.kind)?;
    w.instant("created_at", s.created_at);
    w.id("id", &s.id.0);
    w.id("user_id", &s.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<RunStep> {
    let c = Row(row);
    let kind: StepKind = c.json("payload")?;
    if kind.name() != c.text("kind")? {
        return Err(StoreError::corrupt("kind"));
    }
    Ok(RunStep {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        run_id: c.id("run_id")?,
        seq: c.u32("seq")?,
        kind,
        created_at: c.instant("created_at")?,
    })
}
