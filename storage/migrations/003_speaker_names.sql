-- 003 replaced v_speaker_names (possessives, lower-case NLP aliases).
-- Views now live in storage/views.sql, re-applied after every migration run;
-- this migration is kept so that version numbers stay stable for existing databases.
SELECT 1;
