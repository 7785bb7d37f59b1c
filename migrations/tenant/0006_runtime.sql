-- The automation runtime's data: what it found, what it posted, what waits for the user, and what it
-- measured. Times are epoch ms (UTC) everywhere; `day` columns are calendar keys in the tenant's zone.
-- Tables that hold things that exist at X (replies, original_tweets, thread_tweets) only ever get a row
-- once X has answered with an id, so "posted" always means "has an X id".

-- The accounts whose posts the target job answers; edited by the dashboard by username, resolved to an
-- X user id (and validated) by the job.
CREATE TABLE target_accounts (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL COLLATE NOCASE UNIQUE,
  x_user_id TEXT UNIQUE,
  status TEXT NOT NULL DEFAULT 'unresolved' CHECK (status IN ('unresolved', 'active', 'not_found')),
  since_id TEXT,                             -- newest post of theirs already seen
  replies_sent INTEGER NOT NULL DEFAULT 0,
  first_engagement_at INTEGER,
  last_reply_at INTEGER,
  last_checked_at INTEGER,
  added_at INTEGER NOT NULL,
  resolved_at INTEGER
) STRICT;

-- Every post the runtime considered answering: search results (scored), mentions and target posts.
-- `status` says how far it went, so a post skipped for a passing reason (a full day) can be looked at
-- again while it is fresh, instead of being written off the first time it was seen.
CREATE TABLE discovered_tweets (
  tweet_id TEXT PRIMARY KEY,
  source TEXT NOT NULL CHECK (source IN ('search', 'mention', 'target')),
  keyword TEXT,                              -- the search keyword that found it
  target_account_id INTEGER REFERENCES target_accounts (id) ON DELETE SET NULL,
  author_id TEXT NOT NULL,
  author_username TEXT NOT NULL,
  author_followers INTEGER,
  text TEXT NOT NULL,
  conversation_id TEXT,
  created_at INTEGER,                        -- when it was posted at X
  likes INTEGER NOT NULL DEFAULT 0,
  retweets INTEGER NOT NULL DEFAULT 0,
  replies INTEGER NOT NULL DEFAULT 0,
  quotes INTEGER NOT NULL DEFAULT 0,
  impressions INTEGER NOT NULL DEFAULT 0,
  score REAL,                                -- null: not scored (mentions and targets are not)
  score_breakdown TEXT,                      -- JSON {keyword, followers, recency, engagement, replies, contentType}
  matched_keywords TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'below_threshold', 'skipped', 'queued', 'replied', 'dismissed')),
  skip_reason TEXT,
  discovered_at INTEGER NOT NULL,
  evaluated_at INTEGER
) STRICT;
CREATE INDEX discovered_by_time ON discovered_tweets (discovered_at);
CREATE INDEX discovered_by_status ON discovered_tweets (status, discovered_at);

-- Our replies that exist at X. One per target post, enforced here: "never reply twice" holds even
-- against a bug in the guards.
CREATE TABLE replies (
  id INTEGER PRIMARY KEY,
  tweet_id TEXT NOT NULL UNIQUE,
  target_tweet_id TEXT NOT NULL UNIQUE,
  target_author_id TEXT NOT NULL,
  target_author_username TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('discovery', 'mention', 'target', 'manual')),
  content TEXT NOT NULL,
  mentions_product INTEGER NOT NULL DEFAULT 0 CHECK (mentions_product IN (0, 1)),
  archetype TEXT,
  score REAL,
  approval_id INTEGER,
  posted_at INTEGER NOT NULL
) STRICT;
CREATE INDEX replies_by_time ON replies (posted_at);
CREATE INDEX replies_by_author ON replies (target_author_id, posted_at);

-- Our standalone posts that exist at X.
CREATE TABLE original_tweets (
  id INTEGER PRIMARY KEY,
  tweet_id TEXT NOT NULL UNIQUE,
  content TEXT NOT NULL,
  topic TEXT,
  format TEXT,
  source TEXT NOT NULL CHECK (source IN ('content', 'scheduled', 'manual')),
  approval_id INTEGER,
  scheduled_id INTEGER,
  posted_at INTEGER NOT NULL
) STRICT;
CREATE INDEX original_tweets_by_time ON original_tweets (posted_at);

