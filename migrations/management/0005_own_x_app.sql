-- A user's own X app (cloud users may bring one, so X bills them and no allowance applies).
CREATE TABLE x_own_apps (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  client_secret TEXT,                        -- sealed for the user's tenant, field x_client_secret; NULL = public client
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- Which app a "Connect X" attempt started with: it must finish with the same one.
ALTER TABLE x_oauth_states ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
