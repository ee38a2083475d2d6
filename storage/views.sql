-- Views, table macros and every COMMENT (tables, views, columns, macros), in one place.
--
-- Applied after the migrations each time a writer opens the database (storage/db.py), so this file is
-- the one definition of the analysts' model: migrations hold tables and data changes only. Every
-- statement is idempotent (CREATE OR REPLACE, COMMENT ON). Replacing a view drops its comments, so
-- each view's comments follow it. docs/schema.md is generated from these comments
-- (`python -m saidwhat.storage.schema_doc`).

-- ------------------------------------------------------------------ speakers
-- Every speaker name stored (as a statement's speaker or in speaker_aliases)
-- mapped to the one name analysts see. Resolution, in order:
--   1. speaker_aliases, followed to the end of the chain (config merges win:
--      they overwrite NLP rows for the same alias);
--   2. for people, leading titles and middle initials are dropped when that
--      gives a known name ("President Trump" -> "Trump", "Donald J. Trump" ->
--      "Donald Trump");
--   3. a one-word person name becomes the unique full person name with that
--      last word ("Putin" -> "Vladimir Putin"); when two full names share the
--      last word ("Donald Trump", "Melania Trump"), the short name stays.
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

-- ---------------------------------------------------------------- statements
-- week is the ISO week in UTC whatever the session's TimeZone (an analyst's DuckDB CLI uses the local
-- zone; strftime on a TIMESTAMPTZ follows it).
CREATE OR REPLACE VIEW v_statements AS
SELECT
    s.statement_id,
    s.article_id,
    coalesce(n.canonical, s.speaker) AS speaker,
    s.speaker AS speaker_in_article,
    s.speaker_mention,
    s.speaker_type,
    s.speaker_role,
    s.kind,
    s.cue,
    s.cue_lemma,
    s.quote,
    s.sentence,
    s.topics,
    -- Why the statement has its topics, one clause per matched phrase (statements.topic_evidence as text).
    array_to_string(
        list_transform(s.topic_evidence, lambda e: e.topic || ': ' || e.rule || ' "' || e.phrase || '" in ' || e.place),
        '; '
    ) AS topic_evidence,
    s.entities,
    a.publisher,
    a.published_at,
    strftime(timezone('UTC', coalesce(a.published_at, a.fetched_at)), '%G-W%V') AS week,
    a.title,
    a.url,
    a.feed_url,
    a.fetched_at,
    a.text_source,
    s.extractor_version
FROM statements s
JOIN articles a USING (article_id)
LEFT JOIN v_speaker_names n ON n.name = s.speaker;

COMMENT ON VIEW v_statements IS 'One row per statement joined with its article; speaker is canonical across articles. Start here.';
COMMENT ON COLUMN v_statements.statement_id IS 'statements.statement_id.';
COMMENT ON COLUMN v_statements.article_id IS 'articles.article_id.';
COMMENT ON COLUMN v_statements.speaker IS 'Canonical speaker across articles (v_speaker_names); NULL when no speaker was found.';
COMMENT ON COLUMN v_statements.speaker_in_article IS 'Speaker name canonical within the article (statements.speaker).';
COMMENT ON COLUMN v_statements.speaker_mention IS 'The speaker as written at the cue.';
COMMENT ON COLUMN v_statements.speaker_type IS 'person, organization, unnamed, document (a document without a named author), pronoun or unknown.';
COMMENT ON COLUMN v_statements.speaker_role IS 'Role or title given in the text.';
COMMENT ON COLUMN v_statements.kind IS 'direct, indirect, mixed, according_to or floating.';
COMMENT ON COLUMN v_statements.cue IS 'Reporting verb or phrase as written.';
COMMENT ON COLUMN v_statements.cue_lemma IS 'Lemma of the cue verb.';
COMMENT ON COLUMN v_statements.quote IS 'What was said: the speaker''s words (a split quote''s pieces joined with " … ").';
COMMENT ON COLUMN v_statements.sentence IS 'The sentence(s) containing quote and cue.';
COMMENT ON COLUMN v_statements.topics IS 'Topic names from config.toml.';
COMMENT ON COLUMN v_statements.topic_evidence IS 'Why the statement has its topics: "topic: rule "phrase" in place" clauses joined by "; " (rule about, refers_to, all_of or pattern; place quote, sentence or context).';
COMMENT ON COLUMN v_statements.entities IS 'Entities mentioned inside the quote.';
COMMENT ON COLUMN v_statements.publisher IS 'Publisher.';
COMMENT ON COLUMN v_statements.published_at IS 'Publication time (UTC).';
COMMENT ON COLUMN v_statements.week IS 'ISO week (YYYY-Www) of published_at, or of fetched_at when the publication time is unknown.';
COMMENT ON COLUMN v_statements.title IS 'Headline.';
COMMENT ON COLUMN v_statements.url IS 'Article URL.';
COMMENT ON COLUMN v_statements.feed_url IS 'Feed the article came from.';
COMMENT ON COLUMN v_statements.fetched_at IS 'When the article was fetched (UTC).';
COMMENT ON COLUMN v_statements.text_source IS 'page or feed_summary (statements from a summary are less reliable).';
COMMENT ON COLUMN v_statements.extractor_version IS 'Extractor version that produced the statement.';

