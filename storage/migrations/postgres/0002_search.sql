-- Full-text search. Words fold like `steward_core::search::words`: accents
-- removed (Unicode decomposition, then the `unaccent` dictionary where the
-- extension can be installed: it also folds ligatures, ß, ø, ł, …), lower
-- case, and only runs of letters and digits, everything else a separator.
-- The `simple` configuration then indexes every word as it is, unstemmed.
-- The store folds query words with the same function, so both sides agree.
--
-- `steward_fold` must be IMMUTABLE to feed a generated column; unaccent is
-- only STABLE because it looks its dictionary up by name, so the wrapper
-- names it with its schema. Case folding and the letter/digit test use the
-- ICU root collation when the server has it, so they do not depend on the
-- database's locale (under "C", lower() folds ASCII only).

DO $migration$
DECLARE
    dictionary text;
    coll       text := '';
    folded     text := $f$regexp_replace(normalize(t, NFD), '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+', '', 'g')$f$;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS unaccent;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'unaccent is not available (%): search folds accents by decomposition only', SQLERRM;
    END;
    SELECT quote_ident(n.nspname) INTO dictionary
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'unaccent';
    IF dictionary IS NOT NULL THEN
        folded := format('%s.unaccent(%L::regdictionary, %s)', dictionary, dictionary || '.unaccent', folded);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        coll := 'COLLATE "und-x-icu"';
    END IF;
    EXECUTE format(
        $f$CREATE FUNCTION steward_fold(t text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS %L$f$,
        format($f$SELECT btrim(regexp_replace(lower(%s %s), '[^[:alnum:]]+', ' ', 'g'))$f$, folded, coll)
    );
END
$migration$;

-- The query requiring every one of `terms` as a word prefix, the terms
-- folded like the documents; `weights` restricts where they may match ('A'
-- content, 'B' tags, '' anywhere). Terms are letters and digits only (the
-- store takes them from `steward_core::search::terms`), and folding leaves
-- nothing else, so no input is ever read as tsquery syntax. NULL, which
-- matches nothing, when no word is left.
CREATE FUNCTION steward_prefix_query(terms text[], weights text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_tsquery('simple'::regconfig, string_agg(quote_literal(word) || ':*' || weights, ' & '))
    FROM unnest(terms) AS term, regexp_split_to_table(steward_fold(term), ' ') AS word
    WHERE word <> ''
$$;

-- Tags as one text, for the tag part of a thought's search vector.
CREATE FUNCTION steward_words(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT array_to_string(tags, ' ')$$;

-- Thought content is weight A and tags weight B, so a search can be
-- restricted to either field (`word:*A`, `word:*B`).
ALTER TABLE thoughts ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, steward_fold(content)), 'A')
    || setweight(to_tsvector('simple'::regconfig, steward_fold(steward_words(tags))), 'B')
) STORED;
CREATE INDEX thoughts_search ON thoughts USING gin (search);

ALTER TABLE tasks ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig, steward_fold(title || ' ' || coalesce(description, '')))
) STORED;
CREATE INDEX tasks_search ON tasks USING gin (search);
