//! A user's profile. Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::settings::Profile;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "profiles",
    keys: &["user_id"],
    columns: &[
        "ongoing_projects",
        "interests",
        "work_style",
        "themes",
        "preferred_tone",
        "detail_level",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, p: &'a Profile) -> Result<()> {
    w.json("ongoing_projects", &p.ongoing_projects)?;
    w.texts("interests", &p.interests)?;
    w.opt_text("work_style", p.work_style.as_deref());
    w.texts("themes", &p.themes)?;
    w.opt_text("preferred_tone", p.preferred_tone.as_deref());
    w.opt_text("detail_level", p.detail_level.as_deref());
    w.instant("created_at", p.created_at);
    w.instant("updated_at", p.updated_at);
    w.i64("version", p.version);
    w.id("user_id", &p.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Profile> {
    let c = Row(row);
    Ok(Profile {
        user_id: c.id("user_id")?,
        ongoing_projects: c.json("ongoing_projects")?,
        interests: c.texts("interests")?,
        work_style: c.opt_text("work_style")?,
        themes: c.texts("themes")?,
        preferred_tone: c.opt_text("preferred_tone")?,
        detail_level: c.opt_text("detail_level")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
