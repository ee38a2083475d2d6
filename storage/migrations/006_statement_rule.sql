-- Which extraction rule produced each statement, and the statement a nested one is reported inside
-- (issue 12 item 6, issue 13 item 3). NULL for statements stored before this migration.
-- Their comments are in storage/views.sql.
ALTER TABLE statements ADD COLUMN rule VARCHAR;
ALTER TABLE statements ADD COLUMN nested_in VARCHAR;
