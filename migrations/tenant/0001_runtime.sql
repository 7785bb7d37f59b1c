-- The tenant's persisted job schedule: the runtime's loops are rows here, never in-memory sleeps,
-- so hibernation, restarts and crashes neither skip nor repeat work.
CREATE TABLE jobs (
  name TEXT PRIMARY KEY,
  next_run_at INTEGER NOT NULL,              -- epoch ms (UTC)
  paused_until INTEGER,                      -- set by the error breaker or by the user
  running_since INTEGER,                     -- set while a run is in progress; left behind by a crash
  consecutive_errors INTEGER NOT NULL DEFAULT 0,
  last_run_at INTEGER,
  last_ok_at INTEGER,
  last_error TEXT,
  last_error_at INTEGER
) STRICT;

-- Tenant settings as validated JSON values per key (the settings API arrives later).
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
