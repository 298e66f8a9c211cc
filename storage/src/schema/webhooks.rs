//! A user's webhook. Its table, how a row is bound (the columns in order,
//! then the keys) and how one is read back: adding a field is a column here,
//! a line in each function, and a migration per store. `events` is a JSON
//! array of kind names; the secret is kept as given (a signature needs it).

use steward_core::webhook::Webhook;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "webhooks",
    keys: &["id", "user_id"],
    columns: &["url", "events", "secret", "active", "created_at", "updated_at", "version"],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, h: &'a Webhook) -> Result<()> {
    w.text("url", &h.url);
    w.json("events", &h.events)?;
    w.text("secret", &h.secret);
    w.bool("active", h.active);
    w.versioned_owned((h.created_at, h.updated_at, h.version), &h.id.0, &h.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Webhook> {
    let c = Row(row);
    Ok(Webhook {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        url: c.text("url")?,
        events: c.json("events")?,
        secret: c.text("secret")?,
        active: c.bool("active")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
