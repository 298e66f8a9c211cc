//! Full-text search over thoughts with FTS5.
//!
//! Matching follows `steward_core::search`: the query's words (already
//! folded to letters and digits by `search::terms`) must each prefix some
//! word of the searched fields. Relevance is FTS5's bm25 (negated, so higher
//! is better), scaled by the best hit of the whole result so scores lie in
//! (0, 1]; ties go to the newest thought, then the latest inserted. The
//! result set is the best `MAX_SEARCH_RESULTS` (core's bound): bm25 still
//! scores every match, but only their keys are sorted, in a sorter that
//! keeps that many, and only the page's rows are read whole.

use sqlx::{Row, SqlitePool};
use steward_core::UserId;
use steward_core::query::{MAX_SEARCH_RESULTS, Page, Scored, SearchField, ThoughtSearch};
use steward_core::search;
use steward_core::thought::Thought;

use crate::error::Result;

/// An FTS5 expression requiring every term as a word prefix: `"a"* AND "b"*`.
/// Terms come from `search::terms` (letters and digits only); anything else
/// is dropped again here so the expression can never be malformed.
pub(crate) fn match_all(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| t.chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The best [`MAX_SEARCH_RESULTS`] matches are ranked and kept by key only
/// (a bounded sort), then the page's rows are read: `?`s are the
/// expression, the owner, the bound, the page's limit and offset.
const SEARCH: &str = "\
    WITH best AS ( \
        SELECT thoughts.seq AS hit, -bm25(thoughts_fts) AS rel, thoughts.created_at AS at \
        FROM thoughts_fts JOIN thoughts ON thoughts.seq = thoughts_fts.rowid \
        WHERE thoughts_fts MATCH ? AND thoughts.user_id = ? \
        ORDER BY rel DESC, at DESC, hit DESC LIMIT ? \
    ), ranked AS ( \
        SELECT hit, rel, at, rel / max(rel) OVER () AS score, count(*) OVER () AS total FROM best \
    ) \
    SELECT thoughts.*, ranked.score, ranked.total FROM ranked JOIN thoughts ON thoughts.seq = ranked.hit \
    ORDER BY ranked.rel DESC, ranked.at DESC, ranked.hit DESC LIMIT ? OFFSET ?";

/// The size of the result set, for a page past its end: `?`s are the
/// expression, the owner and the bound.
const COUNT: &str = "\
    SELECT count(*) FROM (SELECT 1 FROM thoughts_fts JOIN thoughts ON thoughts.seq = thoughts_fts.rowid \
    WHERE thoughts_fts MATCH ? AND thoughts.user_id = ? LIMIT ?)";

pub(crate) async fn thoughts(pool: &SqlitePool, owner: UserId, q: &ThoughtSearch) -> Result<Page<Scored<Thought>>> {
    let empty = Page { items: Vec::new(), total: 0, offset: q.page.offset, limit: q.page.limit };
    let terms = search::terms(&q.text);
    let mut fields: Vec<SearchField> = Vec::new();
    for field in &q.fields {
        if !fields.contains(field) {
            fields.push(*field);
        }
    }
    let expression = match_all(&terms);
    if expression.is_empty() || fields.is_empty() {
        return Ok(empty);
    }
    let columns: Vec<&str> = fields
        .iter()
        .map(|f| match f {
            SearchField::Content => "content",
            SearchField::Tags => "tags",
        })
        .collect();
    let expression = format!("{{{}}} : ({expression})", columns.join(" "));

    let offset = i64::try_from(q.page.offset).unwrap_or(i64::MAX);
    let mut tx = pool.begin().await?;
    let found = sqlx::query(SEARCH)
        .bind(expression.clone())
        .bind(owner.0)
        .bind(i64::from(MAX_SEARCH_RESULTS))
        .bind(i64::from(q.page.limit))
        .bind(offset)
        .fetch_all(&mut *tx)
        .await?;
    let mut total = 0;
    let mut items = Vec::with_capacity(found.len());
    for row in &found {
        total = row.try_get::<i64, _>("total")?;
        let score: f64 = row.try_get("score")?;
        let item = crate::schema::thoughts::decode(row)?;
        items.push(Scored {
            matched_fields: search::matched_fields(&item, &terms, &q.fields),
            match_score: if score.is_nan() { 1.0 } else { score.clamp(f64::MIN_POSITIVE, 1.0) },
            item,
        });
    }
    if found.is_empty() && q.page.offset > 0 {
        total = sqlx::query(COUNT)
            .bind(expression.clone())
            .bind(owner.0)
            .bind(i64::from(MAX_SEARCH_RESULTS))
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get(0))?;
    }
    tx.commit().await?;
    Ok(Page { items, total: u64::try_from(total).unwrap_or_default(), offset: q.page.offset, limit: q.page.limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_quotes_every_term_as_a_prefix() {
        let terms = search::terms("Milk \"OR\" eggs*");
        assert_eq!(match_all(&terms), "\"milk\"* AND \"or\"* AND \"eggs\"*");
        assert_eq!(match_all(&["a\"b".to_string()]), "\"ab\"*");
    }
}
