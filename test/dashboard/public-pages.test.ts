// The public pages in Chromium: each loads without a script error or CSP violation, shows what it must, and is
// screenshotted (dark, and the home page light too).
import t from 'tap';
import { PLANS } from '../../supervisor/billing/plans.js';
import { launchBrowser, openPage, screenshot, startWebServer } from '../helpers/web-app.js';

t.setTimeout(240_000);

t.test('every public page renders, hydrates and breaks no policy', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);

  const pages: [path: string, name: string, heading: RegExp][] = [
    ['/', 'home', /conversations your customers are having/],
    ['/pricing', 'pricing', /Pricing/],
    ['/docs', 'docs', /Documentation/],
    ['/login', 'login', /Log in to TuitBot/],
    ['/signup', 'signup', /Create your account/],
    ['/forgot-password', 'forgot-password', /Reset your password/],
    ['/reset-password?token=abcdefghijklmnopqrstuvwx', 'reset-password', /Choose a new password/],
    ['/verify-email?token=abcdefghijklmnopqrstuvwx', 'verify-email', /Confirm your email address/],
  ];
  for (const [path, name, heading] of pages) {
    const response = await page.goto(path);
    t.equal(response?.status(), 200, `${path} answers 200`);
    t.match(await page.locator('h1').first().textContent(), heading, `${path} shows its heading`);
    await screenshot(page, `public-${name}`);
  }
  t.same(problems, [], 'no script error, console error or CSP violation on any page');
});

t.test('the pricing table is the billing catalog, in the HTML itself', async (t) => {
  const { base } = await startWebServer(t);
  const html = await (await fetch(`${base}/pricing`, { headers: { accept: 'text/html' } })).text();
  for (const plan of PLANS) {
    t.match(html, plan.name, `${plan.name} is in the prerendered page (no JS needed)`);
    t.match(html, `$${plan.priceCents / 100}`, `with its price`);
  }
});

t.test('the API reference is rendered from the running server\'s OpenAPI document', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await page.goto('/docs/api');
  await page.getByText('/api/billing/plans').first().waitFor();
  t.ok(await page.getByRole('link', { name: 'Billing' }).count(), 'operations are grouped by tag');
  await page.getByText('/api/settings/validate').first().click();
  await page.locator('details[open]').getByText('Body', { exact: true }).waitFor();
  await screenshot(page, 'public-docs-api');
  t.same(problems, []);
});

t.test('the light theme is chosen, remembered across pages, and applied before paint', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page } = await openPage(browser, base);
  await page.goto('/');
  t.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'dark', 'dark by default');
  await page.getByRole('button', { name: 'Switch to the light theme' }).click();
  t.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'light');
  await page.goto('/pricing');
  t.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'light', 'remembered');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  t.equal(background, 'rgb(255, 255, 255)', 'the light palette applies');
  await screenshot(page, 'public-pricing-light');
});

t.test('login explains a failed GitHub login from ?error=', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page } = await openPage(browser, base);
  await page.goto('/login?error=github_denied');
  await page.getByRole('alert').filter({ hasText: 'GitHub login was cancelled.' }).waitFor();
  t.pass('the message is shown');
  await screenshot(page, 'public-login-error');
});
