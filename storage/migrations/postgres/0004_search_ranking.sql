-- Search relevance that does not need every match ranked. Relevance is
-- core's: how many word occurrences of the searched fields each query word
-- prefixes, summed (`steward_core::search::match_count`). A thought in
-- which every query word prefixes exactly one occurrence scores the least
-- any match can (one per word); most matches do, and rank among themselves
-- newest first. The others are found through an index of each thought's
-- *repeats*: the word prefixes it holds at least twice. A query word
-- prefixes two occurrences exactly when it prefixes a lexeme occurring
-- twice or the common prefix of two lexemes next to each other in byte
-- order (the lexemes a prefix matches are a run in that order). Repeats
-- are recorded per field, each behind a letter naming it: `a` content, `b`
-- tags, `c` the two together (`ccafe`: content and tags hold two words
-- starting with "cafe"), so that a query for one field (`'ccaf':*`) needs
-- no weights, which would make every candidate row be rechecked.

-- A lexeme in the input syntax of tsvector and tsquery.
CREATE FUNCTION steward_quote_lexeme(lexeme text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT '''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || ''''
$$;

-- The common prefix of two words, whole characters only.
CREATE FUNCTION steward_common_prefix(a text, b text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT substr(a, 1, coalesce((
        SELECT max(i) FROM generate_series(1, least(length(a), length(b))) AS i
        WHERE substr(a, 1, i) = substr(b, 1, i)
    ), 0))
$$;

-- The repeats of a search vector, as a vector of field letter + word.
CREATE FUNCTION steward_repeats(v tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
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
$$;

CREATE INDEX thoughts_repeats ON thoughts USING gin (steward_repeats(search));

-- The words of a query folded like the documents (as `steward_prefix_query`).
CREATE FUNCTION steward_query_words(terms text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(word), '{}')
    FROM unnest(terms) AS term, regexp_split_to_table(steward_fold(term), ' ') AS word
    WHERE word <> ''
$$;

-- Matches the thoughts in which some query word prefixes two occurrences
-- in the searched fields (`weights` as for `steward_prefix_query`).
CREATE FUNCTION steward_repeat_query(terms text[], weights text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(
        steward_quote_lexeme(CASE weights WHEN 'A' THEN 'a' WHEN 'B' THEN 'b' ELSE 'c' END || word) || ':*', ' | '
    )::tsquery
    FROM unnest(steward_query_words(terms)) AS word
$$;

-- Relevance: the occurrences each of `words` prefixes in `field` ('A'
-- content, 'B' tags, '' both), summed.
CREATE FUNCTION steward_match_count(v tsvector, words text[], field text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    SELECT coalesce(sum((
        SELECT count(*) FROM unnest(u.weights) AS w WHERE field = '' OR w = field
    )), 0)::bigint
    FROM unnest(v) AS u, unnest(words) AS word
    WHERE starts_with(u.lexeme, word)
$$;
