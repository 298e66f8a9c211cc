//! A user account. Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::user::User;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "users",
    keys: &["id"],
    columns: &["email", "name", "role", "password_hash", "created_at"],
    versioned: false,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, u: &'a User) -> Result<()> {
    w.text("email", &u.email);
    w.text("name", &u.name);
    w.text("role", u.role.as_str());
    w.opt_text("password_hash", u.password_hash.as_deref());
    w.instant("created_at", u.created_at);
    w.id("id", &u.id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<User> {
    let c = Row(row);
    Ok(User {
        id: c.id("id")?,
        email: c.text("email")?,
        name: c.text("name")?,
        role: c.parse("role")?,
        password_hash: c.opt_text("password_hash")?,
        created_at: c.instant("created_at")?,
    })
}
