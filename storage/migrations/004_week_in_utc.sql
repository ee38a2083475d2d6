-- 004 made v_statements.week the ISO week in UTC.
-- Views now live in storage/views.sql, re-applied after every migration run;
-- this migration is kept so that version numbers stay stable for existing databases.
SELECT 1;
