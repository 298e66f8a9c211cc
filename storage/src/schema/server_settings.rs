//! `server_settings`: what an admin changed while servers ran, kept for
//! every process on the database. Not a record (no owner, no events); read
//! back whole by the stores' `server_settings`.

use steward_core::server_settings::ServerSetting;

use crate::decode::{ColumnReader, Row};
use crate::error::Result;

/// Every column, for the stores' one read.
pub(crate) const SELECT: &str = "SELECT name, value, changed_at, changed_by FROM server_settings ORDER BY name";

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<ServerSetting> {
    let c = Row(row);
    Ok(ServerSetting {
        name: c.text("name")?,
        value: c.json("value")?,
        changed_at: c.instant("changed_at")?,
        changed_by: c.opt_id("changed_by")?,
    })
}
