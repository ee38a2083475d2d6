-- The core model: feeds are polled, items become articles, articles yield
-- entity mentions and attributed statements. All times are UTC.

CREATE TABLE feeds (
    feed_url             VARCHAR PRIMARY KEY,
    name                 VARCHAR NOT NULL,
    publisher            VARCHAR NOT NULL,
    etag                 VARCHAR,
    last_modified        VARCHAR,
    body_hash            VARCHAR,
    last_polled_at       TIMESTAMPTZ,
    last_ok_at           TIMESTAMPTZ,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    healthy              BOOLEAN NOT NULL DEFAULT TRUE,
    last_error           VARCHAR,
    next_poll_after      TIMESTAMPTZ
);

CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,   -- running | completed | completed_with_errors | failed
    feeds_polled    INTEGER NOT NULL DEFAULT 0,
    new_articles    INTEGER NOT NULL DEFAULT 0,
    new_statements  INTEGER NOT NULL DEFAULT 0,
    errors          INTEGER NOT NULL DEFAULT 0,
    message         VARCHAR
);

CREATE TABLE articles (
    article_id        VARCHAR PRIMARY KEY,     -- hash of canonical_url
    url               VARCHAR NOT NULL,        -- the URL the item pointed to
    canonical_url     VARCHAR NOT NULL UNIQUE,
    feed_url          VARCHAR NOT NULL,
    guid              VARCHAR NOT NULL,
    title             VARCHAR,
    authors           VARCHAR[],
    publisher         VARCHAR NOT NULL,
    published_at      TIMESTAMPTZ,
    fetched_at        TIMESTAMPTZ NOT NULL,
    text              VARCHAR NOT NULL,
    text_source       VARCHAR NOT NULL,        -- page | feed_summary
    text_hash         VARCHAR NOT NULL,
    fallback_reason   VARCHAR,                 -- why the feed summary was used
    page_attempts     INTEGER NOT NULL DEFAULT 1,
    run_id            VARCHAR,
    extractor_version VARCHAR,                 -- NULL until the NLP has run
    processed_at      TIMESTAMPTZ
);

-- Every feed item and URL variant that led to an article, so that the next
-- run recognises it without fetching anything.
CREATE TABLE article_sources (
    feed_url    VARCHAR NOT NULL,
    guid        VARCHAR NOT NULL,
    url         VARCHAR,
    article_id  VARCHAR NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (feed_url, guid)
);

CREATE TABLE mentions (
    article_id  VARCHAR NOT NULL,
    start_char  INTEGER NOT NULL,
    end_char    INTEGER NOT NULL,
    text        VARCHAR NOT NULL,
    label       VARCHAR NOT NULL,
    canonical   VARCHAR NOT NULL,
    PRIMARY KEY (article_id, start_char, end_char, label)
);

CREATE TABLE statements (
    statement_id      VARCHAR PRIMARY KEY,     -- hash of (article_id, quote span, extractor_version)
    article_id        VARCHAR NOT NULL,
    quote             VARCHAR NOT NULL,
    quote_start       INTEGER NOT NULL,
    quote_end         INTEGER NOT NULL,
    quote_spans       INTEGER[][],
    kind              VARCHAR NOT NULL,
    speaker           VARCHAR,                 -- canonical within the article
    speaker_mention   VARCHAR,
    speaker_start     INTEGER,
    speaker_end       INTEGER,
    speaker_type      VARCHAR NOT NULL,
    speaker_role      VARCHAR,
    cue               VARCHAR,
    cue_lemma         VARCHAR,
    cue_start         INTEGER,
    cue_end           INTEGER,
    sentence          VARCHAR NOT NULL,
    sentence_start    INTEGER NOT NULL,
    sentence_end      INTEGER NOT NULL,
    entities          VARCHAR[],
    topics            VARCHAR[] NOT NULL DEFAULT [],
    extractor_version VARCHAR NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL
);

-- Speaker names seen as aliases of a canonical name, across articles
-- ("Trump" -> "Donald Trump"); source is 'nlp' or 'config'.
CREATE TABLE speaker_aliases (
    alias      VARCHAR PRIMARY KEY,
    canonical  VARCHAR NOT NULL,
    source     VARCHAR NOT NULL
);

CREATE TABLE fetch_errors (
    run_id       VARCHAR,
    occurred_at  TIMESTAMPTZ NOT NULL,
    feed_url     VARCHAR,
    url          VARCHAR,
    stage        VARCHAR NOT NULL,   -- feed | page | extract | nlp | store
    error_class  VARCHAR NOT NULL,
    message      VARCHAR NOT NULL
);
