-- Runs stopped by SIGTERM or SIGINT are recorded as 'cancelled' (issue 19); the
-- comments say which statuses exist and what the message holds.
COMMENT ON COLUMN runs.status IS 'running, completed, completed_with_errors, failed, interrupted (the process died; set by the next run) or cancelled (stopped by SIGTERM or SIGINT).';
COMMENT ON COLUMN runs.message IS 'Why a run failed, was interrupted or was cancelled (the signal that stopped it, e.g. "stopped by SIGTERM").';