CREATE OR REPLACE VIEW v_speakers AS
WITH alias_lists AS (
    SELECT canonical, list(name ORDER BY name) AS aliases
    FROM v_speaker_names WHERE name <> canonical GROUP BY canonical
),
topic_lists AS (
    SELECT speaker, list(DISTINCT topic ORDER BY topic) AS topics
    FROM (SELECT speaker, unnest(topics) AS topic FROM v_statements WHERE speaker IS NOT NULL)
    GROUP BY speaker
)
SELECT
    v.speaker,
    mode(v.speaker_type ORDER BY v.speaker_type) AS speaker_type,
    coalesce(any_value(al.aliases), []) AS aliases,
    list(DISTINCT v.speaker_role ORDER BY v.speaker_role) FILTER (WHERE v.speaker_role IS NOT NULL) AS roles,
    count(*) AS statements,
    count(DISTINCT v.article_id) AS articles,
    count(DISTINCT v.publisher) AS publishers,
    min(v.published_at) AS first_seen,
    max(v.published_at) AS last_seen,
    coalesce(any_value(tl.topics), []) AS topics
FROM v_statements v
LEFT JOIN alias_lists al ON al.canonical = v.speaker
LEFT JOIN topic_lists tl ON tl.speaker = v.speaker
WHERE v.speaker IS NOT NULL
GROUP BY v.speaker;

COMMENT ON VIEW v_speakers IS 'One row per canonical speaker: aliases seen, roles, counts, first and last seen, topics.';
COMMENT ON COLUMN v_speakers.speaker IS 'Canonical speaker name.';
COMMENT ON COLUMN v_speakers.speaker_type IS 'Most frequent speaker_type.';
COMMENT ON COLUMN v_speakers.aliases IS 'Other names that resolve to this speaker.';
COMMENT ON COLUMN v_speakers.roles IS 'Roles or titles given in the texts.';
COMMENT ON COLUMN v_speakers.statements IS 'Number of statements.';
COMMENT ON COLUMN v_speakers.articles IS 'Number of articles with a statement by the speaker.';
COMMENT ON COLUMN v_speakers.publishers IS 'Number of publishers.';
COMMENT ON COLUMN v_speakers.first_seen IS 'Earliest published_at of a statement.';
COMMENT ON COLUMN v_speakers.last_seen IS 'Latest published_at of a statement.';
COMMENT ON COLUMN v_speakers.topics IS 'Topics of the speaker''s statements.';

-- ------------------------------------------------------------ quote clusters
-- Copies of one utterance (issue 17). storage/clusters.py assigns each statement to a cluster when it is
-- written; the rule: same canonical speaker (v_speaker_names; unnamed, pronoun and unknown speakers are
-- never grouped), and the shorter quote's words found in order in the longer one cover >= 80% of it
-- (after dropping punctuation, ellipses, and the pronouns and be/have/will forms that change between
-- direct and reported speech). A statement written before migration 008 and not yet assigned is a
-- cluster of its own here (its statement_id is its cluster_id).
CREATE OR REPLACE VIEW v_provenance AS
SELECT
    v.*,
    coalesce(c.cluster_id, v.statement_id) AS cluster_id,
    s.quote_start,
    s.quote_end,
    s.quote_spans,
    s.speaker_start,
    s.speaker_end,
    s.cue_start,
    s.cue_end,
    s.sentence_start,
    s.sentence_end,
    a.text AS article_text
