-- What the tenant spent and did, for plan ceilings and the X cost allowance.

-- Every billable X API call: what X charges for it (in micro-dollars, so a $0.005 read is 5000),
-- so the allowance is spent knowingly and overage is reported from facts, not estimates.
CREATE TABLE x_spend (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,                       -- epoch ms (UTC)
  kind TEXT NOT NULL CHECK (kind IN ('read', 'create', 'create_url', 'other')),
  endpoint TEXT NOT NULL,                    -- e.g. GET /2/tweets/search/recent
  units INTEGER NOT NULL,                    -- resources charged (posts returned, posts created)
  cost_micros INTEGER NOT NULL
) STRICT;
CREATE INDEX x_spend_by_time ON x_spend (at);

-- X charges a post read once per UTC day: the posts already paid for today.
CREATE TABLE x_reads_seen (
  day TEXT NOT NULL,                         -- UTC date, YYYY-MM-DD
  post_id TEXT NOT NULL,
  PRIMARY KEY (day, post_id)
) WITHOUT ROWID, STRICT;

-- Actions claimed against the daily/weekly limits (check-and-claim in one transaction).
CREATE TABLE action_claims (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('reply', 'tweet', 'thread')),
  at INTEGER NOT NULL,
  ref TEXT                                   -- what the claim is for (a reply's target tweet id, …)
) STRICT;
CREATE INDEX action_claims_by_kind ON action_claims (kind, at);

-- Notices the tenant gave the user once per window (allowance reached, …).
CREATE TABLE notices_given (
  key TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) STRICT;
