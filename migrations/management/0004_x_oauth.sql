-- "Connect X" attempts in flight: the OAuth state (as SHA-256) bound to the session that started it,
-- with its PKCE verifier sealed. Single-use, 10 minutes.
CREATE TABLE x_oauth_states (
  state_hash BLOB PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  code_verifier TEXT NOT NULL,               -- sealed for the user's tenant, field x_pkce_verifier
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) STRICT;
CREATE INDEX x_oauth_states_by_user ON x_oauth_states (user_id, created_at);
