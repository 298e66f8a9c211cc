//! Short reads on the caller's own thread: a task by id, what every
//! request reads before its work (the user and API key that authenticate
//! it, the owner's settings), and task pages that walk one index a short
//! way (see `read::is_short_task_page`).
//!
//! sqlx runs every SQLite connection on a thread of its own, so each query
//! is two thread wake-ups (there and back) around a few microseconds of
//! SQLite. On a busy machine a wake-up can wait milliseconds for a CPU,
//! which is what kept get-by-id's p99 above its target. A point read is
//! short and bounded (an index probe and one row), so here it runs directly
//! on the calling thread through rusqlite, on read-only connections kept in
//! a small stack; so does a page that reads at most a few hundred index
//! entries and rows, with its total from the counters. Other lists, counts
//! and searches stay on the sqlx read pool.

use std::sync::Mutex;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use steward_core::UserId;
use steward_core::query::{Page, PageRequest};
use steward_core::settings::Settings;
use steward_core::task::Task;
use steward_core::user::{ApiKey, User};

use crate::error::{Result, StoreError};
use uuid::Uuid;

use super::codec::{self, ColumnIndex, IndexedRow};
use super::connect::{SqliteOptions, Target};
use super::sql::{Arg, PageQuery};

const TASK: &str = "SELECT * FROM tasks WHERE id = ? AND user_id = ?";
const USER: &str = "SELECT * FROM users WHERE id = ?";
/// The earliest key with this hash (`api_keys_by_hash`) whose user exists.
const API_KEY_BY_HASH: &str = "SELECT * FROM api_keys WHERE key_hash = ? \
     AND EXISTS (SELECT 1 FROM users WHERE users.id = api_keys.user_id) ORDER BY seq LIMIT 1";
const SETTINGS: &str = "SELECT * FROM settings WHERE user_id = ?";

/// Read-only connections to one database file, opened on demand; at most
/// `keep` idle ones are kept (as many as threads may read at once: the
/// read connections setting or the CPU count, whichever is larger).
pub(crate) struct DirectReads {
    target: Target,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
    options: SqliteOptions,
    /// The connection `data_version` asks: SQLite's number is per
    /// connection, so it is always asked of the same one.
    stamp: Mutex<Option<Connection>>,
}

impl DirectReads {
    pub(crate) fn new(target: &Target, options: &SqliteOptions) -> DirectReads {
        DirectReads {
            target: target.clone(),
            idle: Mutex::new(Vec::new()),
            keep: (options.read_connections as usize).max(std::thread::available_parallelism().map_or(1, |n| n.get())),
            options: options.clone(),
            stamp: Mutex::new(None),
        }
    }

    /// `PRAGMA data_version` of one kept connection: it changes whenever
    /// another connection commits to the file (this process's writer, or
    /// any connection of another process), and starting its read sees
    /// every commit made before. A failed read drops the connection.
    pub(crate) fn data_version(&self) -> Result<u64> {
        let mut kept = self.stamp.lock().map_err(|_| StoreError::Bug("the data version lock was poisoned".into()))?;
        let conn = match kept.take() {
            Some(conn) => conn,
            None => self.open()?,
        };
        let version: i64 = conn.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get(0))?;
        *kept = Some(conn);
        Ok(u64::try_from(version).unwrap_or_default())
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = self.target.open(flags)?;
        Target::configure(&conn, &self.options)?;
        // No memory map: a read transaction that finds the WAL changed
        // since the connection's last one (after any commit, so every time
        // under writes) unmaps the whole file, and its next page maps it
        // again and faults pages in, each unmap interrupting the other
        // CPUs to flush their TLBs. These reads touch a few pages each, which
        // `pread` fetches for less (POST /thoughts under wrk: 0.3 unmaps per
        // request before; GET pages unchanged, see benches/README).
        conn.pragma_update(None, "mmap_size", 0)?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one) and puts it back.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn).map_err(StoreError::from);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.keep
        {
            idle.push(conn);
        }
        result
    }

    /// At most one row of `sql` with `params`, decoded.
    fn one<T>(
        &self,
        sql: &'static str,
        params: impl rusqlite::Params,
        decode: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        // What sqlx logs of a pool query: the statement, never its values.
        tracing::debug!(statement = sql, "SQLite read on the calling thread");
        let found = self.with(|conn| conn.prepare_cached(sql)?.query_row(params, |row| Ok(decode(row))).optional())?;
        found.transpose()
    }

    pub(crate) fn task(&self, owner: UserId, id: Uuid) -> Result<Option<Task>> {
        self.one(TASK, (id.as_bytes(), owner.0.as_bytes()), |row| crate::schema::tasks::decode(row))
    }

    pub(crate) fn user(&self, id: Uuid) -> Result<Option<User>> {
        self.one(USER, [id.as_bytes()], |row| crate::schema::users::decode(row))
    }

    pub(crate) fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.one(API_KEY_BY_HASH, [key_hash], |row| crate::schema::api_keys::decode(row))
    }

    pub(crate) fn settings(&self, owner: UserId) -> Result<Option<Settings>> {
        self.one(SETTINGS, [owner.0.as_bytes()], |row| crate::schema::settings::decode(row))
    }

    /// One page and its total from one statement (one snapshot), as
    /// `sql::page` reads it on the pool.
    pub(crate) fn page<T>(
        &self,
        query: &PageQuery,
        page: PageRequest,
        decode: impl Fn(&IndexedRow<'_, '_>) -> Result<T>,
    ) -> Result<Page<T>> {
        let sql = query.total_sql("")?;
        tracing::debug!(statement = %sql, "SQLite read on the calling thread");
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        let values = query
            .count_args
            .iter()
            .chain(&query.args)
            .map(value)
            .chain([Value::Integer(i64::from(page.limit)), Value::Integer(offset)]);
        let (items, total) = self.with(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let columns = ColumnIndex::of(&statement);
            let mut rows = statement.query(rusqlite::params_from_iter(values))?;
            let mut items = Vec::new();
            let mut total = None;
            while let Some(row) = rows.next()? {
                if total.is_none() {
                    total = Some(row.get::<_, i64>("page_total")?);
                }
                items.push(decode(&IndexedRow { row, columns: &columns }));
            }
            let total = match total {
                Some(total) => total,
                None if page.offset == 0 => 0,
                // Past the end: no row carries the total.
                None => conn
                    .prepare_cached(&query.count)?
                    .query_row(rusqlite::params_from_iter(query.count_args.iter().map(value)), |row| row.get(0))?,
            };
            Ok((items, total))
        })?;
        let items = items.into_iter().collect::<Result<Vec<T>>>()?;
        Ok(Page { items, total: u64::try_from(total).unwrap_or_default(), offset: page.offset, limit: page.limit })
    }
}

