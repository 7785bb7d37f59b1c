-- Accounts, sessions, one-time tokens, 2FA, OAuth identities, the audit log and the email outbox.
-- Secrets are never stored in the clear: session secrets and one-time tokens as SHA-256, passwords as
-- argon2id, TOTP seeds encrypted (AES-256-GCM envelope, see supervisor/secrets).

CREATE TABLE users (
  id TEXT PRIMARY KEY,                                 -- uuid
  email TEXT NOT NULL COLLATE NOCASE UNIQUE,           -- stored lower-cased
  email_verified_at INTEGER,
  password_hash TEXT,                                  -- NULL for accounts created through GitHub
  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  tenant_id TEXT NOT NULL UNIQUE REFERENCES tenants (id),
  totp_secret TEXT,                                    -- encrypted; set by 2fa/setup, active once totp_enabled_at
  totp_enabled_at INTEGER,
  totp_last_step INTEGER,                              -- the last accepted TOTP time step: a code is never accepted twice
  created_at INTEGER NOT NULL,
  deleted_at INTEGER,
  purge_after INTEGER
) STRICT;

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,                                 -- the public half of the token
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  secret_hash BLOB NOT NULL,                           -- SHA-256 of the secret half
  created_at INTEGER NOT NULL,
  last_verified_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Single-use tokens mailed or handed to a user: email verification, password reset, email change,
-- the pending second login step.
CREATE TABLE user_tokens (
  token_hash BLOB PRIMARY KEY,                         -- SHA-256 of the token
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email', 'login_2fa')),
  email TEXT,                                          -- the address a verify/change token is for
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) STRICT;
CREATE INDEX user_tokens_by_user ON user_tokens (user_id, purpose);

CREATE TABLE recovery_codes (
  id INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash BLOB NOT NULL UNIQUE,                      -- SHA-256; codes carry 120 random bits
  used_at INTEGER
) STRICT;

CREATE TABLE oauth_identities (
  provider TEXT NOT NULL,
  provider_user_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (provider, provider_user_id)
) STRICT;

-- Self-host invitations (REGISTRATION=invite), created by the admin CLI.
CREATE TABLE invites (
  token_hash BLOB PRIMARY KEY,
  email TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  used_by TEXT REFERENCES users (id) ON DELETE SET NULL
) STRICT;

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  user_id TEXT,                                        -- kept after deletion, on purpose
  action TEXT NOT NULL,
  ip TEXT,
  detail TEXT                                          -- JSON, never a secret
) STRICT;
CREATE INDEX audit_log_by_user ON audit_log (user_id, at);

-- The durable outbox: a mail is committed with the change that caused it, then sent by one loop.
CREATE TABLE email_outbox (
  id INTEGER PRIMARY KEY,
  to_address TEXT NOT NULL,
  template TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
) STRICT;
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'queued';
