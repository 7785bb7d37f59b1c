-- The tenant's X account: who it is and its OAuth tokens, sealed (AES-256-GCM, see protocol/secret-box.ts).
-- One row; a disconnect keeps the identity and the reason (for the dashboard) and deletes the tokens.
CREATE TABLE x_connection (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  x_user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  name TEXT NOT NULL,
  access_token TEXT,                         -- sealed, field x_access_token
  refresh_token TEXT,                        -- sealed, field x_refresh_token
  expires_at INTEGER,                        -- epoch ms
  scope TEXT,
  status TEXT NOT NULL CHECK (status IN ('connected', 'disconnected')),
  connected_at INTEGER NOT NULL,
  disconnected_at INTEGER,
  disconnected_reason TEXT,                  -- user | invalid_grant | revoked
  updated_at INTEGER NOT NULL
) STRICT;