/// A bind value as `sql::bind` binds it on the pool.
fn value(arg: &Arg) -> Value {
    match arg {
        Arg::Id(v) => Value::Blob(v.as_bytes().to_vec()),
        Arg::Text(v) => Value::Text(v.clone()),
        Arg::Texts(v) => Value::Text(serde_json::to_string(v).unwrap_or_default()),
        Arg::Int(v) => Value::Integer(*v),
        Arg::SmallInt(v) => Value::Integer(i64::from(*v)),
        Arg::Real(v) => Value::Real(*v),
        Arg::Date(v) => Value::Text(codec::date(*v)),
        Arg::Instant(v) => Value::Integer(codec::micros(*v)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;
    use crate::sqlite::connect::{Opened, open};
    use crate::sqlite::read::task_page;
    use crate::sqlite::read::tests::{assert_walks_an_index, short_pages};

    /// A new database file (kept open by the returned parts) and its direct reads.
    async fn reads() -> (tempfile::TempDir, Opened, DirectReads) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("direct.db").display());
        let options = SqliteOptions::default();
        let opened = open(&url, &options).await.unwrap();
        let reads = DirectReads::new(&opened.target, &options);
        (dir, opened, reads)
    }

    const OWNER: UserId = UserId(Uuid::from_u128(7));

    /// A cached page statement runs as it was planned, whatever the page
    /// size and offset bound to it: it is never parsed and planned again
    /// (SQLite re-plans a statement whose plan read a bound value, as it
    /// did with `LIMIT ?`, on every new binding).
    #[tokio::test]
    async fn a_cached_page_statement_is_not_planned_again_for_each_page() {
        let (_dir, _opened, reads) = reads().await;
        for q in short_pages() {
            let query = task_page(OWNER, &q).unwrap();
            for (limit, offset) in [(20, 0), (5, 0), (20, 40), (100, 900), (1, 3)] {
                let page = PageRequest { limit, offset };
                reads.page(&query, page, |row| crate::schema::tasks::decode(row)).unwrap();
            }
            let sql = query.total_sql("").unwrap();
            let replans =
                reads.with(|conn| Ok(conn.prepare_cached(&sql)?.get_status(StatementStatus::RePrepare))).unwrap();
            assert_eq!(replans, 0, "{:?} {:?} was planned again", q.sort_by, q.order);
        }
    }

    /// The plans those connections choose (without looking at bound
    /// values) still walk an index for every short page: none sorts.
    #[tokio::test]
    async fn short_pages_walk_an_index_on_these_connections() {
        let (_dir, _opened, reads) = reads().await;
        for q in short_pages() {
            let query = task_page(OWNER, &q).unwrap();
            let plan: Vec<String> = reads
                .with(|conn| {
                    let mut statement = conn.prepare(&query.total_sql("EXPLAIN QUERY PLAN ").unwrap())?;
                    let values = query
                        .count_args
                        .iter()
                        .chain(&query.args)
                        .map(value)
                        .chain([Value::Integer(20), Value::Integer(0)]);
                    let rows =
                        statement.query_map(rusqlite::params_from_iter(values), |row| row.get::<_, String>(3))?;
                    rows.collect()
                })
                .unwrap();
            assert_walks_an_index(&q, &plan);
        }
    }
}