FROM v_statements v
JOIN statements s USING (statement_id)
JOIN articles a ON a.article_id = v.article_id
LEFT JOIN quote_clusters c ON c.statement_id = v.statement_id;

COMMENT ON VIEW v_provenance IS 'v_statements with each statement''s quote cluster, the article text and the character offsets of quote, speaker mention, cue and sentence in it: what is needed to show a statement in its article (saidwhat show, saidwhat web).';
COMMENT ON COLUMN v_provenance.statement_id IS 'statements.statement_id.';
COMMENT ON COLUMN v_provenance.article_id IS 'articles.article_id.';
COMMENT ON COLUMN v_provenance.speaker IS 'Canonical speaker across articles (v_speaker_names); NULL when no speaker was found.';
COMMENT ON COLUMN v_provenance.speaker_in_article IS 'Speaker name canonical within the article (statements.speaker).';
COMMENT ON COLUMN v_provenance.speaker_mention IS 'The speaker as written at the cue.';
COMMENT ON COLUMN v_provenance.speaker_type IS 'person, organization, unnamed, document (a document without a named author), pronoun or unknown.';
COMMENT ON COLUMN v_provenance.speaker_role IS 'Role or title given in the text.';
COMMENT ON COLUMN v_provenance.kind IS 'direct, indirect, mixed, according_to or floating.';
COMMENT ON COLUMN v_provenance.cue IS 'Reporting verb or phrase as written.';
COMMENT ON COLUMN v_provenance.cue_lemma IS 'Lemma of the cue verb.';
COMMENT ON COLUMN v_provenance.quote IS 'What was said.';
COMMENT ON COLUMN v_provenance.sentence IS 'The sentence(s) containing quote and cue.';
COMMENT ON COLUMN v_provenance.topics IS 'Topic names from config.toml.';
COMMENT ON COLUMN v_provenance.topic_evidence IS 'Why the statement has its topics (v_statements.topic_evidence).';
COMMENT ON COLUMN v_provenance.entities IS 'Entities mentioned inside the quote.';
COMMENT ON COLUMN v_provenance.publisher IS 'Publisher.';
COMMENT ON COLUMN v_provenance.published_at IS 'Publication time (UTC).';
COMMENT ON COLUMN v_provenance.week IS 'ISO week (YYYY-Www) of published_at, or of fetched_at when the publication time is unknown.';
COMMENT ON COLUMN v_provenance.title IS 'Headline.';
COMMENT ON COLUMN v_provenance.url IS 'Article URL.';
COMMENT ON COLUMN v_provenance.feed_url IS 'Feed the article came from.';
COMMENT ON COLUMN v_provenance.fetched_at IS 'When the article was fetched (UTC).';
COMMENT ON COLUMN v_provenance.text_source IS 'page or feed_summary (statements from a summary are less reliable).';
COMMENT ON COLUMN v_provenance.extractor_version IS 'Extractor version that produced the statement.';
COMMENT ON COLUMN v_provenance.cluster_id IS 'The statement''s quote cluster (v_quotes.cluster_id).';
COMMENT ON COLUMN v_provenance.quote_start IS 'Start offset of the quote in article_text.';
COMMENT ON COLUMN v_provenance.quote_end IS 'End offset of the quote in article_text.';
COMMENT ON COLUMN v_provenance.quote_spans IS '[start, end] pairs of a quote in several pieces; NULL for one span.';
COMMENT ON COLUMN v_provenance.speaker_start IS 'Start offset of speaker_mention in article_text; NULL without a speaker.';
COMMENT ON COLUMN v_provenance.speaker_end IS 'End offset of speaker_mention in article_text.';
COMMENT ON COLUMN v_provenance.cue_start IS 'Start offset of the cue in article_text.';
COMMENT ON COLUMN v_provenance.cue_end IS 'End offset of the cue in article_text.';
COMMENT ON COLUMN v_provenance.sentence_start IS 'Start offset of the sentence(s) in article_text.';
COMMENT ON COLUMN v_provenance.sentence_end IS 'End offset of the sentence(s) in article_text.';
COMMENT ON COLUMN v_provenance.article_text IS 'articles.text, the text the offsets point into.';

