import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Stripe from 'stripe';
import t from 'tap';
import { tenantBackupDir } from '../../../supervisor/billing/purge-tenant.js';
import { GRACE_MS, PURGE_REMINDER_MS, RETENTION_MS } from '../../../supervisor/billing/state.js';
import { SANDBOX_PRICES } from '../../../supervisor/billing/setup.js';
import { startBillingServer, WEBHOOK_SECRET, type BillingServer } from '../../helpers/billing-server.js';
import type { Browser } from '../../helpers/browser.js';
import { until } from '../../helpers/tenants.js';

const DAY = 86_400_000;

async function status(browser: Browser) {
  const response = await browser.json('GET', '/api/billing/status');
  if (response.status !== 200) throw new Error(`status failed: ${JSON.stringify(response.body)}`);
  return response.body;
}

function userOf(server: BillingServer, email: string) {
  return server.db.prepare<[string], { id: string; tenant_id: string }>('SELECT id, tenant_id FROM users WHERE email = ?').get(email)!;
}

function subscriptionIdOf(server: BillingServer, email: string): string {
  return server.db.prepare<[string], { subscription_id: string }>('SELECT subscription_id FROM subscriptions WHERE user_id = ?').get(userOf(server, email).id)!.subscription_id;
}

function notices(server: BillingServer, to: string): string[] {
  return server.mails.filter((m) => m.to === to && m.template === 'notice').map((m) => String(m.data['subject']));
}

const sdk = (server: BillingServer) => new Stripe(server.stripe.apiKey, { host: server.stripe.host, port: server.stripe.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });

t.test('checkout → paid → active: Growth ceilings reach the running tenant and its runtime starts', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const before = await status(ada);
  t.match(before, { billing: 'enabled', state: 'none', plan: null, automation: false });

  const checkout = await ada.json('POST', '/api/billing/checkout', { plan: 'growth' });
  t.equal(checkout.status, 200);
  t.match(checkout.body.url, new RegExp(`^${server.stripe.url}/`), 'the URL is the (simulated) hosted checkout');
  const { tenant_id: tenantId, id: userId } = userOf(server, 'ada@example.com');
  await server.stripe.completeCheckout(checkout.body.sessionId, 'pay');
  await server.stripe.idle();

  const after = await status(ada);
  t.match(after, {
    state: 'active',
    stripeStatus: 'active',
    plan: { id: 'growth', name: 'Growth', priceCents: 2900 },
    automation: true,
    readOnly: false,
    ceilings: { repliesPerDay: 15, tweetsPerDay: 10, threadsPerWeek: 3, targets: 10 },
    usage: { repliesToday: { used: 0, limit: 15 }, tweetsToday: { used: 0, limit: 10 }, threadsThisWeek: { used: 0, limit: 3 } },
    xAllowance: { allowanceCents: 1700, spentCents: 0, remainingCents: 1700 },
    overage: { available: true, optedIn: false, estimatedChargeCents: 0 },
    cancelAtPeriodEnd: false,
    graceUntil: null,
  });
  t.equal(after.renewsAt, after.xAllowance.periodEnd);
  t.match(server.registry.get(tenantId)!.ceilings, { plan: 'growth', automation: true }, 'stored for the next activation');
  const inside = (await server.host.request(tenantId, 'status', {}, 20_000)) as { ceilings: { plan: string; automation: boolean } };
  t.match(inside.ceilings, { plan: 'growth', automation: true }, 'the tenant actor runs under them');
  t.same(notices(server, 'ada@example.com'), ['Your TuitBot Growth plan is active']);
  const me = await ada.json('GET', '/auth/me');
  t.same(me.body.subscription, { status: 'active', plan: 'growth' }, '/auth/me carries the summary');

  // The customer is created once and reused.
  const again = await ada.json('POST', '/api/billing/checkout', { plan: 'pro' });
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'already_subscribed');
  const customers = server.db.prepare('SELECT count(*) AS n FROM billing_customers WHERE user_id = ?').get(userId) as { n: number };
  t.equal(customers.n, 1);
  const applied = server.db.prepare("SELECT count(*) AS n FROM stripe_events WHERE outcome = 'applied'").get() as { n: number };
  t.ok(applied.n >= 2, 'the subscription events were applied');
});