-- A thread is written whole (its parts below), then posted part by part as a reply chain; a part gets
-- its X id the moment X gives it, so a resumed thread continues where it stopped and never re-posts.
CREATE TABLE threads (
  id INTEGER PRIMARY KEY,
  topic TEXT,
  structure TEXT,
  source TEXT NOT NULL CHECK (source IN ('content', 'scheduled', 'manual')),
  status TEXT NOT NULL DEFAULT 'posting' CHECK (status IN ('posting', 'posted', 'partial', 'failed')),
  tweet_count INTEGER NOT NULL CHECK (tweet_count >= 1),
  posted_count INTEGER NOT NULL DEFAULT 0,
  root_tweet_id TEXT,
  approval_id INTEGER,
  scheduled_id INTEGER,
  claim_id INTEGER,                          -- action_claims row of the weekly thread limit
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  posted_at INTEGER                          -- when the last part went out
) STRICT;
CREATE INDEX threads_by_time ON threads (created_at);

CREATE TABLE thread_tweets (
  thread_id INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
  position INTEGER NOT NULL CHECK (position >= 0),
  content TEXT NOT NULL,
  tweet_id TEXT UNIQUE,
  posted_at INTEGER,
  PRIMARY KEY (thread_id, position)
) STRICT;

-- What waits for the user's decision, and then for the poster. `failed` is final until the user retries;
-- a passing failure keeps the item `approved` with a later `next_attempt_at` and the error shown.
-- `posting` is held while an intent is open (see post_intents), so a crash cannot post it twice.
CREATE TABLE approval_queue (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('reply', 'tweet', 'thread')),
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'approved', 'posting', 'posted', 'failed', 'rejected', 'expired')),
  content TEXT NOT NULL,                     -- the text; for a thread a JSON array of its parts
  media TEXT NOT NULL DEFAULT '[]',          -- JSON array of media references
  source TEXT NOT NULL CHECK (source IN ('discovery', 'mention', 'target', 'content', 'thread', 'compose', 'draft')),
  target_tweet_id TEXT,
  target_author_id TEXT,
  target_author_username TEXT,
  target_text TEXT,                          -- what is being answered, for the reviewer
  topic TEXT,
  format TEXT,                               -- reply archetype, tweet format or thread structure
  score REAL,
  mentions_product INTEGER NOT NULL DEFAULT 0 CHECK (mentions_product IN (0, 1)),
  not_before INTEGER,                        -- approved items wait until then (compose with a time)
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error TEXT,
  posted_tweet_id TEXT,                      -- for a thread, its first part
  thread_id INTEGER REFERENCES threads (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  reviewed_at INTEGER,
  posted_at INTEGER,
  CHECK (kind <> 'reply' OR target_tweet_id IS NOT NULL),
  CHECK (kind <> 'thread' OR (json_valid(content) AND json_type(content) = 'array'))
) STRICT;
CREATE INDEX approval_by_status ON approval_queue (status, id);
CREATE INDEX approval_by_time ON approval_queue (created_at);
-- A post gets at most one open reply in the queue.
CREATE UNIQUE INDEX approval_one_open_reply ON approval_queue (target_tweet_id)
  WHERE kind = 'reply' AND status IN ('pending', 'approved', 'posting');

-- The user's own tweets and threads: drafts, and scheduled items the scheduler posts at their time
-- (in both modes). A scheduled item always has its time: "next free slot" is resolved when scheduling.
CREATE TABLE scheduled_content (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('tweet', 'thread')),
  status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'posting', 'posted', 'failed', 'cancelled')),
  content TEXT NOT NULL,                     -- the text; for a thread a JSON array of its parts
  media TEXT NOT NULL DEFAULT '[]',
  source TEXT NOT NULL CHECK (source IN ('manual', 'assist', 'discovery')),
  topic TEXT,
  scheduled_for INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error TEXT,
  posted_tweet_id TEXT,
  thread_id INTEGER REFERENCES threads (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  posted_at INTEGER,
  CHECK (status NOT IN ('scheduled', 'posting') OR scheduled_for IS NOT NULL),
  CHECK (kind <> 'thread' OR (json_valid(content) AND json_type(content) = 'array'))
) STRICT;
CREATE INDEX scheduled_by_time ON scheduled_content (scheduled_for) WHERE scheduled_for IS NOT NULL;
CREATE INDEX scheduled_by_status ON scheduled_content (status, updated_at);