CREATE OR REPLACE VIEW v_quotes AS
WITH members AS (
    SELECT v.*, coalesce(c.cluster_id, v.statement_id) AS cluster_id, coalesce(v.published_at, v.fetched_at) AS seen_at
    FROM v_statements v
    LEFT JOIN quote_clusters c ON c.statement_id = v.statement_id
)
SELECT
    cluster_id,
    mode(speaker ORDER BY speaker) AS speaker,
    coalesce(
        first(quote ORDER BY length(quote) DESC, seen_at, statement_id) FILTER (WHERE kind = 'direct'),
        first(quote ORDER BY seen_at, statement_id)
    ) AS quote,
    coalesce(
        first(statement_id ORDER BY length(quote) DESC, seen_at, statement_id) FILTER (WHERE kind = 'direct'),
        first(statement_id ORDER BY seen_at, statement_id)
    ) AS quote_statement_id,
    min(published_at) AS first_seen,
    max(published_at) AS last_seen,
    strftime(timezone('UTC', min(seen_at)), '%G-W%V') AS week,
    count(*) AS statements,
    count(DISTINCT article_id) AS articles,
    list(DISTINCT publisher ORDER BY publisher) AS publishers,
    list(DISTINCT kind ORDER BY kind) AS kinds,
    list_sort(list_distinct(flatten(list(topics)))) AS topics,
    list(statement_id ORDER BY seen_at, statement_id) AS statement_ids
FROM members
GROUP BY cluster_id;

COMMENT ON VIEW v_quotes IS 'One row per quote cluster: the copies of one utterance across articles and outlets, so it counts speech, not coverage. Rule: two statements share a cluster when they have the same canonical speaker (a person or organization; unnamed, pronoun and unknown speakers never share one) and at least 80% of the shorter quote''s words appear in order in the longer one (3 words at least; punctuation, quotation marks, ellipses, and the pronouns and be/have/will forms that change in reported speech are ignored). So identical, trimmed, re-punctuated and elided copies and small wording changes join; each new statement joins its closest earlier match when it is written.';
COMMENT ON COLUMN v_quotes.cluster_id IS 'Cluster id: the statement_id of the statement that started the cluster.';
COMMENT ON COLUMN v_quotes.speaker IS 'Canonical speaker (the most frequent among the members when aliases have since changed).';
COMMENT ON COLUMN v_quotes.quote IS 'Representative wording: the longest direct quote among the members, else the earliest statement''s quote.';
COMMENT ON COLUMN v_quotes.quote_statement_id IS 'The statement the representative wording comes from.';
COMMENT ON COLUMN v_quotes.first_seen IS 'Earliest published_at among the members.';
COMMENT ON COLUMN v_quotes.last_seen IS 'Latest published_at among the members.';
COMMENT ON COLUMN v_quotes.week IS 'ISO week (YYYY-Www, UTC) in which the cluster was first seen (fetched_at when no publication time is known).';
COMMENT ON COLUMN v_quotes.statements IS 'Number of statements in the cluster.';
COMMENT ON COLUMN v_quotes.articles IS 'Number of articles carrying it.';
COMMENT ON COLUMN v_quotes.publishers IS 'Publishers carrying it.';
COMMENT ON COLUMN v_quotes.kinds IS 'Kinds of the members (direct, indirect, ...).';
COMMENT ON COLUMN v_quotes.topics IS 'Topics of any member.';
COMMENT ON COLUMN v_quotes.statement_ids IS 'The members'' statement ids, earliest first.';

COMMENT ON TABLE quote_clusters IS 'The quote cluster of each statement, assigned in the transaction that writes the statement (storage/clusters.py).';
COMMENT ON COLUMN quote_clusters.statement_id IS 'statements.statement_id (key).';
COMMENT ON COLUMN quote_clusters.cluster_id IS 'Cluster id: the statement_id of the statement that started the cluster.';
COMMENT ON COLUMN quote_clusters.match_score IS 'Share of the shorter quote''s words found in order in the closest earlier member; 1 for the statement that started the cluster.';
COMMENT ON COLUMN quote_clusters.assigned_at IS 'When the statement was assigned (UTC).';

