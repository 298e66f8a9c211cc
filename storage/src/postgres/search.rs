//! Full-text search over thoughts with a tsvector column.
//!
//! Matching follows `steward_core::search`: the query's words (already
//! folded to letters and digits by `search::terms`) must each prefix some
//! word of the searched fields. The schema's `steward_prefix_query` folds the
//! words like the documents and requires each as a `word:*` prefix, limited
//! to content (weight A) or tags (weight B) when only one is searched.
//! Relevance is `ts_rank` with every weight equal, scaled by the best hit of
//! the whole result so scores lie in (0, 1]; ties go to the newest thought,
//! then the latest inserted.

use sqlx::{PgPool, Row};
use steward_core::query::{Page, Scored, SearchField, ThoughtSearch};
use steward_core::search;
use steward_core::thought::Thought;
use steward_core::{Result, UserId};

use super::error::db_error;
use super::rows::{self, columns};

/// The tsquery of a filter clause: its two `?`s are the terms (`text[]`)
/// and the weights (`''`, `'A'` or `'B'`).
pub(crate) const PREFIX_QUERY: &str = "steward_prefix_query(?, ?)";

const SEARCH: &str = concat!(
    "SELECT ",
    columns!(thought),
    ", rank / nullif(max(rank) OVER (), 0) AS score, count(*) OVER () AS total FROM ( \
        SELECT *, ts_rank('{1, 1, 1, 1}', search, query)::float8 AS rank \
        FROM thoughts, steward_prefix_query($2, $3) AS query \
        WHERE user_id = $1 AND search @@ query \
    ) AS hits ORDER BY rank DESC, created_at DESC, seq DESC LIMIT $4 OFFSET $5"
);

const COUNT: &str = "SELECT count(*) FROM thoughts WHERE user_id = $1 AND search @@ steward_prefix_query($2, $3)";

/// Where the terms may match: content is weight A, tags weight B.
fn weights(fields: &[SearchField]) -> &'static str {
    match (fields.contains(&SearchField::Content), fields.contains(&SearchField::Tags)) {
        (true, false) => "A",
        (false, true) => "B",
        _ => "",
    }
}

pub(crate) async fn thoughts(pool: &PgPool, owner: UserId, q: &ThoughtSearch) -> Result<Page<Scored<Thought>>> {
    let empty = Page { items: Vec::new(), total: 0, offset: q.page.offset, limit: q.page.limit };
    let terms = search::terms(&q.text);
    if terms.is_empty() || q.fields.is_empty() {
        return Ok(empty);
    }
    let weights = weights(&q.fields);
    let offset = i64::try_from(q.page.offset).unwrap_or(i64::MAX);
    let found = sqlx::query(SEARCH)
        .bind(owner.0)
        .bind(terms.clone())
        .bind(weights)
        .bind(i64::from(q.page.limit))
        .bind(offset)
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    let mut total = 0;
    let mut items = Vec::with_capacity(found.len());
    for row in &found {
        total = row.try_get::<i64, _>("total").map_err(db_error)?;
        let score: Option<f64> = row.try_get("score").map_err(db_error)?;
        let item = rows::thought(row)?;
        items.push(Scored {
            matched_fields: search::matched_fields(&item, &terms, &q.fields),
            match_score: score.filter(|s| !s.is_nan()).map_or(1.0, |s| s.clamp(f64::MIN_POSITIVE, 1.0)),
            item,
        });
    }
    if found.is_empty() && q.page.offset > 0 {
        total = sqlx::query(COUNT)
            .bind(owner.0)
            .bind(terms)
            .bind(weights)
            .fetch_one(pool)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(db_error)?;
    }
    Ok(Page { items, total: u64::try_from(total).unwrap_or_default(), offset: q.page.offset, limit: q.page.limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_field_restricts_the_weight() {
        assert_eq!(weights(&[SearchField::Content]), "A");
        assert_eq!(weights(&[SearchField::Tags, SearchField::Tags]), "B");
        assert_eq!(weights(&[SearchField::Tags, SearchField::Content]), "");
    }
}
