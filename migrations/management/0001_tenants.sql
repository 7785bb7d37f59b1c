-- The tenant registry: what the supervisor knows about every tenant without opening its DB.
-- Times are epoch milliseconds (UTC) everywhere.
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,                       -- uuid; also the name of data/tenants/<id>.db
  status TEXT NOT NULL DEFAULT 'ready'
    CHECK (status IN ('ready', 'quarantined', 'stopped')),
  created_at INTEGER NOT NULL,
  ceilings TEXT,                             -- JSON plan ceilings; NULL = none (self-host)
  next_alarm_at INTEGER,                     -- when the scheduler must wake it; NULL = nothing due
  last_active_at INTEGER,                    -- end of the last activation
  quarantined_at INTEGER,
  quarantine_reason TEXT
) STRICT;

-- The scheduler asks "who is due next" continuously.
CREATE INDEX tenants_due ON tenants (next_alarm_at) WHERE status = 'ready' AND next_alarm_at IS NOT NULL;

-- Every crash the watchdog saw, for the restart budget and for operators.
CREATE TABLE tenant_crashes (
  id INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('error', 'out_of_memory', 'unresponsive', 'exit')),
  message TEXT NOT NULL
) STRICT;

CREATE INDEX tenant_crashes_by_tenant ON tenant_crashes (tenant_id, at);
