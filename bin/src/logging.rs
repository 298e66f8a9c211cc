//! The log: `tracing` events from every layer, to stderr only, so stdout
//! stays clean for `--json` output (and, later, MCP's stdio).
//!
//! - `STEWARD_LOG` picks what is logged, in `RUST_LOG` syntax (`debug`,
//!   `steward=trace,sqlx=warn`, …). Unset: warnings and errors, and the
//!   worker's lifecycle (`info`) for `steward worker`.
//! - `STEWARD_LOG_FORMAT=json` writes one JSON object per line; anything
//!   else (or unset) is human-readable text.
//! - `steward serve` also keeps the most recent records in memory
//!   (`--log-keep`, default 10,000) for `GET /api/v1/logs`: exactly the
//!   events that pass the filter above, with their own fields (not their
//!   spans'), so nothing is kept that stderr would not show.
//!
//! What is logged is decided where it is logged: ids, kinds, counts and
//! error classes, never passwords, keys, tokens or a person's content.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::Command;

/// Installs the subscriber for this process; an unreadable `STEWARD_LOG` or
/// `STEWARD_LOG_FORMAT` is an input error, reported before anything runs.
pub(crate) fn init(command: &Command) -> Result<(), String> {
    let default = if matches!(command, Command::Worker(_) | Command::Serve(_)) { "warn,steward=info" } else { "warn" };
    let filter = match std::env::var("STEWARD_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::builder()
            .parse(directives.trim())
            .map_err(|e| format!("STEWARD_LOG '{directives}' is not a log filter: {e}"))?,
        _ => EnvFilter::new(default),
    };
    let json = match std::env::var("STEWARD_LOG_FORMAT").as_deref().map(str::trim) {
        Err(_) | Ok("" | "text") => false,
        Ok("json") => true,
        Ok(other) => return Err(format!("STEWARD_LOG_FORMAT '{other}' is not one of text, json")),
    };
    let keep = match command {
        Command::Serve(args) if args.log_keep > 0 => {
            let capacity = usize::try_from(args.log_keep).unwrap_or(usize::MAX);
            Some(KeepRecent(RECENT.get_or_init(|| RecentLog::new(capacity))))
        }
        _ => None,
    };
    let stderr = std::io::stderr;
    let json_layer = json.then(|| {
        tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(false).with_writer(stderr)
    });
    let text_layer = (!json)
        .then(|| tracing_subscriber::fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(stderr));
    tracing_subscriber::registry()
        .with(filter)
        .with(json_layer)
        .with(text_layer)
        .with(keep)
        .try_init()
        .map_err(|e| format!("cannot install the log: {e}"))
}

static RECENT: OnceLock<RecentLog> = OnceLock::new();

/// The records this process keeps, when it keeps any (`steward serve`).
pub(crate) fn recent() -> Option<&'static RecentLog> {
    RECENT.get()
}

/// One log record as `GET /api/v1/logs` shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct LogRecord {
    #[serde(serialize_with = "micros")]
    #[schemars(with = "DateTime<Utc>")]
    pub(crate) timestamp: DateTime<Utc>,
    #[serde(serialize_with = "level_name")]
    #[schemars(schema_with = "level_schema")]
    pub(crate) level: Level,
    pub(crate) target: String,
    pub(crate) message: String,
    pub(crate) fields: Map<String, Value>,
}

fn micros<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

fn level_name<S: serde::Serializer>(level: &Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&level.as_str().to_ascii_lowercase())
}

/// The names [`level_name`] writes.
fn level_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<String> = [Level::ERROR, Level::WARN, Level::INFO, Level::DEBUG, Level::TRACE]
        .iter()
        .map(|l| l.as_str().to_ascii_lowercase())
        .collect();
    schemars::json_schema!({"type": "string", "enum": names})
}

/// The most recent records, oldest dropped first once full.
#[derive(Debug)]
pub(crate) struct RecentLog {
    capacity: usize,
    records: Mutex<VecDeque<LogRecord>>,
}

