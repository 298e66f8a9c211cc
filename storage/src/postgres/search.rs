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
//! (0, 1]; ties go to the newest thought, then the latest inserted. The
//! result set is the best `MAX_SEARCH_RESULTS` (core's bound). Ranking
//! every match would read every match, so a search is three reads of one
//! snapshot (see migration 0004):
//!
//! 1. the matches counted, only as far as the bound needs: among the
//!    owner's newest [`WALKED`] thoughts up to the bound plus one (common
//!    words stop there: the total is the bound), else through the search
//!    index up to [`COUNTED`]; and the matches where some query word
//!    prefixes two occurrences (found by the `steward_repeats` index, few
//!    in practice), ranked: they come first;
//! 2. their rows that the page shows;
//! 3. the rest of the page from the other matches, which all score the
//!    least a match can (one per query word), so newest first: walking the
//!    owner's thoughts newest first when matches are common, or sorting
//!    the matches when they are few (counted to the end).
//!
//! Counting is a heap visit per counted match in PostgreSQL, and the search
//! index lists every match before a count through it can stop, so the
//! bound is what makes the total cheap: a common word is counted on the
//! newest few thousand thoughts and never through the index.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, PgPool, Row};
use steward_core::UserId;
use steward_core::query::{MAX_SEARCH_RESULTS, Page, Scored, SearchField, ThoughtSearch};
use steward_core::search;
use steward_core::thought::Thought;

use crate::error::Result;
use uuid::Uuid;

use crate::schema::{THOUGHTS, once};

/// The tsquery of a filter clause: its two `?`s are the terms (`text[]`)
/// and the weights (`''`, `'A'` or `'B'`). A scalar subquery, so it is
/// computed once per statement even in a generic plan (which would
/// otherwise call the function again for every row it rechecks).
pub(crate) const PREFIX_QUERY: &str = "(SELECT steward_prefix_query(?, ?))";

/// `$1` owner, `$2` terms, `$3` weights; `$4` [`WALKED`], `$5` the bound
/// plus one, `$6` [`COUNTED`]. Returns the matches among the owner's newest
/// `$4` thoughts, counted up to `$5` (`walked`); when fewer, the matches
/// counted up to `$6` through the search index (`counted`, else null); the
/// number of query words; and the repeated matches best first with their
/// relevance.
const SUMMARY: &str = "\
    WITH repeated AS MATERIALIZED ( \
        SELECT id, created_at, seq, steward_match_count(search, (SELECT steward_query_words($2)), $3) AS raw \
        FROM thoughts \
        WHERE user_id = $1 AND steward_repeats(search) @@ (SELECT steward_repeat_query($2, $3)) \
          AND coalesce(search @@ (SELECT steward_prefix_query($2, $3)), false) \
    ), walked AS MATERIALIZED ( \
        SELECT count(*) AS n FROM ( \
            SELECT FROM (SELECT search FROM thoughts WHERE user_id = $1 \
                         ORDER BY created_at DESC, seq DESC LIMIT $4) AS newest \
            WHERE search @@ (SELECT steward_prefix_query($2, $3)) LIMIT $5 \
        ) AS found \
    ) \
    SELECT (SELECT n FROM walked) AS walked, \
           CASE WHEN (SELECT n FROM walked) < $5 THEN (SELECT count(*) FROM (SELECT FROM thoughts \
                WHERE user_id = $1 AND search @@ (SELECT steward_prefix_query($2, $3)) LIMIT $6) AS found) \
           END AS counted, \
           cardinality(steward_query_words($2))::bigint AS words, \
           coalesce((SELECT array_agg(id ORDER BY raw DESC, created_at DESC, seq DESC) FROM repeated), '{}') AS ids, \
           coalesce((SELECT array_agg(raw ORDER BY raw DESC, created_at DESC, seq DESC) FROM repeated), '{}') AS raws";

/// The owner's thoughts among the ids `$2`.
fn by_id_sql() -> &'static str {
    once!(format!("SELECT {} FROM thoughts WHERE user_id = $1 AND id = ANY($2)", THOUGHTS.select_list()))
}

/// Matches other than `$4` (ids) newest first, `$5` rows from `$6` on,
/// walking the owner's thoughts in that order (the match test is kept out
/// of the index's reach on purpose).
fn dense_sql() -> &'static str {
    once!(format!(
        "SELECT {} FROM thoughts WHERE user_id = $1 AND coalesce(search @@ (SELECT steward_prefix_query($2, $3)), false) \
          AND NOT (id = ANY($4)) ORDER BY created_at DESC, seq DESC LIMIT $5 OFFSET $6",
        THOUGHTS.select_list()
    ))
}