-- -------------------------------------------------------------------- macros
CREATE OR REPLACE MACRO said_about(topic) AS TABLE
    SELECT * FROM v_statements
    WHERE list_contains(topics, topic)
    ORDER BY published_at NULLS LAST, speaker, statement_id;

-- The one speaker-matching rule: `saidwhat who --speaker` filters with this macro too.
CREATE OR REPLACE MACRO said_by(who) AS TABLE
    SELECT * FROM v_statements
    WHERE lower(speaker) = lower(trim(who))
       OR speaker IN (SELECT canonical FROM v_speaker_names WHERE lower(name) = lower(trim(who)))
       OR regexp_matches(
              speaker,
              '(?i)(^|[^[:alnum:]])' || regexp_escape(regexp_replace(trim(who), '\s+', ' ', 'g')) || '($|[^[:alnum:]])'
          )
    ORDER BY published_at NULLS LAST, speaker, statement_id;

COMMENT ON MACRO TABLE said_about IS 'said_about(topic): v_statements rows tagged with the topic, by published_at then speaker.';
COMMENT ON MACRO TABLE said_by IS 'said_by(who): v_statements rows whose canonical speaker is who, has who as an alias, or contains who as whole words (said_by(''Putin''), said_by(''vladimir putin'')); case-insensitive.';

-- -------------------------------------------------------------------- tables
COMMENT ON TABLE schema_version IS 'One row per applied migration (storage/migrations/NNN_name.sql).';
COMMENT ON COLUMN schema_version.version IS 'Migration number.';
COMMENT ON COLUMN schema_version.name IS 'Migration file name without number and extension.';
COMMENT ON COLUMN schema_version.applied_at IS 'When the migration was applied.';

COMMENT ON TABLE feeds IS 'Configured feeds with their HTTP cache state and health.';
COMMENT ON COLUMN feeds.feed_url IS 'Feed URL (key).';
COMMENT ON COLUMN feeds.name IS 'Feed name from config.toml.';
COMMENT ON COLUMN feeds.publisher IS 'Publisher credited for the feed''s articles.';
COMMENT ON COLUMN feeds.etag IS 'Last ETag, sent as If-None-Match.';
COMMENT ON COLUMN feeds.last_modified IS 'Last Last-Modified, sent as If-Modified-Since.';
COMMENT ON COLUMN feeds.body_hash IS 'SHA-256 of the last feed body (unchanged bodies are not re-parsed).';
COMMENT ON COLUMN feeds.last_polled_at IS 'Last poll attempt (UTC).';
COMMENT ON COLUMN feeds.last_ok_at IS 'Last successful poll (UTC).';
COMMENT ON COLUMN feeds.consecutive_failures IS 'Failed polls in a row; reset by a success.';
COMMENT ON COLUMN feeds.healthy IS 'False once consecutive_failures reaches [fetch] unhealthy_after_failures.';
COMMENT ON COLUMN feeds.last_error IS 'Message of the last failed poll.';
COMMENT ON COLUMN feeds.next_poll_after IS 'A failing feed is not polled before this time (backoff).';

COMMENT ON TABLE runs IS 'One row per ingest run.';
COMMENT ON COLUMN runs.run_id IS 'Run id: UTC start time and a random suffix.';
COMMENT ON COLUMN runs.started_at IS 'Start time (UTC).';
COMMENT ON COLUMN runs.finished_at IS 'End time (UTC); NULL while running or if the run died.';
COMMENT ON COLUMN runs.status IS 'running, completed, completed_with_errors, failed, interrupted (the process died; set by the next run) or cancelled (stopped by SIGTERM or SIGINT).';
COMMENT ON COLUMN runs.feeds_polled IS 'Feeds polled successfully.';
COMMENT ON COLUMN runs.new_articles IS 'Articles added.';
COMMENT ON COLUMN runs.new_statements IS 'Statements written by this run.';
COMMENT ON COLUMN runs.errors IS 'Rows this run added to fetch_errors.';
COMMENT ON COLUMN runs.message IS 'Why a run failed, was interrupted or was cancelled (the signal that stopped it, e.g. "stopped by SIGTERM").';
COMMENT ON COLUMN runs.feeds IS 'Feed URLs the run polled (its run lock: on the ducklake backend, runs on other feeds go on at the same time).';

