-- Billing: one Stripe customer per user, the subscription as we last learned it from Stripe, the Stripe
-- events already applied, the overage usage already reported and the billing mail already sent.
-- Stripe is the source of truth; these rows are its latest snapshot plus our own deadlines (grace, purge).

CREATE TABLE billing_customers (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  customer_id TEXT NOT NULL UNIQUE,                    -- cus_…, created once and reused
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE subscriptions (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL UNIQUE,
  subscription_id TEXT NOT NULL UNIQUE,                -- sub_…; a new checkout after an end replaces it
  plan TEXT NOT NULL CHECK (plan IN ('starter', 'growth', 'pro')),
  stripe_status TEXT NOT NULL,                         -- Stripe's own status, verbatim
  period_start INTEGER NOT NULL,                       -- current billing period, epoch ms
  period_end INTEGER NOT NULL,
  cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
  grace_until INTEGER,                                 -- past_due: automation runs until then
  ended_at INTEGER,                                    -- access ended (canceled, unpaid, grace expired)
  purge_after INTEGER,                                 -- tenant data is deleted after this instant
  purge_reminded_at INTEGER,
  purged_at INTEGER,
  overage_opt_in INTEGER NOT NULL DEFAULT 0,
  overage_cap_cents INTEGER,                           -- NULL = the default cap (see plans.ts)
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX subscriptions_grace ON subscriptions (grace_until) WHERE grace_until IS NOT NULL AND ended_at IS NULL;
CREATE INDEX subscriptions_purge ON subscriptions (purge_after) WHERE purge_after IS NOT NULL AND purged_at IS NULL;

-- A redelivered event finds its id here and changes nothing: inserted in the transaction of its effects.
CREATE TABLE stripe_events (
  id TEXT PRIMARY KEY,                                 -- evt_…
  type TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  outcome TEXT NOT NULL                                -- applied | ignored: <reason>
) STRICT;

-- Overage reported to Stripe's meter, once per subscription and period.
CREATE TABLE overage_reports (
  subscription_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  cost_cents INTEGER NOT NULL,                         -- what X charged us beyond the allowance
  charge_cents INTEGER NOT NULL,                       -- what the user is billed (cost plus margin)
  reported_at INTEGER,                                 -- NULL until Stripe accepted the meter event
  PRIMARY KEY (subscription_id, period_start)
) STRICT;

-- Billing mail that must go out once per cause (invoice id + attempt, grace expiry, purge reminder).
CREATE TABLE billing_notices (
  key TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  sent_at INTEGER NOT NULL
) STRICT;