-- Crash safety: a post is announced here (committed) before X is called, and settled in the same
-- transaction that records its result. An intent still `pending` after a restart may or may not have
-- reached X; it is reconciled against our own timeline before anything else is posted for its source.
CREATE TABLE post_intents (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('reply', 'tweet', 'thread_tweet')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'failed')),
  text TEXT NOT NULL,
  in_reply_to TEXT,
  media_ids TEXT NOT NULL DEFAULT '[]',      -- X media ids, JSON array
  source TEXT NOT NULL,
  approval_id INTEGER REFERENCES approval_queue (id),
  scheduled_id INTEGER REFERENCES scheduled_content (id),
  thread_id INTEGER REFERENCES threads (id),
  position INTEGER,
  claim_id INTEGER,                          -- action_claims row to give back if nothing was posted
  context TEXT NOT NULL DEFAULT '{}',        -- JSON: what the posted row needs (author, topic, score…)
  x_tweet_id TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  settled_at INTEGER,
  CHECK (kind <> 'thread_tweet' OR (thread_id IS NOT NULL AND position IS NOT NULL))
) STRICT;
CREATE INDEX intents_open ON post_intents (created_at) WHERE status = 'pending';
CREATE UNIQUE INDEX intents_one_open_reply ON post_intents (in_reply_to) WHERE status = 'pending' AND kind = 'reply';

-- Public metrics of our posts, measured once they are a day old.
CREATE TABLE post_metrics (
  tweet_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('reply', 'tweet', 'thread')),
  likes INTEGER NOT NULL,
  retweets INTEGER NOT NULL,
  replies INTEGER NOT NULL,
  quotes INTEGER NOT NULL,
  impressions INTEGER NOT NULL,
  score REAL NOT NULL,
  gone INTEGER NOT NULL DEFAULT 0 CHECK (gone IN (0, 1)),  -- deleted at X before it was measured
  measured_at INTEGER NOT NULL
) STRICT;

-- Running mean of measured performance per topic and format; feeds topic selection and the report.
CREATE TABLE content_scores (
  topic TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  posts INTEGER NOT NULL,
  avg_score REAL NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (topic, format)
) WITHOUT ROWID, STRICT;

-- One snapshot of the account per tenant day (the last of the day wins).
CREATE TABLE follower_snapshots (
  day TEXT PRIMARY KEY,                      -- YYYY-MM-DD in the tenant's zone
  followers INTEGER NOT NULL,
  following INTEGER NOT NULL,
  tweets INTEGER NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

-- Positions in X's streams: `mentions` (since_id), `search:<keyword>` (since_id per keyword).
CREATE TABLE cursors (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

-- What the runtime did, in one vocabulary (runtime/action-log.ts): the activity feed, the status line
-- and the strategy report all count these rows.
CREATE TABLE action_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('reply', 'tweet', 'thread', 'search', 'mentions', 'targets', 'analytics', 'cleanup', 'strategy')),
  status TEXT NOT NULL CHECK (status IN ('success', 'failure', 'skipped', 'queued', 'partial', 'alert')),
  source TEXT NOT NULL,                      -- discovery | mention | target | content | thread | scheduled | approval | manual | system
  message TEXT NOT NULL,
  tweet_id TEXT,                             -- ours, when something was posted
  target_tweet_id TEXT,
  reason TEXT,                               -- the skip reason code, for `skipped`
  data TEXT                                  -- JSON details for the feed's chips
) STRICT;
CREATE INDEX action_log_by_action ON action_log (action, id);
CREATE INDEX action_log_by_status ON action_log (status, id);
CREATE INDEX action_log_by_time ON action_log (at);

-- The weekly strategy report, one per tenant week (Monday 00:00 in the tenant's zone).
CREATE TABLE strategy_reports (
  week_start INTEGER PRIMARY KEY,
  week_end INTEGER NOT NULL,
  metrics TEXT NOT NULL,                     -- JSON
  recommendations TEXT NOT NULL,             -- JSON array
  computed_at INTEGER NOT NULL
) STRICT;
