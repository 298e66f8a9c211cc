//! Settings of a deployment kept in its database: what an admin changed
//! while servers ran (`PUT /api/v1/config`), shared by every process on the
//! database and kept across restarts.
//!
//! A setting is a name and a JSON value. Which names exist and what values
//! they take is the business of the process that reads them (a server knows
//! its rate limit); the store keeps them as given, so a newer server can
//! keep a setting an older one does not know, and the older one ignores it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ids::UserId;

/// One kept setting, with who changed it last and when.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSetting {
    pub name: String,
    pub value: Value,
    pub changed_at: DateTime<Utc>,
    /// `None` only for a row written some other way than through Steward.
    pub changed_by: Option<UserId>,
}

/// Changes to the kept settings, applied together: `Some(value)` keeps the
/// value under the name, `None` forgets the name (what is kept goes back to
/// being whatever each process was started with).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSettingsChange {
    changes: Vec<(String, Option<Value>)>,
}

/// The longest setting name kept.
pub const MAX_NAME_LEN: usize = 64;
/// The largest value kept, as JSON text.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

impl ServerSettingsChange {
    /// The change, once every name is a lower-case identifier and every
    /// value a bounded JSON value other than `null` (which would read the
    /// same as "not kept"). A name given twice keeps the last value.
    pub fn new(changes: impl IntoIterator<Item = (String, Option<Value>)>) -> Result<ServerSettingsChange> {
        let mut kept: Vec<(String, Option<Value>)> = Vec::new();
        for (name, value) in changes {
            let well_formed = !name.is_empty()
                && name.len() <= MAX_NAME_LEN
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !well_formed {
                return Err(Error::invalid(
                    "name",
                    format!("a setting's name is 1 to {MAX_NAME_LEN} of a-z, 0-9 and _"),
                ));
            }
            if let Some(value) = &value {
                if value.is_null() {
                    return Err(Error::invalid(&name, "a kept value cannot be null; forget the setting instead"));
                }
                if value.to_string().len() > MAX_VALUE_BYTES {
                    return Err(Error::invalid(
                        &name,
                        format!("a kept value is at most {MAX_VALUE_BYTES} bytes of JSON"),
                    ));
                }
            }
            kept.retain(|(n, _)| *n != name);
            kept.push((name, value));
        }
        Ok(ServerSettingsChange { changes: kept })
    }

    /// Each name with the value to keep, or `None` to forget it.
    pub fn changes(&self) -> &[(String, Option<Value>)] {
        &self.changes
    }

    pub fn into_changes(self) -> Vec<(String, Option<Value>)> {
        self.changes
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_are_identifiers_and_values_are_not_null() {
        assert!(ServerSettingsChange::new([("rate_limit_per_minute".into(), Some(json!(5)))]).is_ok());
        assert!(ServerSettingsChange::new([("registration_enabled".into(), None)]).is_ok());
        for bad in ["", "Rate", "a-b", "a b", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert!(ServerSettingsChange::new([(bad.to_string(), Some(json!(1)))]).is_err(), "{bad:?}");
        }
        assert!(ServerSettingsChange::new([("a".into(), Some(Value::Null))]).is_err());
        let big = json!("x".repeat(MAX_VALUE_BYTES));
        assert!(ServerSettingsChange::new([("a".into(), Some(big))]).is_err());
    }

    #[test]
    fn a_name_given_twice_keeps_its_last_value() {
        let change =
            ServerSettingsChange::new([("a".into(), Some(json!(1))), ("b".into(), None), ("a".into(), Some(json!(2)))])
                .unwrap();
        assert_eq!(change.changes(), vec![("b".to_string(), None), ("a".to_string(), Some(json!(2)))]);
    }
}
