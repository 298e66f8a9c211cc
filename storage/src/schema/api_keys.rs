//! A user's API key (its secret only as a hash). Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::user::ApiKey;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "api_keys",
    keys: &["id", "user_id"],
    columns: &["name", "role", "key_hash", "prefix", "created_at", "revoked_at"],
    versioned: false,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, k: &'a ApiKey) -> Result<()> {
    w.text("name", &k.name);
    w.text("role", k.role.as_str());
    w.text("key_hash", &k.key_hash);
    w.text("prefix", &k.prefix);
    w.instant("created_at", k.created_at);
    w.opt_instant("revoked_at", k.revoked_at);
    w.id("id", &k.id.0);
    w.id("user_id", &k.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<ApiKey> {
    let c = Row(row);
    Ok(ApiKey {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        name: c.text("name")?,
        role: c.parse("role")?,
        key_hash: c.text("key_hash")?,
        prefix: c.text("prefix")?,
        created_at: c.instant("created_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
    })
}
