//! Per-user settings and profile. Both exist with defaults from the first
//! read; updates are partial and validated here.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::choice::Backend;
use crate::error::Result;
use crate::ids::UserId;
use crate::quickadd::{DateOrder, ParseOptions};
use crate::task::enum_text;
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SuggestionMode {
    #[default]
    Suggest,
    AutoCreate,
    Disabled,
}

impl SuggestionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionMode::Suggest => "suggest",
            SuggestionMode::AutoCreate => "auto_create",
            SuggestionMode::Disabled => "disabled",
        }
    }
}
enum_text!(
    SuggestionMode,
    "task_suggestion_mode",
    [SuggestionMode::Suggest, SuggestionMode::AutoCreate, SuggestionMode::Disabled]
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Settings {
    pub user_id: UserId,
    pub consciousness_check_enabled: bool,
    pub consciousness_check_interval_minutes: i32,
    pub auto_tagging_enabled: bool,
    pub auto_task_creation_enabled: bool,
    pub task_suggestion_mode: SuggestionMode,
    pub suggestion_confidence_threshold: f64,
    /// IANA name, e.g. `Europe/Paris`.
    pub timezone: String,
    pub primary_backend: Option<String>,
    pub secondary_backend: Option<String>,
    /// How quick-add reads numeric dates such as `3/4`.
    #[serde(default)]
    pub date_order: DateOrder,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct SettingsPatch {
    pub consciousness_check_enabled: Option<bool>,
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = 1440)))]
    pub consciousness_check_interval_minutes: Option<i32>,
    pub auto_tagging_enabled: Option<bool>,
    pub auto_task_creation_enabled: Option<bool>,
    pub task_suggestion_mode: Option<SuggestionMode>,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = 1)))]
    pub suggestion_confidence_threshold: Option<f64>,
    #[cfg_attr(feature = "openapi", schemars(schema_with = "timezone_schema"))]
    pub timezone: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(schema_with = "backend_schema"))]
    pub primary_backend: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(schema_with = "backend_schema"))]
    pub secondary_backend: Option<String>,
    pub date_order: Option<DateOrder>,
}

impl Settings {
    pub fn defaults(user_id: UserId, now: DateTime<Utc>) -> Settings {
        Settings {
            user_id,
            consciousness_check_enabled: true,
            consciousness_check_interval_minutes: 30,
            auto_tagging_enabled: true,
            auto_task_creation_enabled: true,
            task_suggestion_mode: SuggestionMode::Suggest,
            suggestion_confidence_threshold: 0.7,
            timezone: "UTC".into(),
            primary_backend: None,
            secondary_backend: None,
            date_order: DateOrder::MonthDay,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// The owner's timezone; an unknown name (impossible after validation)
    /// falls back to UTC.
    pub fn tz(&self) -> chrono_tz::Tz {
        chrono_tz::Tz::from_str(&self.timezone).unwrap_or(chrono_tz::UTC)
    }

    /// Whether captured thoughts are analysed on the queue: when analysis
    /// can change anything the owner sees (tags, suggestions, tasks).
    pub fn wants_analysis(&self) -> bool {
        self.auto_tagging_enabled || self.task_suggestion_mode != SuggestionMode::Disabled
    }

    /// How this owner's quick-add phrases read.
    pub fn parse_options(&self) -> ParseOptions {
        ParseOptions::default().with_date_order(self.date_order)
    }

    /// The backends this person prefers, first and second (names this
    /// build no longer knows read as no preference).
    pub fn backends(&self) -> (Option<Backend>, Option<Backend>) {
        let read = |b: &Option<String>| b.as_deref().and_then(Backend::parse);
        (read(&self.primary_backend), read(&self.secondary_backend))
    }

    pub(crate) fn apply(&mut self, patch: SettingsPatch) -> Result<()> {
        let mut c = Checks::new();
        let mut next = self.clone();
        if let Some(minutes) = patch.consciousness_check_interval_minutes {
            if !(1..=1440).contains(&minutes) {
                c.fail("consciousness_check_interval_minutes", "must be between 1 and 1440");
            }
            next.consciousness_check_interval_minutes = minutes;
        }
        if let Some(threshold) = patch.suggestion_confidence_threshold {
            if !(0.0..=1.0).contains(&threshold) {
                c.fail("suggestion_confidence_threshold", "must be between 0 and 1");
            }
            next.suggestion_confidence_threshold = threshold;
        }
        if let Some(tz) = patch.timezone {
            match chrono_tz::Tz::from_str(tz.trim()) {
                Ok(zone) => next.timezone = zone.name().to_string(),
                Err(_) => c.fail("timezone", format!("'{tz}' is not an IANA timezone such as Europe/Paris")),
            }
        }
        if let Some(b) = patch.primary_backend {
            next.primary_backend = backend(&mut c, "primary_backend", &b);
        }
        if let Some(b) = patch.secondary_backend {
            next.secondary_backend = backend(&mut c, "secondary_backend", &b);
        }
        next.consciousness_check_enabled =
            patch.consciousness_check_enabled.unwrap_or(next.consciousness_check_enabled);
        next.auto_tagging_enabled = patch.auto_tagging_enabled.unwrap_or(next.auto_tagging_enabled);
        next.auto_task_creation_enabled = patch.auto_task_creation_enabled.unwrap_or(next.auto_task_creation_enabled);
        next.task_suggestion_mode = patch.task_suggestion_mode.unwrap_or(next.task_suggestion_mode);
        next.date_order = patch.date_order.unwrap_or(next.date_order);
        c.finish()?;
        *self = next;
        Ok(())
    }

    pub(crate) fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.updated_at);
        self.version += 1;
    }
}

