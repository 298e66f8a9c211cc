//! A user's settings. Its table, how a row is bound (the columns in
//! order, then the keys) and how one is read back: adding a field is a
//! column here, a line in each function, and a migration per store.

use steward_core::settings::Settings;

use crate::decode::{ColumnReader, Row};
use crate::encode::ColumnWriter;
use crate::error::Result;

use super::Table;

pub(crate) const TABLE: Table = Table {
    name: "settings",
    keys: &["user_id"],
    columns: &[
        "consciousness_check_enabled",
        "consciousness_check_interval_minutes",
        "auto_tagging_enabled",
        "auto_task_creation_enabled",
        "task_suggestion_mode",
        "suggestion_confidence_threshold",
        "timezone",
        "primary_backend",
        "secondary_backend",
        "date_order",
        "created_at",
        "updated_at",
        "version",
    ],
    versioned: true,
    unread: &[],
};

pub(super) fn bind<'a, W: ColumnWriter<'a>>(w: &mut W, s: &'a Settings) -> Result<()> {
    w.bool("consciousness_check_enabled", s.consciousness_check_enabled);
    w.i32("consciousness_check_interval_minutes", s.consciousness_check_interval_minutes);
    w.bool("auto_tagging_enabled", s.auto_tagging_enabled);
    w.bool("auto_task_creation_enabled", s.auto_task_creation_enabled);
    w.text("task_suggestion_mode", s.task_suggestion_mode.as_str());
    w.f64("suggestion_confidence_threshold", s.suggestion_confidence_threshold);
    w.text("timezone", &s.timezone);
    w.opt_text("primary_backend", s.primary_backend.as_deref());
    w.opt_text("secondary_backend", s.secondary_backend.as_deref());
    w.text("date_order", s.date_order.as_str());
    w.instant("created_at", s.created_at);
    w.instant("updated_at", s.updated_at);
    w.i64("version", s.version);
    w.id("user_id", &s.user_id.0);
    Ok(())
}

pub(crate) fn decode<R: ColumnReader + ?Sized>(row: &R) -> Result<Settings> {
    let c = Row(row);
    Ok(Settings {
        user_id: c.id("user_id")?,
        consciousness_check_enabled: c.bool("consciousness_check_enabled")?,
        consciousness_check_interval_minutes: c.i32("consciousness_check_interval_minutes")?,
        auto_tagging_enabled: c.bool("auto_tagging_enabled")?,
        auto_task_creation_enabled: c.bool("auto_task_creation_enabled")?,
        task_suggestion_mode: c.parse("task_suggestion_mode")?,
        suggestion_confidence_threshold: c.f64("suggestion_confidence_threshold")?,
        timezone: c.text("timezone")?,
        primary_backend: c.opt_text("primary_backend")?,
        secondary_backend: c.opt_text("secondary_backend")?,
        date_order: c.parse("date_order")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}