COMMENT ON TABLE articles IS 'One row per article (deduplicated by canonical URL and page text), with its text.';
COMMENT ON COLUMN articles.article_id IS 'First 16 hex digits of SHA-1 of canonical_url (key).';
COMMENT ON COLUMN articles.url IS 'The URL the feed item pointed to (after Google News decoding).';
COMMENT ON COLUMN articles.canonical_url IS 'URL without tracking parameters; unique.';
COMMENT ON COLUMN articles.feed_url IS 'Feed through which the article was first seen.';
COMMENT ON COLUMN articles.guid IS 'GUID of that feed item.';
COMMENT ON COLUMN articles.title IS 'Headline (page title, else feed item title).';
COMMENT ON COLUMN articles.authors IS 'Bylines.';
COMMENT ON COLUMN articles.publisher IS 'Publisher of the feed the article came from.';
COMMENT ON COLUMN articles.published_at IS 'Publication time (UTC) from the feed item or the page.';
COMMENT ON COLUMN articles.fetched_at IS 'When the text was fetched (UTC).';
COMMENT ON COLUMN articles.text IS 'Article text: page text from trafilatura, or feed title + summary.';
COMMENT ON COLUMN articles.text_source IS 'page or feed_summary.';
COMMENT ON COLUMN articles.text_hash IS 'SHA-256 of the whitespace-normalised text.';
COMMENT ON COLUMN articles.fallback_reason IS 'Why the feed summary was used instead of the page.';
COMMENT ON COLUMN articles.page_attempts IS 'Page fetch attempts so far.';
COMMENT ON COLUMN articles.run_id IS 'Run that added the article.';
COMMENT ON COLUMN articles.extractor_version IS 'nlp.EXTRACTOR_VERSION of the last NLP pass; NULL before the first.';
COMMENT ON COLUMN articles.processed_at IS 'When the NLP last ran on this article (UTC).';

COMMENT ON TABLE article_sources IS 'Every feed item (and URL variant) that led to an article.';
COMMENT ON COLUMN article_sources.feed_url IS 'Feed URL.';
COMMENT ON COLUMN article_sources.guid IS 'Item GUID in that feed.';
COMMENT ON COLUMN article_sources.url IS 'Item link.';
COMMENT ON COLUMN article_sources.article_id IS 'The stored article (articles.article_id).';
COMMENT ON COLUMN article_sources.seen_at IS 'First time the item was seen (UTC).';

COMMENT ON TABLE mentions IS 'Named entities found in article texts.';
COMMENT ON COLUMN mentions.article_id IS 'articles.article_id.';
COMMENT ON COLUMN mentions.start_char IS 'Start offset in articles.text.';
COMMENT ON COLUMN mentions.end_char IS 'End offset in articles.text.';
COMMENT ON COLUMN mentions.text IS 'Entity as written.';
COMMENT ON COLUMN mentions.label IS 'spaCy entity label (PERSON, ORG, GPE, ...).';
COMMENT ON COLUMN mentions.canonical IS 'Canonical name within the article.';

