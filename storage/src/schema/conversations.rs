//! A conversation with the agent: the runs of one chat thread. Its table,
//! how a row is bound (the columns in order, then the keys) and how one is
//! read back: adding a field is a column here, a line in each function, and
//! a migration per store.

use steward_core::agent::run::Conversation;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "conversations",
    keys: &["id", "user_id"],
    columns: &["title", "created_at", "updated_at", "version"],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, c: &'a Conversation) -> Result<()> {
    w.text("title", &c.title);
    w.versioned_owned((c.created_at, c.updated_at, c.version), &c.id.0, &c.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Conversation> {
    let c = Row(row);
    Ok(Conversation {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        title: c.text("title")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
