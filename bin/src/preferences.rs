//! `steward settings …` and `steward profile …`: show them, or set one key.
//! The keys are the fields of core's `SettingsPatch` and `ProfilePatch`;
//! their rules (ranges, timezones) are core's.

use serde_json::Value;
use steward::core::SuggestionMode;
use steward::{Error, Principal, ProfilePatch, Project, SettingsPatch, Steward};

use crate::cli::{ProfileCommand, SettingsCommand};
use crate::errors::Failure;
use crate::output::{self, Output};

const SETTINGS_KEYS: [&str; 10] = [
    "timezone",
    "date_order",
    "consciousness_check_enabled",
    "consciousness_check_interval_minutes",
    "auto_tagging_enabled",
    "auto_task_creation_enabled",
    "task_suggestion_mode",
    "suggestion_confidence_threshold",
    "primary_backend",
    "secondary_backend",
];

const PROFILE_KEYS: [&str; 5] = ["interests", "themes", "work_style", "preferred_tone", "detail_level"];

pub(crate) async fn run_settings(
    command: SettingsCommand,
    steward: &Steward,
    p: &Principal,
    out: Output,
) -> Result<(), Failure> {
    let settings = match command {
        SettingsCommand::Show => steward.settings(p).await?,
        SettingsCommand::Set { key, value } => {
            let patch = settings_patch(&key, &value)?;
            steward.update_settings(p, patch, None).await?
        }
        SettingsCommand::Reset => steward.reset_settings(p).await?,
    };
    out.emit(&settings, || fields(&settings))
}

pub(crate) async fn run_profile(
    command: ProfileCommand,
    steward: &Steward,
    p: &Principal,
    out: Output,
) -> Result<(), Failure> {
    let profile = match command {
        ProfileCommand::Show => steward.profile(p).await?,
        ProfileCommand::Set { key, value } => steward.update_profile(p, profile_patch(&key, &value)?).await?,
        ProfileCommand::AddProject { name, status, description } => {
            steward.put_project(p, Project { name, status, description }).await?
        }
        ProfileCommand::RemoveProject { name } => steward.remove_project(p, &name).await?,
    };
    out.emit(&profile, || fields(&profile))
}

fn settings_patch(key: &str, value: &str) -> Result<SettingsPatch, Error> {
    let mut patch = SettingsPatch::default();
    let v = value.trim();
    match key.trim() {
        "timezone" => patch.timezone = Some(v.into()),
        "date_order" => patch.date_order = Some(v.parse()?),
        "consciousness_check_enabled" => patch.consciousness_check_enabled = Some(boolean(key, v)?),
        "consciousness_check_interval_minutes" => patch.consciousness_check_interval_minutes = Some(number(key, v)?),
        "auto_tagging_enabled" => patch.auto_tagging_enabled = Some(boolean(key, v)?),
        "auto_task_creation_enabled" => patch.auto_task_creation_enabled = Some(boolean(key, v)?),
        "task_suggestion_mode" => patch.task_suggestion_mode = Some(v.parse::<SuggestionMode>()?),
        "suggestion_confidence_threshold" => patch.suggestion_confidence_threshold = Some(number(key, v)?),
        "primary_backend" => patch.primary_backend = Some(v.into()),
        "secondary_backend" => patch.secondary_backend = Some(v.into()),
        other => return Err(unknown_key("setting", other, &SETTINGS_KEYS)),
    }
    Ok(patch)
}

fn profile_patch(key: &str, value: &str) -> Result<ProfilePatch, Error> {
    let mut patch = ProfilePatch::default();
    let list = || value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    match key.trim() {
        "interests" => patch.interests = Some(list()),
        "themes" => patch.themes = Some(list()),
        "work_style" => patch.work_style = Some(value.into()),
        "preferred_tone" => patch.preferred_tone = Some(value.into()),
        "detail_level" => patch.detail_level = Some(value.into()),
        other => return Err(unknown_key("profile field", other, &PROFILE_KEYS)),
    }
    Ok(patch)
}

fn unknown_key(what: &str, key: &str, valid: &[&str]) -> Error {
    Error::invalid("key", format!("'{}' is not a {what}; use one of {}", output::escape(key), valid.join(", ")))
}

fn boolean(key: &str, value: &str) -> Result<bool, Error> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(Error::invalid(key, format!("'{}' is not one of true, false (or on/off)", output::escape(value)))),
    }
}

fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, Error> {
    value.parse().map_err(|_| Error::invalid(key, format!("'{}' is not a number", output::escape(value))))
}

/// `name (status)` per project, comma-separated.
fn projects(items: &[Value]) -> String {
    let name = |p: &Value, key: &str| p.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    items.iter().map(|p| format!("{} ({})", name(p, "name"), name(p, "status"))).collect::<Vec<_>>().join(", ")
}

/// `key  value` per field, in name order; lists comma-separated.
fn fields<T: serde::Serialize>(record: &T) -> String {
    let Ok(Value::Object(map)) = serde_json::to_value(record) else { return String::new() };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    map.iter()
        .map(|(key, value)| {
            let text = match value {
                Value::Null => "-".to_string(),
                Value::String(s) => s.clone(),
                Value::Array(items) if key == "ongoing_projects" => projects(items),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!("{key:<width$}  {}", output::escape(&text))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_names_every_valid_one() {
        let Err(Error::Invalid(problems)) = settings_patch("tz", "UTC") else { panic!("accepted") };
        for key in SETTINGS_KEYS {
            assert!(problems[0].msg.contains(key), "{}", problems[0].msg);
        }
    }

    #[test]
    fn booleans_and_numbers_are_read_from_words() {
        assert_eq!(
            settings_patch("consciousness_check_enabled", "off").ok().and_then(|p| p.consciousness_check_enabled),
            Some(false)
        );
        assert!(settings_patch("consciousness_check_interval_minutes", "soon").is_err());
    }
}
