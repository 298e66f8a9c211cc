-- Two functions every thought write runs, in PL/pgSQL, as 0013 did for
-- `steward_fold`. A SQL function that cannot be inlined has its body parsed
-- and planned again in every statement that calls it, and a thought insert
-- calls both: `steward_repeats` for the `thoughts_repeats` index (a query
-- with CTEs, never inlined) and `steward_words` for the search vector
-- (IMMUTABLE, but it calls the STABLE `array_to_string`, so never inlined
-- either). Under a thought-capture load the SQL parser was the PostgreSQL
-- server's busiest function, reached through `fmgr_sql`. PL/pgSQL compiles
-- each once per connection and keeps the plan: +15% captures a second in
-- paired runs. (`steward_common_prefix`, which `steward_repeats` calls once
-- per pair of neighbouring words, stays SQL: as PL/pgSQL, its cost per call
-- made captures 15% slower.) The queries are those of 0002 and 0004
-- unchanged, so stored vectors and index entries stay valid.
CREATE OR REPLACE FUNCTION steward_words(tags text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$BEGIN RETURN array_to_string(tags, ' '); END$$;

CREATE OR REPLACE FUNCTION steward_repeats(v tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
BEGIN
    RETURN (
        WITH lexemes AS (
            SELECT u.lexeme COLLATE "C" AS lexeme,
                   (SELECT count(*) FROM unnest(u.weights) AS w WHERE w = 'A') AS a,
                   (SELECT count(*) FROM unnest(u.weights) AS w WHERE w = 'B') AS b,
                   coalesce(array_length(u.positions, 1), 1) AS n
            FROM unnest(v) AS u
        ),
        fields (field, lexeme, n) AS (
            SELECT 'a', lexeme, a FROM lexemes WHERE a > 0
            UNION ALL SELECT 'b', lexeme, b FROM lexemes WHERE b > 0
            UNION ALL SELECT 'c', lexeme, n FROM lexemes
        ),
        repeats (field, word) AS (
            SELECT field, lexeme FROM fields WHERE n > 1
            UNION ALL
            SELECT field, steward_common_prefix(previous, lexeme) FROM (
                SELECT field, lexeme, lag(lexeme) OVER (PARTITION BY field ORDER BY lexeme) AS previous FROM fields
            ) AS neighbours WHERE previous IS NOT NULL
        )
        SELECT coalesce(string_agg(DISTINCT steward_quote_lexeme(field || word), ' '), '')::tsvector
        FROM repeats WHERE word <> ''
    );
END
$$;
