-- Quote clusters: statements by the same canonical speaker whose words are the same utterance
-- (identical, trimmed, re-punctuated, with ellipses or small wording changes) share a cluster_id.
-- Filled by storage/clusters.py in the same transaction as the statements; a statement without a
-- row here (a database from before this migration) is assigned at the next write and shown as a
-- cluster of its own until then (v_quotes).
CREATE TABLE quote_clusters (
    statement_id VARCHAR PRIMARY KEY,
    cluster_id   VARCHAR NOT NULL,
    match_score  DOUBLE NOT NULL,
    assigned_at  TIMESTAMPTZ NOT NULL
);