t.test('bad input and authentication', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const gold = await ada.json('POST', '/api/billing/checkout', { plan: 'gold' });
  t.equal(gold.status, 422);
  t.match(gold.body.error.fields, { plan: /must be one of starter, growth, pro/ });
  const extra = await ada.json('POST', '/api/billing/checkout', { plan: 'pro', price: 'price_free' });
  t.equal(extra.status, 422, 'unknown fields are refused');
  t.equal((await fetch(`${server.base}/api/billing/status`)).status, 401);
  const portal = await ada.json('GET', '/api/billing/portal');
  t.equal(portal.status, 409, 'no portal before there is a customer');
  t.equal(portal.body.error.code, 'no_billing_account');
  const overage = await ada.json('PUT', '/api/billing/overage', { enabled: true });
  t.equal(overage.status, 409, 'overage needs a plan');
  const plans = await ada.json('GET', '/api/billing/plans');
  t.same(plans.body.plans.map((p: { id: string; priceCents: number }) => [p.id, p.priceCents]), [['starter', 1900], ['growth', 2900], ['pro', 4900]]);
});

t.test('the portal answers with a redirect to Stripe that is never logged', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'starter');
  const response = await ada.request('GET', '/api/billing/portal');
  t.equal(response.status, 303);
  const location = response.headers.get('location')!;
  t.match(location, new RegExp(`^${server.stripe.url}/`));
  t.equal(response.headers.get('cache-control'), 'no-store');
  t.notOk(JSON.stringify(server.logs).includes(location), 'the portal URL is a credential');
});

