-- Which extraction rule produced each statement, and the statement a nested one is reported inside
-- (issue 12 item 6, issue 13 item 3). NULL for statements stored before this migration.
ALTER TABLE statements ADD COLUMN rule VARCHAR;
ALTER TABLE statements ADD COLUMN nested_in VARCHAR;

COMMENT ON COLUMN statements.rule IS 'The extraction rule that produced the statement (clause, quote_cue, according_to, ...; see nlp/attribution.py RULES).';
COMMENT ON COLUMN statements.nested_in IS 'statement_id of the statement this one is reported inside (nested speech); NULL for a top-level statement.';
COMMENT ON COLUMN statements.quote IS 'The speaker''s words: the pieces of a split quote joined with " … ", never the reporter''s words between them.';
