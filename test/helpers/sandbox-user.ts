/**
 * What a newcomer does in sandbox mode, over HTTP only, as a browser would: sign up, pay a plan on the
 * simulated Stripe's checkout page, connect X on the simulated X's consent page, fill in the business
 * profile. Used by the tests that need a tenant whose runtime really runs.
 */
import { DateTime } from 'luxon';
import { Browser } from './browser.js';

/** Polls `probe` until it returns something other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000, stepMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** The business profile of a newcomer whose product is about the sandbox world's topics. */
export const PROFILE = {
  'business.product_name': 'PriceKit',
  'business.product_description': 'Pricing page templates and experiments for indie SaaS founders.',
  'business.target_audience': 'indie SaaS founders',
  'business.product_keywords': ['saas pricing', 'indie hacking'],
  'business.industry_topics': ['saas pricing', 'indie hacking', 'startup marketing'],
};

/**
 * A time zone where it is day now (09:00–19:59), so the default active hours (08–22) are open for the
 * next couple of hours: a newcomer tries TuitBot while awake, in their own zone.
 */
export function daytimeZone(now = Date.now()): string {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Pacific/Honolulu', 'Asia/Kolkata', 'Asia/Tokyo', 'Australia/Sydney', 'America/Sao_Paulo', 'Pacific/Auckland'];
  const zone = zones.find((z) => {
    const hour = DateTime.fromMillis(now, { zone: z }).hour;
    return hour >= 9 && hour < 20;
  });
  if (!zone) throw new Error('no daytime zone in the list');
  return zone;
}

export async function signUp(base: string, email: string): Promise<Browser> {
  const browser = new Browser(base);
  const signup = await browser.json('POST', '/auth/signup', { email, password: 'correct horse battery staple' });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${JSON.stringify(signup.body)}`);
  return browser;
}

/** Checkout, then "Pay with test card" on the hosted page; resolves when the plan is active. */
export async function subscribe(browser: Browser, plan = 'growth'): Promise<void> {
  const checkout = await browser.json('POST', '/api/billing/checkout', { plan });
  if (checkout.status !== 200) throw new Error(`checkout: ${checkout.status} ${JSON.stringify(checkout.body)}`);
  const paid = await fetch(checkout.body.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' });
  if (paid.status !== 303) throw new Error(`paying: ${paid.status} ${await paid.text()}`);
  await eventually(async () => ((await browser.json('GET', '/api/billing/status')).body.state === 'active' ? true : undefined));
}

/** "Connect X", then Authorize on the consent page as `username`; returns the simulated X's base URL. */
export async function connectX(browser: Browser, username: string): Promise<string> {
  const connect = await browser.request('GET', '/api/x/connect');
  if (connect.status !== 302) throw new Error(`connect: ${connect.status} ${await connect.text()}`);
  const authorize = new URL(connect.headers.get('location')!);
  const page = await fetch(authorize);
  const html = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(html)?.[1];
  if (!request) throw new Error(`consent page: ${page.status} ${html.slice(0, 200)}`);
  const decided = await fetch(new URL('/i/oauth2/authorize', authorize), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision: 'authorize', username }).toString(),
  });
  const back = new URL(decided.headers.get('location')!);
  const landed = await browser.request('GET', back.pathname + back.search);
  if (!landed.headers.get('location')?.includes(`connected=${username}`)) throw new Error(`callback: ${landed.status} ${landed.headers.get('location')}`);
  return authorize.origin;
}

export async function setProfile(browser: Browser, extra: Record<string, unknown> = {}): Promise<void> {
  const patched = await browser.json('PATCH', '/api/settings', { ...PROFILE, timezone: daytimeZone(), ...extra });
  if (patched.status !== 200) throw new Error(`settings: ${patched.status} ${JSON.stringify(patched.body)}`);
}

/** A newcomer with a plan, X connected and a business profile, their runtime not started yet. */
export async function readyUser(base: string, email: string, username: string): Promise<{ browser: Browser; tenantId: string; xUrl: string }> {
  const browser = await signUp(base, email);
  const me = await browser.json('GET', '/auth/me');
  await subscribe(browser);
  const xUrl = await connectX(browser, username);
  await setProfile(browser);
  return { browser, tenantId: me.body.user.tenantId, xUrl };
}