/// [`dense_sql`] by fetching every match through the search index and sorting.
fn sparse_sql() -> &'static str {
    once!(format!(
        "WITH hits AS MATERIALIZED (SELECT {}, seq FROM thoughts WHERE user_id = $1 \
         AND search @@ (SELECT steward_prefix_query($2, $3)) AND NOT (id = ANY($4))) \
         SELECT * FROM hits ORDER BY created_at DESC, seq DESC LIMIT $5 OFFSET $6",
        THOUGHTS.select_list()
    ))
}

/// The owner's newest thoughts walked first to count matches: when the
/// bound's worth (plus one) are among them, matches are common, the total
/// is the bound, and the page is found by walking the same way. Cheap
/// (about 0.3 µs a row) next to the search index, which must list every
/// match before a count can stop (~22 ms for 166k matches).
const WALKED: i64 = 20_000;

/// Otherwise matches are counted through the search index up to this many
/// (more than the bound): fewer are fetched and sorted rather than found by
/// walking the owner's thoughts newest first (which, for the result set's
/// last plain match, walks about `MAX_SEARCH_RESULTS × owned / matches`
/// rows).
const COUNTED: i64 = 5_001;

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
    let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
    // A parallel plan for the repeated matches costs more in starting
    // workers (~11 ms) than the scan it shares, which finds few rows.
    sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0").execute(&mut *tx).await?;
    let bound = i64::from(MAX_SEARCH_RESULTS);
    let summary = sqlx::query(SUMMARY)
        .bind(owner.0)
        .bind(terms.clone())
        .bind(weights)
        .bind(WALKED)
        .bind(bound + 1)
        .bind(COUNTED)
        .fetch_one(&mut *tx)
        .await?;
    let walked: i64 = summary.try_get("walked")?;
    let counted: Option<i64> = summary.try_get("counted")?;
    // Matches up to `COUNTED`; the walk that found more than the bound
    // stands for `COUNTED` (too many to fetch and sort).
    let matches = counted.unwrap_or(COUNTED).max(walked);
    let words: i64 = summary.try_get("words")?;
    let repeated: Vec<Uuid> = summary.try_get("ids")?;
    let raws: Vec<i64> = summary.try_get("raws")?;
    let cap = u64::from(MAX_SEARCH_RESULTS);
    // The result set: the repeated matches ranked, then the plain ones
    // newest first, cut at the bound (the best hit is always in it).
    let total = u64::try_from(matches).unwrap_or_default().max(repeated.len() as u64).min(cap);
    // Every match scores at least one per query word; the best sets the scale.
    let best = raws.first().copied().unwrap_or(words).max(words).max(1) as f64;
    let score = |raw: i64| (raw as f64 / best).clamp(f64::MIN_POSITIVE, 1.0);

    let end = usize::try_from(total.min(q.page.offset.saturating_add(u64::from(q.page.limit)))).unwrap_or(0);
    let start = usize::try_from(q.page.offset).unwrap_or(usize::MAX).min(end);
    let kept = repeated.len().min(end);
    let shown: &[Uuid] = repeated.get(start..kept).unwrap_or(&[]);
    let mut ranked: Vec<(Thought, f64)> = Vec::with_capacity(end - start);
    if !shown.is_empty() {
        let found = sqlx::query(by_id_sql()).bind(owner.0).bind(shown).fetch_all(&mut *tx).await?;
        let mut by_id = HashMap::with_capacity(found.len());
        for row in &found {
            let t = crate::schema::thoughts::decode(row)?;
            by_id.insert(t.id.0, t);
        }
        for (i, id) in shown.iter().enumerate() {
            if let Some(t) = by_id.remove(id) {
                ranked.push((t, score(raws[start + i])));
            }
        }
    }
    // The plain matches the page shows: positions past the repeated ones.
    let skip = start.max(repeated.len()) - repeated.len();
    let wanted = end.saturating_sub(start.max(repeated.len()));
    if wanted > 0 {
        // Counted to the end means few matches: fetch them all and sort.
        let sparse = matches < COUNTED;
        let sql = if sparse { sparse_sql() } else { dense_sql() };
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.0)
            .bind(terms.clone())
            .bind(weights)
            .bind(&repeated)
            .bind(i64::try_from(wanted).unwrap_or(i64::MAX))
            .bind(i64::try_from(skip).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await?;
        for row in &found {
            ranked.push((crate::schema::thoughts::decode(row)?, score(words)));
        }
    }
    tx.commit().await?;
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
