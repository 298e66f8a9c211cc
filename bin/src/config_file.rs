//! The optional configuration file: `STEWARD_CONFIG` names a TOML file
//! whose keys are the options' environment variables without `STEWARD_`,
//! in lower case (`database_url`, `listen`, `rate_limit`, `cors_origins`,
//! `no_worker`, …), at the top or in any table (`[serve]` reads the same as
//! the top). Precedence: a flag, then the environment, then the file, then
//! the built-in default: the file's values become the options' defaults.
//!
//! An unknown key, a file that cannot be read or is not TOML, or a value of
//! the wrong shape is an error before anything runs; a value of the right
//! shape but out of range is refused by the option's own parser.

use std::collections::BTreeMap;

use clap::{Arg, Command};

/// The variable naming the file.
pub(crate) const VAR: &str = "STEWARD_CONFIG";

/// `command` with the file's values as defaults, if `STEWARD_CONFIG` is set.
pub(crate) fn apply(command: Command) -> Result<Command, String> {
    let Some(path) = std::env::var_os(VAR).filter(|p| !p.is_empty()) else { return Ok(command) };
    let shown = std::path::Path::new(&path).display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{VAR}: cannot read {shown}: {e}"))?;
    let values = values(&text).map_err(|e| format!("{VAR}: {shown}: {e}"))?;
    with_defaults(command, &values).map_err(|e| format!("{VAR}: {shown}: {e}"))
}

/// Each key of the file (tables flattened) with its value as the option
/// would read it from the environment.
fn values(text: &str) -> Result<BTreeMap<String, String>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| format!("not TOML: {}", e.message()))?;
    let mut out = BTreeMap::new();
    flatten(&table, &mut out)?;
    Ok(out)
}

fn flatten(table: &toml::Table, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    for (key, value) in table {
        let text = match value {
            toml::Value::Table(inner) => {
                flatten(inner, out)?;
                continue;
            }
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(format!("'{key}' must be a list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            toml::Value::Datetime(_) => return Err(format!("'{key}' cannot be a date")),
        };
        if out.insert(key.to_ascii_lowercase(), text).is_some() {
            return Err(format!("'{key}' is given twice"));
        }
    }
    Ok(())
}

/// Sets each value as the default of the option read from `STEWARD_<KEY>`,
/// wherever it is in the command tree.
fn with_defaults(mut command: Command, values: &BTreeMap<String, String>) -> Result<Command, String> {
    let known = env_names(&command);
    for (key, value) in values {
        let var = format!("STEWARD_{}", key.to_ascii_uppercase());
        if !known.contains(&var) {
            let mut keys: Vec<String> =
                known.iter().filter_map(|v| v.strip_prefix("STEWARD_")).map(str::to_ascii_lowercase).collect();
            keys.sort();
            keys.dedup();
            return Err(format!("unknown key '{key}' (known: {})", keys.join(", ")));
        }
        // Defaults live as long as the command line: once per key, per process.
        let value: &'static str = Box::leak(value.clone().into_boxed_str());
        command = set_default(command, &var, value);
    }
    Ok(command)
}

fn env_names(command: &Command) -> Vec<String> {
    let mut names: Vec<String> =
        command.get_arguments().filter_map(Arg::get_env).map(|v| v.to_string_lossy().into_owned()).collect();
    for sub in command.get_subcommands() {
        names.extend(env_names(sub));
    }
    names
}

fn set_default(command: Command, var: &str, value: &'static str) -> Command {
    let ids: Vec<String> = command
        .get_arguments()
        .filter(|a| a.get_env().is_some_and(|e| e == var))
        .map(|a| a.get_id().to_string())
        .collect();
    let mut command =
        ids.into_iter().fold(command, |c, id| c.mut_arg(id, |arg| arg.default_value(value).hide_default_value(true)));
    let subs: Vec<String> = command.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        command = command.mut_subcommand(name, |sub| set_default(sub, var, value));
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_flatten_lists_join_and_repeats_are_refused() {
        let v = values("database_url = \"sqlite:///x.db\"\n[serve]\nrate_limit = 5\ncors_origins = [\"a\", \"b\"]\nno_worker = true\n")
            .unwrap();
        assert_eq!(v["database_url"], "sqlite:///x.db");
        assert_eq!(v["rate_limit"], "5");
        assert_eq!(v["cors_origins"], "a,b");
        assert_eq!(v["no_worker"], "true");
        assert!(values("listen = 1\n[serve]\nlisten = 2\n").unwrap_err().contains("twice"));
        assert!(values("cors_origins = [1]").unwrap_err().contains("list of strings"));
        assert!(values("= nope").unwrap_err().contains("not TOML"));
    }
}
