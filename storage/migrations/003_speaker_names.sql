-- Speaker resolution, second version (replaces v_speaker_names from 002;
-- v_statements, v_speakers and the macros use it by name).
--   * Names are cleaned first: a trailing possessive ("Vladimir Putin's") goes;
--     a leading "The" goes when the rest is a stored name ("The White House");
--     a sentence-initial "The", "A" or "An" is lower-cased ("A White House
--     official" is "a White House official").
--   * Only aliases that are names cross articles: an NLP alias written in
--     lower case ("the U.S. president", "the two presidents") meant someone in
--     one article only, so it is not applied elsewhere. Config aliases always
--     apply, and an NLP alias never redirects a name that a config alias
--     points to (so a config merge cannot be undone by the NLP).
CREATE OR REPLACE VIEW v_speaker_names AS
WITH RECURSIVE
raw_names AS (
    SELECT speaker AS name FROM statements WHERE speaker IS NOT NULL
    UNION SELECT alias FROM speaker_aliases
    UNION SELECT canonical FROM speaker_aliases
    UNION SELECT canonical FROM mentions WHERE label = 'PERSON'
),
stripped AS (
    SELECT name, trim(regexp_replace(trim(name), '[’'']s$', '')) AS base FROM raw_names
),
cleaned AS (
    SELECT
        name,
        CASE
            WHEN regexp_matches(base, '^[Tt]he\s+\p{Lu}')
                AND regexp_replace(base, '^[Tt]he\s+', '') IN (SELECT base FROM stripped)
            THEN regexp_replace(base, '^[Tt]he\s+', '')
            WHEN regexp_matches(base, '^(?:The|A|An)\s') THEN lower(base[1]) || base[2:]
            ELSE base
        END AS clean
    FROM stripped
),
alias_rows AS (
    SELECT ca.clean AS alias, cc.clean AS canonical, sa.source
    FROM speaker_aliases sa
    JOIN cleaned ca ON ca.name = sa.alias
    JOIN cleaned cc ON cc.name = sa.canonical
    WHERE sa.source = 'config' OR regexp_matches(ca.clean, '^\p{Lu}')
),
edges AS (
    SELECT alias, first(canonical ORDER BY source <> 'config', canonical) AS canonical
    FROM alias_rows
    WHERE alias <> canonical AND alias <> ''
      AND (source = 'config' OR alias NOT IN (SELECT canonical FROM alias_rows WHERE source = 'config'))
    GROUP BY alias
),
names AS (SELECT DISTINCT clean AS name FROM cleaned WHERE clean <> ''),
chain(name, target, path) AS (
    SELECT name, name, [name] FROM names
    UNION ALL
    SELECT c.name, e.canonical, list_append(c.path, e.canonical)
    FROM chain c JOIN edges e ON e.alias = c.target
    WHERE NOT list_contains(c.path, e.canonical) AND len(c.path) < 10
),
resolved AS (
    SELECT name, arg_max(target, len(path)) AS target, max(len(path)) > 1 AS via_alias
    FROM chain GROUP BY name
),
persons AS (
    SELECT c.clean AS name FROM cleaned c
    WHERE c.name IN (SELECT speaker FROM statements WHERE speaker_type = 'person')
       OR c.name IN (SELECT canonical FROM mentions WHERE label = 'PERSON')
),
normalized AS (
    SELECT
        r.name,
        r.target,
        r.via_alias,
        (r.name IN (SELECT name FROM persons) OR r.target IN (SELECT name FROM persons)) AS is_person,
        trim(regexp_replace(
            regexp_replace(
                r.target,
                '^(?:(?:Vice President|President|Prime Minister|Foreign Minister|Defense Minister|'
                || 'Secretary of State|Secretary|Chancellor|Senator|Sen\.|Representative|Rep\.|Governor|Gov\.|'
                || 'Mr\.?|Mrs\.?|Ms\.?|Dr\.?)\s+)+',
                ''
            ),
            '\s+(?:\p{Lu}\.\s+)+',
            ' ',
            'g'
        )) AS norm
    FROM resolved r
),
stepped AS (
    SELECT
        n.name,
        n.target,
        n.via_alias,
        n.is_person,
        CASE
            WHEN n.is_person AND n.norm <> n.target AND n.norm <> '' THEN coalesce(r.target, n.norm)
            ELSE n.target
        END AS step
    FROM normalized n
    LEFT JOIN resolved r ON r.name = n.norm
),
by_last AS (
    SELECT lower(string_split(step, ' ')[-1]) AS last_name, min(step) AS full_name, count(DISTINCT step) AS n
    FROM stepped
    WHERE is_person AND contains(step, ' ')
    GROUP BY 1
),
final AS (
    SELECT
        s.name,
        CASE WHEN s.is_person AND NOT contains(s.step, ' ') AND b.n = 1 THEN b.full_name ELSE s.step END
            AS canonical,
        CASE
            WHEN s.is_person AND NOT contains(s.step, ' ') AND b.n = 1 THEN 'last_name'
            WHEN s.step <> s.target THEN 'normalized'
            WHEN s.via_alias THEN 'alias'
            ELSE 'self'
        END AS rule
    FROM stepped s
    LEFT JOIN by_last b ON b.last_name = lower(s.step)
)
SELECT
    c.name,
    f.canonical,
    CASE WHEN f.rule = 'self' AND c.name <> c.clean THEN 'normalized' ELSE f.rule END AS rule
FROM cleaned c
JOIN final f ON f.name = c.clean;

COMMENT ON VIEW v_speaker_names IS 'Every stored speaker name mapped to its canonical name across articles: possessives dropped, name aliases followed (config first), titles and middle initials dropped, a unique last name completed.';
COMMENT ON COLUMN v_speaker_names.name IS 'A speaker name as stored in statements.speaker, speaker_aliases or a PERSON mention.';
COMMENT ON COLUMN v_speaker_names.canonical IS 'The name analysts see in v_statements and v_speakers.';
COMMENT ON COLUMN v_speaker_names.rule IS 'self, alias (speaker_aliases), normalized (possessive, title or middle initial dropped) or last_name.';