/// A backend name as settings read it (`""` clears the preference).
#[cfg(feature = "openapi")]
fn backend_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut names: Vec<&str> = vec![""];
    names.extend(Backend::ALIASES.iter().map(|(alias, _)| *alias));
    schemars::json_schema!({ "type": ["string", "null"], "enum": names, "description": Backend::NAMES })
}

/// An optional IANA timezone name: one of the names the server knows.
#[cfg(feature = "openapi")]
fn timezone_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    schemars::json_schema!({ "type": ["string", "null"], "enum": names, "description": "An IANA timezone such as Europe/Paris" })
}

/// One ongoing project in the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Project {
    pub name: String,
    /// Free text such as `active`, `paused`, `done`.
    pub status: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// What the assistant knows about its person, used to shape analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Profile {
    pub user_id: UserId,
    pub ongoing_projects: Vec<Project>,
    pub interests: Vec<String>,
    pub work_style: Option<String>,
    pub themes: Vec<String>,
    pub preferred_tone: Option<String>,
    pub detail_level: Option<String>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ProfilePatch {
    #[cfg_attr(
        feature = "openapi",
        schemars(length(max = 50), inner(length(min = 1, max = 100), pattern(crate::validate::patterns::TEXT)))
    )]
    pub interests: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schemars(length(max = 500), pattern(crate::validate::patterns::OPTIONAL_TEXT)))]
    pub work_style: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schemars(length(max = 50), inner(length(min = 1, max = 100), pattern(crate::validate::patterns::TEXT)))
    )]
    pub themes: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schemars(length(max = 100), pattern(crate::validate::patterns::OPTIONAL_TEXT)))]
    pub preferred_tone: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(max = 100), pattern(crate::validate::patterns::OPTIONAL_TEXT)))]
    pub detail_level: Option<String>,
}

impl Profile {
    pub fn empty(user_id: UserId, now: DateTime<Utc>) -> Profile {
        Profile {
            user_id,
            ongoing_projects: Vec::new(),
            interests: Vec::new(),
            work_style: None,
            themes: Vec::new(),
            preferred_tone: None,
            detail_level: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub(crate) fn apply(&mut self, patch: ProfilePatch) -> Result<()> {
        let mut c = Checks::new();
        let mut next = self.clone();
        let list = |c: &mut Checks, field: &str, items: Vec<String>| -> Vec<String> {
            if items.len() > 50 {
                c.fail(field, "at most 50 entries");
            }
            items.iter().map(|i| c.text(field, i, 1, 100)).collect()
        };
        if let Some(v) = patch.interests {
            next.interests = list(&mut c, "interests", v);
        }
        if let Some(v) = patch.themes {
            next.themes = list(&mut c, "themes", v);
        }
        if let Some(v) = patch.work_style {
            next.work_style = c.optional_text("work_style", Some(&v), 500);
        }
        if let Some(v) = patch.preferred_tone {
            next.preferred_tone = c.optional_text("preferred_tone", Some(&v), 100);
        }
        if let Some(v) = patch.detail_level {
            next.detail_level = c.optional_text("detail_level", Some(&v), 100);
        }
        c.finish()?;
        *self = next;
        Ok(())
    }

    /// Adds a project, or replaces the one with the same name (case-insensitive).
    pub(crate) fn put_project(&mut self, project: Project) -> Result<()> {
        let mut c = Checks::new();
        let name = c.text("name", &project.name, 1, 100);
        let status = c.text("status", &project.status, 1, 50);
        let description = c.optional_text("description", project.description.as_deref(), 1000);
        c.finish()?;
        let project = Project { name, status, description };
        match self.ongoing_projects.iter_mut().find(|p| p.name.eq_ignore_ascii_case(&project.name)) {
            Some(existing) => *existing = project,
            None => self.ongoing_projects.push(project),
        }
        Ok(())
    }

    pub(crate) fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.updated_at);
        self.version += 1;
    }
}

/// A backend setting: empty clears it; otherwise one of [`Backend`]'s
/// names, stored in its canonical spelling.
fn backend(c: &mut Checks, field: &'static str, raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match Backend::parse(raw) {
        Some(b) => Some(b.as_str().to_string()),
        None => {
            c.fail(
                field,
                format!(
                    "'{}' is not a model backend: use {}",
                    raw.chars().take(100).collect::<String>(),
                    Backend::NAMES
                ),
            );
            None
        }
    }
}
