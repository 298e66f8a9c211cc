//! Running list queries on PostgreSQL: binding a filter's values (see
//! `crate::filter`), and the ways a list is read (a page with its total,
//! the first `n` rows, one row). Only fixed SQL fragments written in this
//! crate are ever concatenated; every value is a bind parameter.

use crate::error::{Result, StoreError};
pub(crate) use crate::filter::{Arg, Filter};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row};
use steward_core::query::{Page, PageRequest};

use super::statements::Query;

pub(crate) fn bind(mut q: Query, args: &[Arg]) -> Query {
    for arg in args {
        q = match arg {
            Arg::Id(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
            Arg::Texts(v) => q.bind(v.clone()),
            Arg::Int(v) => q.bind(*v),
            Arg::SmallInt(v) => q.bind(*v),
            Arg::Real(v) => q.bind(*v),
            Arg::Date(v) => q.bind(*v),
            Arg::Instant(v) => q.bind(*v),
        };
    }
    q
}

pub(crate) fn offset(page: PageRequest) -> i64 {
    i64::try_from(page.offset).unwrap_or(i64::MAX)
}

/// How a page's total is found.
#[derive(Debug)]
pub(crate) enum Total {
    /// By counting the matching rows, in the page's snapshot, and only when
    /// the page itself does not show it.
    Rows,
    /// By a cheap scalar query (counters) whose `$n`s are the filter's, read
    /// in the same statement as the page.
    Counted(String),
}

/// A page read: `SELECT columns FROM table WHERE filter ORDER BY order`,
/// and how its total is found.
#[derive(Debug)]
pub(crate) struct PageQuery<'a> {
    pub(crate) columns: &'a str,
    pub(crate) table: &'a str,
    pub(crate) filter: &'a Filter,
    pub(crate) order: &'a str,
    pub(crate) total: Total,
}

impl PageQuery<'_> {
    fn rows(&self, extra: &str) -> String {
        let (limit, offset) = (self.filter.next(), self.filter.next() + 1);
        format!(
            "SELECT {}{extra} FROM {} WHERE {} ORDER BY {} LIMIT ${limit} OFFSET ${offset}",
            self.columns,
            self.table,
            self.filter.sql(),
            self.order
        )
    }
}

/// One page and its total, read from one snapshot.
pub(crate) async fn page<T>(
    pool: &PgPool,
    query: PageQuery<'_>,
    page: PageRequest,
    map: fn(&PgRow) -> Result<T>,
) -> Result<Page<T>> {
    let limit = i64::from(page.limit);
    let args = query.filter.args();
    let (items, total) = match &query.total {
        Total::Counted(total) => {
            // The total rides along as the last column of every row; an
            // empty page (past the end) asks for it on its own.
            let sql = query.rows(&format!(", ({total}) AS page_total"));
            let found =
                bind(sqlx::query(AssertSqlSafe(sql)), args).bind(limit).bind(offset(page)).fetch_all(pool).await?;
            let total: i64 = match found.first() {
                Some(row) => row.try_get("page_total")?,
                None => scalar(pool, total.clone(), args).await?,
            };
            (found.iter().map(map).collect::<Result<Vec<T>>>()?, u64::try_from(total).unwrap_or_default())
        }
        Total::Rows => {
            let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            let found = bind(sqlx::query(AssertSqlSafe(query.rows(""))), args)
                .bind(limit)
                .bind(offset(page))
                .fetch_all(&mut *tx)
                .await?;
            let items = found.iter().map(map).collect::<Result<Vec<T>>>()?;
            let total = if page.offset == 0 && items.len() < page.limit as usize {
                items.len() as u64
            } else {
                let count = format!("SELECT count(*) FROM {} WHERE {}", query.table, query.filter.sql());
                let n: i64 = bind(sqlx::query(AssertSqlSafe(count)), args)
                    .fetch_one(&mut *tx)
                    .await
                    .and_then(|row| row.try_get(0))?;
                u64::try_from(n).unwrap_or_default()
            };
            tx.commit().await?;
            (items, total)
        }
    };
    Ok(Page { items, total, offset: page.offset, limit: page.limit })
}

/// One `bigint` computed by `sql`.
async fn scalar(pool: &PgPool, sql: String, args: &[Arg]) -> Result<i64> {
    bind(sqlx::query(AssertSqlSafe(sql)), args)
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(StoreError::from)
}

/// The first `limit` rows of `SELECT columns FROM table WHERE filter ORDER BY order`.
pub(crate) async fn list<'c, T>(
    conn: impl sqlx::PgExecutor<'c>,
    columns: &str,
    table: &str,
    filter: &Filter,
    order: &str,
    limit: u32,
    map: fn(&PgRow) -> Result<T>,
) -> Result<Vec<T>> {
    let sql = format!("SELECT {columns} FROM {table} WHERE {} ORDER BY {order} LIMIT ${}", filter.sql(), filter.next());
    let rows = bind(sqlx::query(AssertSqlSafe(sql)), filter.args()).bind(i64::from(limit)).fetch_all(conn).await?;
    rows.iter().map(map).collect()
}

/// At most one row of a fixed query.
pub(crate) async fn one<T>(
    pool: &PgPool,
    sql: &'static str,
    args: &[Arg],
    map: fn(&PgRow) -> Result<T>,
) -> Result<Option<T>> {
    let row = bind(sqlx::query(sql), args).fetch_optional(pool).await?;
    row.as_ref().map(map).transpose()
}

/// Every row of a fixed query.
pub(crate) async fn all<T>(
    pool: &PgPool,
    sql: &'static str,
    args: &[Arg],
    map: fn(&PgRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = bind(sqlx::query(sql), args).fetch_all(pool).await?;
    rows.iter().map(map).collect()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::schema::Placeholders;

    #[test]
    fn pages_bind_limit_and_offset_after_the_filter() {
        let mut f = Filter::owner(Placeholders::Numbered, Uuid::nil());
        f.and("status = ?", [Arg::Text("pending".into())]);
        let q = PageQuery { columns: "id", table: "tasks", filter: &f, order: "seq", total: Total::Rows };
        assert!(q.rows("").ends_with("ORDER BY seq LIMIT $3 OFFSET $4"), "{}", q.rows(""));
    }
}