/// Which records to read: at or above `level` (more severe), in
/// `[since, until)`, newest first.
#[derive(Debug, Clone)]
pub(crate) struct LogQuery {
    pub(crate) level: Level,
    pub(crate) since: Option<DateTime<Utc>>,
    pub(crate) until: Option<DateTime<Utc>>,
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

impl RecentLog {
    pub(crate) fn new(capacity: usize) -> RecentLog {
        RecentLog { capacity, records: Mutex::new(VecDeque::with_capacity(capacity.min(1024))) }
    }

    fn keep(&self, record: LogRecord) {
        let mut records = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if records.len() >= self.capacity {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// A page of the matching records, newest first, and how many match.
    pub(crate) fn query(&self, q: &LogQuery) -> (Vec<LogRecord>, u64) {
        let records = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // `Level` orders verbosity: ERROR is the smallest.
        let matching = records.iter().rev().filter(|r| {
            r.level <= q.level
                && q.since.is_none_or(|since| r.timestamp >= since)
                && q.until.is_none_or(|until| r.timestamp < until)
        });
        let mut total = 0u64;
        let mut page = Vec::new();
        for (i, record) in matching.enumerate() {
            total += 1;
            if i >= q.offset && page.len() < q.limit {
                page.push(record.clone());
            }
        }
        (page, total)
    }
}

/// The layer that copies each event that passed the filter into [`RecentLog`].
struct KeepRecent(&'static RecentLog);

impl<S: Subscriber> Layer<S> for KeepRecent {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.keep(LogRecord {
            timestamp: Utc::now(),
            level: *meta.level(),
            target: meta.target().to_string(),
            message: fields.message,
            fields: fields.rest,
        });
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
        } else {
            self.rest.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(level: Level, at: &str, message: &str) -> LogRecord {
        LogRecord {
            timestamp: at.parse().unwrap_or_default(),
            level,
            target: "steward".into(),
            message: message.into(),
            fields: Map::new(),
        }
    }

    fn query(level: Level) -> LogQuery {
        LogQuery { level, since: None, until: None, limit: 100, offset: 0 }
    }

    #[test]
    fn the_oldest_records_go_first_and_reads_are_newest_first() {
        let log = RecentLog::new(2);
        log.keep(record(Level::INFO, "2026-01-01T00:00:00Z", "one"));
        log.keep(record(Level::WARN, "2026-01-01T00:00:01Z", "two"));
        log.keep(record(Level::ERROR, "2026-01-02T00:00:00Z", "three"));
        let (all, total) = log.query(&query(Level::TRACE));
        assert_eq!(total, 2);
        assert_eq!(all.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(), ["three", "two"]);
    }

    #[test]
    fn a_level_reads_itself_and_what_is_more_severe() {
        let log = RecentLog::new(10);
        log.keep(record(Level::DEBUG, "2026-01-01T00:00:00Z", "debug"));
        log.keep(record(Level::INFO, "2026-01-01T00:00:01Z", "info"));
        log.keep(record(Level::WARN, "2026-01-01T00:00:02Z", "warn"));
        log.keep(record(Level::ERROR, "2026-01-01T00:00:03Z", "error"));
        assert_eq!(log.query(&query(Level::WARN)).1, 2);
        assert_eq!(log.query(&query(Level::INFO)).1, 3);
        let window = LogQuery {
            since: "2026-01-01T00:00:01Z".parse().ok(),
            until: "2026-01-01T00:00:03Z".parse().ok(),
            ..query(Level::TRACE)
        };
        let (page, total) = log.query(&window);
        assert_eq!(total, 2);
        assert_eq!(page[0].message, "warn");
        let (page, total) = log.query(&LogQuery { limit: 1, offset: 1, ..query(Level::TRACE) });
        assert_eq!((page[0].message.as_str(), total), ("warn", 4));
    }
}