t.test('webhooks: a forged signature, a stale timestamp and a missing header are refused', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const payload = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'customer.subscription.deleted', data: { object: { id: 'sub_x' } } });
  const post = (headers: Record<string, string>) => fetch(`${server.base}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
  const forged = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_ours' });
  const forgedResponse = await post({ 'stripe-signature': forged });
  t.equal(forgedResponse.status, 400);
  t.equal(((await forgedResponse.json()) as { error: { code: string } }).error.code, 'invalid_signature');
  const stale = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 301 });
  t.equal((await post({ 'stripe-signature': stale })).status, 400);
  t.equal((await post({})).status, 400);
  const tampered = Stripe.webhooks.generateTestHeaderString({ payload: payload.replace('deleted', 'created'), secret: WEBHOOK_SECRET });
  t.equal((await post({ 'stripe-signature': tampered })).status, 400);
  t.equal((server.db.prepare('SELECT count(*) AS n FROM stripe_events').get() as { n: number }).n, 0, 'nothing was recorded');
});

t.test('a duplicated delivery changes nothing and mails nothing twice', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  server.stripe.holdWebhooks(true);
  const checkout = await ada.json('POST', '/api/billing/checkout', { plan: 'starter' });
  await server.stripe.completeCheckout(checkout.body.sessionId, 'pay');
  const pending = server.stripe.pendingEvents().length;
  t.ok(pending >= 3);
  await server.stripe.deliver({ duplicate: true });
  const rows = server.db.prepare('SELECT outcome, count(*) AS n FROM stripe_events GROUP BY outcome').all();
  const total = (server.db.prepare('SELECT count(*) AS n FROM stripe_events').get() as { n: number }).n;
  t.equal(total, pending, `each event recorded once (${JSON.stringify(rows)})`);
  t.same(notices(server, 'ada@example.com'), ['Your TuitBot Starter plan is active']);
  t.match(await status(ada), { state: 'active', plan: { id: 'starter' } });
});

t.test('out of order: paid before created, and deleted before updated, end in the right state', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  server.stripe.holdWebhooks(true);
  const checkout = await ada.json('POST', '/api/billing/checkout', { plan: 'growth' });
  await server.stripe.completeCheckout(checkout.body.sessionId, 'pay');
  const order = server.stripe.pendingEvents().map((e) => e.id).reverse();
  await server.stripe.deliver({ order });
  t.match(await status(ada), { state: 'active', plan: { id: 'growth' } }, 'invoice.paid first, subscription.created last');

  const subscription = subscriptionIdOf(server, 'ada@example.com');
  await sdk(server).subscriptions.update(subscription, { cancel_at_period_end: true });
  await sdk(server).subscriptions.cancel(subscription);
  const types = server.stripe.pendingEvents().map((e) => e.type);
  t.ok(types.includes('customer.subscription.deleted') && types.includes('customer.subscription.updated'));
  await server.stripe.deliver({ order: server.stripe.pendingEvents().map((e) => e.id).reverse() });
  t.match(await status(ada), { state: 'canceled', automation: false, readOnly: true }, 'the late "updated" does not revive it');
});

t.test('an event for a customer we do not know is acknowledged and ignored', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const stripe = sdk(server);
  const stranger = await stripe.customers.create({ email: 'stranger@example.com' });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: stranger.id,
    line_items: [{ price: SANDBOX_PRICES.pro, quantity: 1 }],
    success_url: 'http://127.0.0.1/ok',
    cancel_url: 'http://127.0.0.1/cancel',
  });
  await server.stripe.completeCheckout(session.id, 'pay');
  await server.stripe.idle();
  const outcomes = server.db.prepare("SELECT DISTINCT outcome FROM stripe_events WHERE outcome != 'ignored: not handled'").all() as { outcome: string }[];
  t.same(outcomes.map((o) => o.outcome), ['ignored: unknown customer']);
  t.equal((server.db.prepare('SELECT count(*) AS n FROM subscriptions').get() as { n: number }).n, 0);
});

t.test('upgrade and downgrade apply the new ceilings at once', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'starter');
  const { tenant_id: tenantId } = userOf(server, 'ada@example.com');
  const stripe = sdk(server);
  const subscription = await stripe.subscriptions.retrieve(subscriptionIdOf(server, 'ada@example.com'));
  const planItem = subscription.items.data.find((item) => item.price.id === SANDBOX_PRICES.starter)!;
  await stripe.subscriptions.update(subscription.id, { items: [{ id: planItem.id, price: SANDBOX_PRICES.pro }], proration_behavior: 'create_prorations' });
  await server.stripe.idle();
  t.match(await status(ada), { plan: { id: 'pro' }, ceilings: { repliesPerDay: 30, targets: null } });
  const inside = (await server.host.request(tenantId, 'status', {}, 20_000)) as { ceilings: { plan: string } };
  t.equal(inside.ceilings.plan, 'pro');
  await stripe.subscriptions.update(subscription.id, { items: [{ id: planItem.id, price: SANDBOX_PRICES.growth }] });
  await server.stripe.idle();
  t.match(await status(ada), { plan: { id: 'growth' }, ceilings: { repliesPerDay: 15 } });
});

t.test('cancel at period end: access until the end, then canceled and read-only with the data kept', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'growth');
  await sdk(server).subscriptions.update(subscriptionIdOf(server, 'ada@example.com'), { cancel_at_period_end: true });
  await server.stripe.idle();
  const ending = await status(ada);
  t.match(ending, { state: 'active', cancelAtPeriodEnd: true, renewsAt: null });
  t.equal(ending.endsAt, ending.xAllowance.periodEnd);
  await server.advance(ending.endsAt + 1000);
  const ended = await status(ada);
  t.match(ended, { state: 'canceled', automation: false, readOnly: true, plan: { id: 'growth' } });
  t.ok(ended.purgeAfter >= ending.endsAt + RETENTION_MS - 1000);
  t.match(notices(server, 'ada@example.com'), ['Your TuitBot Growth plan is active', 'Your TuitBot subscription has ended']);
});

t.test('payment failure → grace with automation on → recovery on payment', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'growth');
  const customer = server.db.prepare('SELECT customer_id FROM billing_customers').get() as { customer_id: string };
  server.stripe.setPaymentBehaviour(customer.customer_id, 'fail');
  const { xAllowance } = await status(ada);
  await server.advance(xAllowance.periodEnd + 1000);
  const failing = await status(ada);
  t.match(failing, { state: 'past_due', stripeStatus: 'past_due', automation: true, readOnly: false });
  t.equal(failing.graceUntil, server.clock.now + GRACE_MS);
  t.ok(notices(server, 'ada@example.com').includes('We could not charge your card'));

  server.stripe.setPaymentBehaviour(customer.customer_id, 'succeed');
  await server.advance(server.clock.now + 3 * DAY + 1000); // the next retry pays
  t.match(await status(ada), { state: 'active', graceUntil: null, automation: true });
});

t.test('grace expiry stops automation and makes the account read-only', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'starter');
  const customer = server.db.prepare('SELECT customer_id FROM billing_customers').get() as { customer_id: string };
  server.stripe.setPaymentBehaviour(customer.customer_id, 'fail');
  const { xAllowance } = await status(ada);
  await server.advance(xAllowance.periodEnd + 1000);
  const { graceUntil } = await status(ada);
  // Only our clock moves: Stripe keeps retrying (still past_due), our grace is over.
  server.clock.now = graceUntil + 1;
  await server.billing.sweep();
  const locked = await status(ada);
  t.match(locked, { state: 'locked', automation: false, readOnly: true });
  const { tenant_id: tenantId } = userOf(server, 'ada@example.com');
  t.match(server.registry.get(tenantId)!.ceilings, { automation: false, readOnly: true });
  t.ok(notices(server, 'ada@example.com').includes('Your TuitBot automation has stopped'));
  await server.billing.sweep();
  t.equal(notices(server, 'ada@example.com').filter((s) => s === 'Your TuitBot automation has stopped').length, 1, 'mailed once');
});

t.test('after 30 days the data is purged (backups too), with a reminder first; reactivation before that restores it', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const bob = await server.signup('bob@example.com');
  await server.subscribe(ada, 'growth');
  await server.subscribe(bob, 'growth');
  const adaTenant = userOf(server, 'ada@example.com').tenant_id;
  const bobTenant = userOf(server, 'bob@example.com').tenant_id;
  for (const tenant of [adaTenant, bobTenant]) await server.host.request(tenant, 'settings.put', { key: 'topic', value: `about ${tenant}` }, 20_000);
  const backups = tenantBackupDir(server.dir, adaTenant);
  mkdirSync(backups, { recursive: true });
  writeFileSync(join(backups, 'backup.db'), 'a backup');

  const stripe = sdk(server);
  await stripe.subscriptions.cancel(subscriptionIdOf(server, 'ada@example.com'));
  await stripe.subscriptions.cancel(subscriptionIdOf(server, 'bob@example.com'));
  await server.stripe.idle();
  const { purgeAfter } = await status(ada);

  // Bob comes back on day 10: everything is still there.
  server.clock.now += 10 * DAY;
  server.clock.stripeNow = server.clock.now;
  await server.subscribe(bob, 'pro');
  t.match(await status(bob), { state: 'active', plan: { id: 'pro' } });
  const kept = (await server.host.request(bobTenant, 'settings.get', { key: 'topic' }, 20_000)) as { value: string };
  t.equal(kept.value, `about ${bobTenant}`);

  server.clock.now = purgeAfter - PURGE_REMINDER_MS + 1;
  await server.billing.sweep();
  t.ok(notices(server, 'ada@example.com').includes('Your TuitBot data will be deleted soon'));
  t.ok(existsSync(server.registry.dbPath(adaTenant)), 'not yet deleted');

  server.clock.now = purgeAfter + 1;
  await server.billing.sweep();
  t.match(await status(ada), { state: 'purged', readOnly: false, plan: null });
  t.notOk(existsSync(backups), 'backups deleted');
  await until(() => server.host.state(adaTenant) === 'hibernated');
  const fresh = await ada.json('GET', '/api/billing/status');
  t.equal(fresh.status, 200, 'the tenant still works, from an empty DB');
  await t.rejects(server.host.request(adaTenant, 'settings.get', { key: 'topic' }, 20_000), { code: 'not_found' }, 'its data is gone');
  t.ok(notices(server, 'ada@example.com').includes('Your TuitBot data has been deleted'));
  const bobStill = (await server.host.request(bobTenant, 'settings.get', { key: 'topic' }, 20_000)) as { value: string };
  t.equal(bobStill.value, `about ${bobTenant}`, 'the reactivated tenant is untouched');
});

t.test('overage: opt in, spend beyond the allowance, reported to Stripe exactly once per period', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'starter');
  const opted = await ada.json('PUT', '/api/billing/overage', { enabled: true, capCents: 500 });
  t.equal(opted.status, 200);
  t.match(opted.body.overage, { optedIn: true, capCents: 500, marginPercent: 20 });
  const tooHigh = await ada.json('PUT', '/api/billing/overage', { enabled: true, capCents: 100_000 });
  t.equal(tooHigh.status, 422);
  t.match(tooHigh.body.error.fields, { capCents: /at most 7000/ });
  const { tenant_id: tenantId } = userOf(server, 'ada@example.com');
  const inside = (await server.host.request(tenantId, 'status', {}, 20_000)) as { ceilings: { xOverageCapCents: number } };
  t.equal(inside.ceilings.xOverageCapCents, 500, 'the cap reaches the tenant');

  // The tenant's X client wrote $9.00 of posts into its ledger this period (600 creates at $0.015).
  const { xAllowance } = await status(ada);
  await until(() => server.host.state(tenantId) === 'hibernated');
  const db = new Database(server.registry.dbPath(tenantId));
  const insert = db.prepare("INSERT INTO x_spend (at, kind, endpoint, units, cost_micros) VALUES (?, 'create', 'POST /2/tweets', 1, 15000)");
  db.transaction(() => {
    for (let i = 0; i < 600; i++) insert.run(xAllowance.periodStart + 1000 + i);
  })();
  db.close();
  const before = await status(ada);
  t.match(before.overage, { costCents: 200, estimatedChargeCents: 240 }, 'shown before it is charged: $2.00 + 20 %');
  t.match(before.xAllowance, { spentCents: 900, remainingCents: 0 });

  await server.advance(xAllowance.periodEnd + 1000);
  await server.billing.sweep();
  await server.billing.sweep();
  t.equal(server.stripe.meterEvents.length, 1, 'one meter event for the period');
  t.match(server.stripe.meterEvents[0], { event_name: 'tuitbot_x_overage', payload: { value: '240' } });
  const reports = server.db.prepare('SELECT cost_cents, charge_cents, reported_at FROM overage_reports').all() as { cost_cents: number; charge_cents: number; reported_at: number }[];
  t.match(reports, [{ cost_cents: 200, charge_cents: 240 }]);
  t.ok(reports[0]!.reported_at > 0);

  // A crash between Stripe's answer and our commit: the report is sent again and Stripe refuses the duplicate.
  server.db.prepare('UPDATE overage_reports SET reported_at = NULL').run();
  await server.billing.sweep();
  t.equal(server.stripe.meterEvents.length, 1, 'still billed once');
  t.ok((server.db.prepare('SELECT reported_at FROM overage_reports').get() as { reported_at: number | null }).reported_at);
  t.equal((await status(ada)).xAllowance.spentCents, 0, 'the new period starts from zero');
});

t.test('overage is not reported for a user who did not opt in', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'starter');
  const { xAllowance } = await status(ada);
  await server.advance(xAllowance.periodEnd + 1000);
  await server.billing.sweep();
  t.equal(server.stripe.meterEvents.length, 0);
  t.equal((server.db.prepare('SELECT count(*) AS n FROM overage_reports').get() as { n: number }).n, 0);
});

t.test('a tenant that reaches its X allowance: the user is mailed once per period', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'starter');
  const { tenant_id: tenantId } = userOf(server, 'ada@example.com');
  const event = (reason: string, notify: boolean) => ({ kind: 'billing.x_budget', at: server.clock.now, data: { reason, message: `Stopped: ${reason}.`, notify } });
  server.billing.onTenantEvent(tenantId, event('read_budget_today', false));
  server.billing.onTenantEvent(tenantId, event('allowance_spent', true));
  server.billing.onTenantEvent(tenantId, event('allowance_spent', true));
  const sent = server.mails.filter((m) => m.template === 'notice' && m.data['subject'] === 'TuitBot paused part of your automation');
  t.equal(sent.length, 1);
  t.equal(sent[0]!.data['body'], 'Stopped: allowance_spent.');
});

t.test('billing disabled (self-host): the routes say so', async (t) => {
  const { startAuthServer } = await import('../../helpers/auth-server.js');
  const { addBillingRoutes } = await import('../../../supervisor/routes/billing.js');
  const server = await startAuthServer({ register: (router, deps) => addBillingRoutes(router, { billing: null, auth: deps.auth, limits: deps.limits }) });
  t.teardown(() => server.close());
  const { Browser } = await import('../../helpers/browser.js');
  const ada = new Browser(server.base);
  await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  t.match(await ada.json('GET', '/api/billing/status'), { status: 200, body: { billing: 'disabled', message: /disabled on this server/ } });
  const checkout = await ada.json('POST', '/api/billing/checkout', { plan: 'pro' });
  t.match(checkout, { status: 404, body: { error: { code: 'billing_disabled' } } });
  t.equal((await fetch(`${server.base}/webhooks/stripe`, { method: 'POST', body: '{}' })).status, 404);
});

t.test('with their own X app a user has no allowance (X bills them) and cannot opt in to overage', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'growth');
  const { id: userId, tenant_id: tenantId } = userOf(server, 'ada@example.com');
  server.ownXApps.add(userId);
  server.billing.refresh(userId);
  t.match(server.registry.get(tenantId)!.ceilings, { plan: 'growth', repliesPerDay: 15, xCostAllowanceCents: null, xReadCentsPerDay: null, automation: true });
  const inside = (await server.host.request(tenantId, 'status', {}, 20_000)) as { ceilings: { xCostAllowanceCents: number | null } };
  t.equal(inside.ceilings.xCostAllowanceCents, null, 'the running tenant knows at once');
  t.match(await status(ada), { xAllowance: { ownXApp: true, allowanceCents: 0 }, ceilings: { repliesPerDay: 15 } });
  t.match(await ada.json('PUT', '/api/billing/overage', { enabled: true }), { status: 409, body: { error: { code: 'own_x_app' } } });
  server.ownXApps.delete(userId);
  server.billing.refresh(userId);
  t.match(server.registry.get(tenantId)!.ceilings, { xCostAllowanceCents: 1700 });
});

t.test('deleting the account cancels its subscription at Stripe (retried until Stripe agrees), and no mail goes to the deleted address', async (t) => {
  const server = await startBillingServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.subscribe(ada, 'growth');
  const subscription = subscriptionIdOf(server, 'ada@example.com');
  const deleted = await ada.json('DELETE', '/auth/account', { password: 'correct horse battery staple' });
  t.equal(deleted.status, 200);
  await server.billing.sweep();
  await server.stripe.idle();
  t.match(server.stripe.subscription(subscription), { status: 'canceled' }, 'Stripe stops charging');
  const row = server.db.prepare('SELECT stripe_status FROM subscriptions WHERE subscription_id = ?').get(subscription) as { stripe_status: string };
  t.equal(row.stripe_status, 'canceled');
  await server.billing.sweep();
  t.notOk(server.mails.some((m) => m.to.endsWith('@deleted.invalid')), 'nothing is mailed to the released address');
});
