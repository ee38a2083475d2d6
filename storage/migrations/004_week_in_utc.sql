-- v_statements.week is the ISO week in UTC whatever the session's TimeZone
-- (an analyst's DuckDB CLI uses the local zone; strftime on a TIMESTAMPTZ
-- follows it). Replacing a view drops its comments, so they are set again.

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
COMMENT ON COLUMN v_statements.speaker_type IS 'person, organization, unnamed, pronoun or unknown.';
COMMENT ON COLUMN v_statements.speaker_role IS 'Role or title given in the text.';
COMMENT ON COLUMN v_statements.kind IS 'direct, indirect, mixed, according_to or floating.';
COMMENT ON COLUMN v_statements.cue IS 'Reporting verb or phrase as written.';
COMMENT ON COLUMN v_statements.cue_lemma IS 'Lemma of the cue verb.';
COMMENT ON COLUMN v_statements.quote IS 'What was said.';
COMMENT ON COLUMN v_statements.sentence IS 'The sentence(s) containing quote and cue.';
COMMENT ON COLUMN v_statements.topics IS 'Topic names from config.toml.';
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
