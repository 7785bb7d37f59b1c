// The "done when", as a new user would try it: the real server in sandbox mode, sign up,
// choose Growth, pay on the simulated Stripe's checkout page, and find Growth in the billing status.
import t from 'tap';
import { Browser } from '../../helpers/browser.js';
import { serveTemp } from '../../helpers/process.js';

t.test('sandbox: sign up, choose Growth, pay on the checkout page → active with Growth ceilings', async (t) => {
  const server = await serveTemp(t);
  t.match(server.output(), /SANDBOX: billing uses a simulated Stripe/);
  const browser = new Browser(server.base);
  const signup = await browser.json('POST', '/auth/signup', { email: 'new@example.com', password: 'correct horse battery staple' });
  t.equal(signup.status, 201);
  t.match((await browser.json('GET', '/auth/me')).body.subscription, { status: 'none', plan: null });

  const checkout = await browser.json('POST', '/api/billing/checkout', { plan: 'growth' });
  t.equal(checkout.status, 200);
  const page = await fetch(checkout.body.url);
  const html = await page.text();
  t.equal(page.status, 200);
  t.match(html, /Sandbox Stripe/);
  t.match(html, /Pay with test card/);

  const paid = await fetch(checkout.body.url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'action=pay',
  });
  t.equal(paid.status, 303);
  t.match(paid.headers.get('location'), new RegExp(`^${server.base}/dashboard/billing\\?checkout=success&session_id=cs_`));

  // The webhook arrives on its own; the page the user returns to polls the same way.
  let status = (await browser.json('GET', '/api/billing/status')).body;
  for (const end = Date.now() + 10_000; status.state !== 'active' && Date.now() < end; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await browser.json('GET', '/api/billing/status')).body;
  }
  t.match(status, {
    state: 'active',
    plan: { id: 'growth', name: 'Growth' },
    automation: true,
    ceilings: { repliesPerDay: 15, tweetsPerDay: 10, threadsPerWeek: 3, targets: 10 },
    xAllowance: { allowanceCents: 1700 },
  });
  t.match((await browser.json('GET', '/auth/me')).body.subscription, { status: 'active', plan: 'growth' });
  const metrics = await (await fetch(`${server.base}/metrics`)).text();
  const applied = Number(/tuitbot_stripe_webhooks_total\{outcome="applied"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  t.ok(applied >= 2, `operators see the webhooks applied (${applied})`);
});
