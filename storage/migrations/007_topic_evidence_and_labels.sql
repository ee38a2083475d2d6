-- 007: why each statement has its topics, and the analysts' judgements of topic assignments.
-- topic_evidence is recomputed by `saidwhat retag`; topic_labels is written only by `saidwhat label`
-- (reprocess and retag never touch it). A label keeps the statement's article and quote, so that it
-- still finds its statement after `saidwhat reprocess` has given the statement a new id.
ALTER TABLE statements ADD COLUMN topic_evidence STRUCT(topic VARCHAR, rule VARCHAR, phrase VARCHAR, place VARCHAR)[];

CREATE TABLE topic_labels (
    statement_id VARCHAR NOT NULL,
    topic        VARCHAR NOT NULL,
    label        BOOLEAN NOT NULL,
    article_id   VARCHAR,
    quote        VARCHAR,
    source       VARCHAR NOT NULL,
    labelled_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (statement_id, topic)
);