COMMENT ON TABLE statements IS 'One row per attributed statement; offsets are character offsets into articles.text.';
COMMENT ON COLUMN statements.statement_id IS 'Hash of article_id, quote span and extractor_version (key).';
COMMENT ON COLUMN statements.article_id IS 'articles.article_id.';
COMMENT ON COLUMN statements.quote IS 'The speaker''s words: the pieces of a split quote joined with " … ", never the reporter''s words between them.';
COMMENT ON COLUMN statements.quote_start IS 'Start offset of the quote.';
COMMENT ON COLUMN statements.quote_end IS 'End offset of the quote.';
COMMENT ON COLUMN statements.quote_spans IS '[start, end] pairs of a discontinuous quote; NULL for one span.';
COMMENT ON COLUMN statements.kind IS 'direct, indirect, mixed, according_to or floating.';
COMMENT ON COLUMN statements.speaker IS 'Speaker name, canonical within the article (v_statements.speaker is canonical across articles).';
COMMENT ON COLUMN statements.speaker_mention IS 'The speaker as written at the cue ("he", "the Kremlin spokesman").';
COMMENT ON COLUMN statements.speaker_start IS 'Start offset of speaker_mention.';
COMMENT ON COLUMN statements.speaker_end IS 'End offset of speaker_mention.';
COMMENT ON COLUMN statements.speaker_type IS 'person, organization, unnamed, document (a document without a named author), pronoun or unknown.';
COMMENT ON COLUMN statements.speaker_role IS 'Role or title given in the text ("Kremlin spokesman").';
COMMENT ON COLUMN statements.cue IS 'Reporting verb or phrase as written ("told reporters").';
COMMENT ON COLUMN statements.cue_lemma IS 'Lemma of the cue verb; ":" for a colon attribution.';
COMMENT ON COLUMN statements.cue_start IS 'Start offset of the cue.';
COMMENT ON COLUMN statements.cue_end IS 'End offset of the cue.';
COMMENT ON COLUMN statements.sentence IS 'The sentence(s) containing quote and cue.';
COMMENT ON COLUMN statements.sentence_start IS 'Start offset of the sentence.';
COMMENT ON COLUMN statements.sentence_end IS 'End offset of the sentence.';
COMMENT ON COLUMN statements.entities IS 'Canonical names of entities mentioned inside the quote.';
COMMENT ON COLUMN statements.topics IS 'Topic names from config.toml; recomputed by `saidwhat retag`.';
COMMENT ON COLUMN statements.topic_evidence IS 'Per topic in topics, the phrases that matched: topic, rule (about, refers_to, all_of, pattern), phrase as written, place (quote, sentence, context); recomputed by `saidwhat retag`.';
COMMENT ON COLUMN statements.extractor_version IS 'nlp.EXTRACTOR_VERSION that produced the row; `saidwhat reprocess` replaces stale ones.';
COMMENT ON COLUMN statements.created_at IS 'When the row was written (UTC).';
COMMENT ON COLUMN statements.rule IS 'The extraction rule that produced the statement (clause, quote_cue, according_to, ...; see nlp/attribution.py RULES).';
COMMENT ON COLUMN statements.nested_in IS 'statement_id of the statement this one is reported inside (nested speech, kept only with [nlp] nested = true); NULL for a top-level statement.';

COMMENT ON TABLE speaker_aliases IS 'Alias -> canonical speaker name, from the NLP (first sighting wins) and from [speakers.aliases] in config.toml (always wins).';
COMMENT ON COLUMN speaker_aliases.alias IS 'A name as written or resolved in one article ("Trump") (key).';
COMMENT ON COLUMN speaker_aliases.canonical IS 'The name it stands for ("Donald Trump").';
COMMENT ON COLUMN speaker_aliases.source IS 'nlp or config.';

COMMENT ON TABLE fetch_errors IS 'Everything that went wrong while polling, fetching, extracting or storing.';
COMMENT ON COLUMN fetch_errors.run_id IS 'runs.run_id.';
COMMENT ON COLUMN fetch_errors.occurred_at IS 'When (UTC).';
COMMENT ON COLUMN fetch_errors.feed_url IS 'Feed concerned, if any.';
COMMENT ON COLUMN fetch_errors.url IS 'Page concerned, if any.';
COMMENT ON COLUMN fetch_errors.stage IS 'feed, resolve, page, extract, nlp or store.';
COMMENT ON COLUMN fetch_errors.error_class IS 'Error type.';
COMMENT ON COLUMN fetch_errors.message IS 'Error message (first 2000 characters).';

-- --------------------------------------------------------------- topic labels
COMMENT ON TABLE topic_labels IS 'Analysts'' judgements of topic assignments (`saidwhat label`); `saidwhat topics report` scores the topic definitions against them. reprocess and retag never touch this table.';
COMMENT ON COLUMN topic_labels.statement_id IS 'The statement judged (statements.statement_id when it was labelled).';
COMMENT ON COLUMN topic_labels.topic IS 'Topic name.';
COMMENT ON COLUMN topic_labels.label IS 'True: the statement is about the topic; false: it is not.';
COMMENT ON COLUMN topic_labels.article_id IS 'The statement''s article, kept so the label finds the statement again after `saidwhat reprocess` renames it.';
COMMENT ON COLUMN topic_labels.quote IS 'The statement''s quote when it was labelled (same purpose).';
COMMENT ON COLUMN topic_labels.source IS 'cli, or the CSV file the label was imported from.';
COMMENT ON COLUMN topic_labels.labelled_at IS 'When the label was recorded (UTC); a later label of the same statement and topic replaces it.';
