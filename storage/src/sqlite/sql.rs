//! Running list queries on SQLite: binding a filter's values (see
//! `crate::filter`), and the two ways a list is read (a page with its
//! total, or the first `n` rows). Only fixed SQL fragments written in this
//! crate are ever concatenated; every value is a bind parameter.

use crate::error::{Result, StoreError};
pub(crate) use crate::filter::{Arg, Filter};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, SqlitePool};
use steward_core::query::{Page, PageRequest};

/// A sqlx query on the read pool.
pub(crate) type Query = sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

pub(crate) fn bind(mut q: Query, args: &[Arg]) -> Query {
    for arg in args {
        q = match arg {
            Arg::Id(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
            Arg::Texts(v) => q.bind(sqlx::types::Json(v.clone())),
            Arg::Int(v) => q.bind(*v),
            Arg::SmallInt(v) => q.bind(i64::from(*v)),
            Arg::Real(v) => q.bind(*v),
            Arg::Date(v) => q.bind(super::codec::date(*v)),
            Arg::Instant(v) => q.bind(super::codec::micros(*v)),
        };
    }
    q
}

/// `n` `?`s separated by commas, for `IN (…)`.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn offset(page: PageRequest) -> i64 {
    i64::try_from(page.offset).unwrap_or(i64::MAX)
}

/// A page read: `rows` starts with `SELECT * ` and ends with
/// `LIMIT ? OFFSET ?` (bound after `args`); `count` yields the number of
/// rows matching.
#[derive(Debug)]
pub(crate) struct PageQuery {
    pub(crate) rows: String,
    pub(crate) args: Vec<Arg>,
    pub(crate) count: String,
    pub(crate) count_args: Vec<Arg>,
}

impl PageQuery {
    /// `SELECT * FROM table WHERE filter ORDER BY order`, counted row by row.
    pub(crate) fn filtered(table: &str, filter: &Filter, order: &str) -> PageQuery {
        PageQuery {
            rows: format!("SELECT * FROM {table} WHERE {} ORDER BY {order} LIMIT ? OFFSET ?", filter.sql()),
            args: filter.args().to_vec(),
            count: format!("SELECT count(*) FROM {table} WHERE {}", filter.sql()),
            count_args: filter.args().to_vec(),
        }
    }

    /// The one statement [`page`] runs, bound, behind `prefix` (such as
    /// `EXPLAIN QUERY PLAN `).
    pub(crate) fn with_total(&self, prefix: &'static str, page: PageRequest) -> Result<Query> {
        let sql = self.total_sql(prefix)?;
        Ok(bind(bind(sqlx::query(AssertSqlSafe(sql)), &self.count_args), &self.args)
            .bind(i64::from(page.limit))
            .bind(offset(page)))
    }
}

impl PageQuery {
    /// The text of the one statement a page runs: the rows, each with the
    /// total as `page_total`; its parameters are `count_args`, `args`, the
    /// limit and the offset.
    pub(crate) fn total_sql(&self, prefix: &'static str) -> Result<String> {
        let Some(rest) = self.rows.strip_prefix("SELECT * ") else {
            return Err(StoreError::Bug("a page query must select whole rows".into()));
        };
        Ok(format!("{prefix}SELECT *, ({}) AS page_total {rest}", self.count))
    }
}

/// One page and its total, read from one snapshot: one statement, whose
/// rows carry the total as an extra column (`page_total`, computed once), so
/// a page is one round trip to the connection's thread instead of four
/// (begin, rows, count, commit). Only a page past the end, which has no row
/// to carry it, counts separately.
pub(crate) async fn page<T>(
    pool: &SqlitePool,
    query: PageQuery,
    page: PageRequest,
    map: fn(&SqliteRow) -> Result<T>,
) -> Result<Page<T>> {
    let rows = query.with_total("", page)?.fetch_all(pool).await?;
    let items = rows.iter().map(map).collect::<Result<Vec<T>>>()?;
    let total: i64 = match rows.first() {
        Some(row) => sqlx::Row::try_get(row, "page_total")?,
        None if page.offset == 0 => 0,
        None => bind(sqlx::query(AssertSqlSafe(query.count)), &query.count_args)
            .fetch_one(pool)
            .await
            .and_then(|row| sqlx::Row::try_get(&row, 0))?,
    };
    Ok(Page { items, total: u64::try_from(total).unwrap_or_default(), offset: page.offset, limit: page.limit })
}

/// The first `limit` rows of `SELECT * FROM table WHERE filter ORDER BY order`.
pub(crate) async fn list<T>(
    pool: &SqlitePool,
    table: &str,
    filter: &Filter,
    order: &str,
    limit: u32,
    map: fn(&SqliteRow) -> Result<T>,
) -> Result<Vec<T>> {
    let sql = format!("SELECT * FROM {table} WHERE {} ORDER BY {order} LIMIT ?", filter.sql());
    let rows = bind(sqlx::query(AssertSqlSafe(sql)), filter.args()).bind(i64::from(limit)).fetch_all(pool).await?;
    rows.iter().map(map).collect()
}

/// At most one row of a fixed query.
pub(crate) async fn one<T>(
    pool: &SqlitePool,
    sql: &'static str,
    args: &[Arg],
    map: fn(&SqliteRow) -> Result<T>,
) -> Result<Option<T>> {
    let row = bind(sqlx::query(sql), args).fetch_optional(pool).await?;
    row.as_ref().map(map).transpose()
}

/// Every row of a fixed query.
pub(crate) async fn all<T>(
    pool: &SqlitePool,
    sql: &'static str,
    args: &[Arg],
    map: fn(&SqliteRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = bind(sqlx::query(sql), args).fetch_all(pool).await?;
    rows.iter().map(map).collect()
}
