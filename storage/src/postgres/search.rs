//! Full-text search over thoughts with a tsvector column.
//!
//! Matching follows `steward_core::search`: the query's words (already
//! folded to letters and digits by `search::terms`) must each prefix some
//! word of the searched fields. The schema's `steward_prefix_query` folds the
//! words like the documents and requires each as a `word:*` prefix, limited
//! to content (weight A) or tags (weight B) when only one is searched.
//!
//! Relevance is core's: the word occurrences each query word prefixes,
//! summed (`steward_match_count`), scaled by the best hit's so scores lie in
//! (0, 1]; ties go to the newest thought, then the latest inserted. Ranking
//! every match would read every match, so a search is three reads of one
//! snapshot (see migration 0004):
//!
//! 1. the total, and the matches where some query word prefixes two
//!    occurrences (found by the `steward_repeats` index, few in practice),
//!    ranked: they come first;
//! 2. their rows that the page shows;
//! 3. the rest of the page from the other matches, which all score the
//!    least a match can (one per query word), so newest first: walking the
//!    owner's thoughts newest first when matches are common, or sorting
//!    the matches when they are few.
//!
//! The total is exact, so step 1 still visits every match once (counting
//! is a heap visit per match in PostgreSQL, even through the GIN index).

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, PgPool, Row};
use steward_core::query::{Page, Scored, SearchField, ThoughtSearch};
use steward_core::search;
use steward_core::thought::Thought;
use steward_core::{Result, UserId};
use uuid::Uuid;

use super::error::db_error;
use super::rows::{self, columns};

/// The tsquery of a filter clause: its two `?`s are the terms (`text[]`)
/// and the weights (`''`, `'A'` or `'B'`). A scalar subquery, so it is
/// computed once per statement even in a generic plan (which would
/// otherwise call the function again for every row it rechecks).
pub(crate) const PREFIX_QUERY: &str = "(SELECT steward_prefix_query(?, ?))";

/// `$1` owner, `$2` terms, `$3` weights: the total, the number of query
/// words, and the repeated matches best first with their relevance.
const SUMMARY: &str = "\
    WITH repeated AS MATERIALIZED ( \
        SELECT id, created_at, seq, steward_match_count(search, (SELECT steward_query_words($2)), $3) AS raw \
        FROM thoughts \
        WHERE user_id = $1 AND steward_repeats(search) @@ (SELECT steward_repeat_query($2, $3)) \
          AND coalesce(search @@ (SELECT steward_prefix_query($2, $3)), false) \
    ) \
    SELECT (SELECT count(*) FROM thoughts WHERE user_id = $1 AND search @@ (SELECT steward_prefix_query($2, $3))) \
           AS total, \
           cardinality(steward_query_words($2))::bigint AS words, \
           coalesce((SELECT array_agg(id ORDER BY raw DESC, created_at DESC, seq DESC) FROM repeated), '{}') AS ids, \
           coalesce((SELECT array_agg(raw ORDER BY raw DESC, created_at DESC, seq DESC) FROM repeated), '{}') AS raws";

const BY_ID: &str = concat!("SELECT ", columns!(thought), " FROM thoughts WHERE user_id = $1 AND id = ANY($2)");

/// Matches other than `$4` (ids) newest first, `$5` rows from `$6` on,
/// walking the owner's thoughts in that order (the match test is kept out
/// of the index's reach on purpose).
const DENSE: &str = concat!(
    "SELECT ",
    columns!(thought),
    " FROM thoughts WHERE user_id = $1 AND coalesce(search @@ (SELECT steward_prefix_query($2, $3)), false) \
      AND NOT (id = ANY($4)) ORDER BY created_at DESC, seq DESC LIMIT $5 OFFSET $6"
);

/// [`DENSE`] by fetching every match through the search index and sorting.
const SPARSE: &str = concat!(
    "WITH hits AS MATERIALIZED (SELECT ",
    columns!(thought),
    ", seq FROM thoughts WHERE user_id = $1 AND search @@ (SELECT steward_prefix_query($2, $3)) \
     AND NOT (id = ANY($4))) \
     SELECT * FROM hits ORDER BY created_at DESC, seq DESC LIMIT $5 OFFSET $6"
);

/// Up to this many plain matches are fetched and sorted rather than found
/// by walking the owner's thoughts newest first.
const SPARSE_MATCHES: u64 = 5_000;

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
    let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(db_error)?;
    let summary = sqlx::query(SUMMARY)
        .bind(owner.0)
        .bind(terms.clone())
        .bind(weights)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    let total: i64 = summary.try_get("total").map_err(db_error)?;
    let words: i64 = summary.try_get("words").map_err(db_error)?;
    let repeated: Vec<Uuid> = summary.try_get("ids").map_err(db_error)?;
    let raws: Vec<i64> = summary.try_get("raws").map_err(db_error)?;
    let total = u64::try_from(total).unwrap_or_default();
    // Every match scores at least one per query word; the best sets the scale.
    let best = raws.first().copied().unwrap_or(words).max(words).max(1) as f64;
    let score = |raw: i64| (raw as f64 / best).clamp(f64::MIN_POSITIVE, 1.0);

    let (start, limit) = (usize::try_from(q.page.offset).unwrap_or(usize::MAX), q.page.limit as usize);
    let shown: &[Uuid] = repeated.get(start..).map_or(&[], |rest| &rest[..rest.len().min(limit)]);
    let mut ranked: Vec<(Thought, f64)> = Vec::with_capacity(limit);
    if !shown.is_empty() {
        let found = sqlx::query(BY_ID).bind(owner.0).bind(shown).fetch_all(&mut *tx).await.map_err(db_error)?;
        let mut by_id = HashMap::with_capacity(found.len());
        for row in &found {
            let t = rows::thought(row)?;
            by_id.insert(t.id.0, t);
        }
        for (i, id) in shown.iter().enumerate() {
            if let Some(t) = by_id.remove(id) {
                ranked.push((t, score(raws[start + i])));
            }
        }
    }
    let plain = total.saturating_sub(repeated.len() as u64);
    let skip = q.page.offset.saturating_sub(repeated.len() as u64);
    let wanted = limit - shown.len();
    if wanted > 0 && skip < plain {
        let sql = if plain <= SPARSE_MATCHES { SPARSE } else { DENSE };
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.0)
            .bind(terms.clone())
            .bind(weights)
            .bind(&repeated)
            .bind(i64::try_from(wanted).unwrap_or(i64::MAX))
            .bind(i64::try_from(skip).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        for row in &found {
            ranked.push((rows::thought(row)?, score(words)));
        }
    }
    tx.commit().await.map_err(db_error)?;
    let items = ranked
        .into_iter()
        .map(|(item, match_score)| Scored {
            matched_fields: search::matched_fields(&item, &terms, &q.fields),
            match_score,
            item,
        })
        .collect();
    Ok(Page { items, total, ..empty })
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
