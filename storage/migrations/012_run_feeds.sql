-- 012: the feeds each run polls. On the DuckLake backend runs on different feeds go on at the same
-- time, so a new run marks as interrupted only earlier 'running' runs on its own feeds (which it can
-- only have started after their holders died: it holds those feeds' run locks).
ALTER TABLE runs ADD COLUMN feeds VARCHAR[];
