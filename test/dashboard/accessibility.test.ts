// Every page of the web app measured for people who use a keyboard, a screen reader, a phone or the light theme:
// axe-core's WCAG 2.2 AA rules in both themes and at a phone's width, a walk with the Tab key that must reach every
// visible control and show where the focus is, and no sideways scrolling at 375 px. The dashboard is audited with
// real data in it (a tenant the runtime filled, replies waiting for approval, a scheduled post and a draft) and in
// its open states (the compose dialog, a settings error), since empty pages hide most of what can go wrong.
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { axeViolations, chooseTheme, sticksOut, tabFromTop, walkWithTab, type Theme } from '../helpers/a11y.js';
import { openSeededDashboard } from '../helpers/seeded-dashboard.js';
import { seedThroughRuntime } from '../helpers/seeded-tenant.js';
import { apiCall, launchBrowser, openPage, screenshot, startWebServer, visitDashboard } from '../helpers/web-app.js';

t.setTimeout(900_000);
const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

const PUBLIC_PAGES = ['/', '/pricing', '/docs', '/docs/api', '/login', '/login?error=github_denied', '/login#challenge=a-two-factor-step', '/signup', '/forgot-password', '/reset-password?token=not-a-real-token', '/verify-email?token=not-a-real-token'];
const DASHBOARD_PAGES: [path: string, heading: string][] = [
  ['/dashboard', 'Overview'],
  ['/dashboard/activity', 'Activity'],
  ['/dashboard/approvals', 'Approvals'],
  ['/dashboard/content', 'Content'],
  ['/dashboard/drafts', 'Drafts'],
  ['/dashboard/discovery', 'Discovery'],
  ['/dashboard/targets', 'Target accounts'],
  ['/dashboard/targets/AdaBuilds0', '@AdaBuilds0'],
  ['/dashboard/strategy', 'Strategy'],
  ['/dashboard/costs', 'Costs'],
  ['/dashboard/settings', 'Settings'],
  ['/dashboard/x', 'X account'],
  ['/dashboard/billing', 'Billing'],
  ['/dashboard/account', 'Account'],
  ['/dashboard/onboarding', 'Set up TuitBot'],
];

/** The axe rules, in the theme and size the page is shown in now. */
async function audit(t: Test, page: Page, what: string): Promise<void> {
  t.same(await axeViolations(page), [], `${what}: no WCAG 2.2 AA or best-practice violations`);
}

/** The element that has the keyboard, as `tag#id "name"`. */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement;
    const name = element.tagName === 'BUTTON' || element.tagName === 'A' ? ` "${(element.getAttribute('aria-label') ?? element.textContent ?? '').trim()}"` : '';
    return `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${name}`;
  });
}

async function keyboard(t: Test, page: Page, what: string): Promise<void> {
  const walk = await walkWithTab(page);
  t.same(walk.unreached, [], `${what}: Tab reaches all ${walk.reached.length} visible controls`);
  t.same(walk.unmarked, [], `${what}: each shows that it has the focus`);
}

t.test('public pages: dark, light and phone; every control reachable with Tab', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await page.goto('/');
  for (const theme of ['dark', 'light'] as Theme[]) {
    await chooseTheme(page, theme);
    for (const path of PUBLIC_PAGES) {
      await page.goto(path);
      await page.waitForLoadState('networkidle');
      t.equal(await page.evaluate(() => document.documentElement.dataset['theme'] ?? 'dark'), theme, `${path} is shown in the ${theme} theme`);
      await audit(t, page, `${path} (${theme})`);
      if (theme === 'dark') await keyboard(t, page, path);
    }
  }
  await page.setViewportSize(PHONE);
  for (const path of PUBLIC_PAGES) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    t.same(await sticksOut(page), [], `${path} fits a 375 px phone without sideways scrolling`);
    await audit(t, page, `${path} (phone)`);
    await screenshot(page, `phone${path.replace(/[/?=]/g, '-').replace(/-$/, '') || '-home'}`);
  }
  t.same(problems, [], 'no script errors or failed requests');
});

t.test('dashboard pages full of real data: dark, light and phone; every control reachable with Tab', async (t) => {
  const h = await seedThroughRuntime(t, {
    // Two hours of every loop yesterday, with approval on: replies and posts wait in the queue.
    days: 2,
    active: [[0, 20, 22]],
    targets: ['AdaBuilds0'],
    followersOn: (day) => 200 + day * 5,
    settings: { approval_mode: true },
  });
  const { page, problems } = await openSeededDashboard(t, h, 'a11y@example.com', 'correct horse battery staple');
  const tomorrow = Date.now() + 26 * 3_600_000;
  t.equal((await apiCall(page, 'POST', '/api/content/compose', { kind: 'tweet', content: 'A scheduled post for the calendar', scheduledFor: tomorrow })).status, 201);
  t.equal((await apiCall(page, 'POST', '/api/content/drafts', { kind: 'thread', content: ['A draft thread, part one', 'and part two'] })).status, 201);
  const pending = (await apiCall(page, 'GET', '/api/approvals?statuses=pending')).body.items as unknown[];
  t.ok(pending.length > 0, `${pending.length} items wait for approval`);

  for (const theme of ['dark', 'light'] as Theme[]) {
    await chooseTheme(page, theme);
    for (const [path, heading] of DASHBOARD_PAGES) {
      await visitDashboard(page, path, heading);
      await audit(t, page, `${path} (${theme})`);
      if (theme === 'dark') await keyboard(t, page, path);
    }
  }

  // ── the keyboard's own paths: skip link, the compose dialog, the approval keys ──
  await visitDashboard(page, '/dashboard/content', 'Content');
  await tabFromTop(page);
  await page.keyboard.press('Tab');
  t.equal(await focused(page), 'a "Skip to content"', 'the first Tab stop skips the navigation');
  await page.keyboard.press('Enter');
  t.equal(await focused(page), 'main#main', 'Enter puts the keyboard at the page itself');

  const compose = page.getByRole('button', { name: 'Compose', exact: true });
  await compose.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Compose' });
  await dialog.waitFor();
  t.match(await focused(page), /^textarea/, 'the dialog opens with the keyboard in the text');
  await audit(t, page, 'the compose dialog (light)');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  t.equal(await focused(page), 'button "Compose"', 'Escape closes it and gives the focus back to Compose');

  await visitDashboard(page, '/dashboard/approvals', 'Approvals');
  const queue = page.getByRole('list', { name: 'Approval items' }).getByRole('listitem');
  const before = await queue.count();
  const approvalsLink = page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: /^Approvals/ });
  const pendingBefore = ((await apiCall(page, 'GET', '/api/approvals/stats')).body as { pending: number }).pending;
  t.equal(await approvalsLink.textContent(), `Approvals${pendingBefore}, ${pendingBefore} pending`, `the navigation's badge says ${pendingBefore} pending`);
  await page.locator('body').press('j');
  const second = await queue.nth(1).getAttribute('id');
  t.equal(await focused(page), `li#${second}`, 'j moves to the next item and puts the keyboard on it');
  t.equal(await queue.nth(1).getAttribute('aria-current'), 'true', 'which is marked current');
  await page.keyboard.press('e');
  t.match(await focused(page), /^textarea#edit-/, 'e opens the editor with the keyboard in it');
  await page.keyboard.press('Escape');
  t.equal(await focused(page), `li#${second}`, 'Escape closes the editor and goes back to the item');
  await page.keyboard.press('r');
  await page.getByRole('status').filter({ hasText: /^Rejected: / }).waitFor();
  t.equal(await queue.count(), before - 1, 'r rejected it: the queue is one shorter');
  t.match(await focused(page), /^li#approval-/, 'the keyboard stays in the queue, on the item now current');
  await page.keyboard.press('k');
  await page.keyboard.press('a');
  await page.getByRole('status').filter({ hasText: /^Approved: / }).waitFor();
  t.equal(await queue.count(), before - 2, 'k went back to the first item and a approved it');
  await page.waitForFunction(([text]) => document.querySelector('nav a[href="/dashboard/approvals"]')?.textContent === text, [`Approvals${pendingBefore - 2}, ${pendingBefore - 2} pending`]);
  t.pass('the badge follows the queue');
  const stats = (await apiCall(page, 'GET', '/api/approvals/stats')).body as { rejected: number; approved: number; posting: number; posted: number };
  t.equal(stats.rejected, 1, 'the server has the rejection');
  t.equal(stats.approved + stats.posting + stats.posted, 1, 'and the approval');

  await page.setViewportSize(PHONE);
  await visitDashboard(page, '/dashboard', 'Overview');
  const nav = page.getByRole('navigation', { name: 'Dashboard' });
  const menu = page.getByRole('button', { name: /: menu$/ });
  t.equal(await nav.isVisible(), false, 'on a phone the navigation is folded away');
  t.equal(await menu.getAttribute('aria-expanded'), 'false', 'behind a Menu button that says so');
  await menu.click();
  await nav.waitFor();
  t.equal(await menu.getAttribute('aria-expanded'), 'true');
  await audit(t, page, 'the open menu (phone)');
  await screenshot(page, 'phone-dashboard-menu');
  await nav.getByRole('link', { name: 'Costs' }).click();
  await page.getByRole('heading', { name: 'Costs', level: 1 }).waitFor();
  await nav.waitFor({ state: 'hidden' });
  t.match(await menu.textContent(), /Costs/, 'choosing a page folds the menu, whose button names the page you are on');
  for (const [path, heading] of DASHBOARD_PAGES) {
    await visitDashboard(page, path, heading);
    t.same(await sticksOut(page), [], `${path} fits a 375 px phone without sideways scrolling`);
    await audit(t, page, `${path} (phone)`);
    await screenshot(page, `phone${path.replace(/\//g, '-')}`);
  }
  await page.setViewportSize(DESKTOP);
  t.same(problems, [], 'no script errors or failed requests');
});

t.test('the instruments catch what they look for (a page made to fail them)', async (t) => {
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: PHONE })).newPage();
  await page.setContent(`<!doctype html><html lang="en"><head><title>Broken</title></head><body><main>
    <button style="outline: none">No focus mark</button>
    <input aria-label="Trap" onkeydown="if (event.key === 'Tab') event.preventDefault()">
    <a href="#after">Never reached</a>
    <input id="unlabelled">
    <div style="width: 600px">Too wide for a phone</div>
  </main></body></html>`);
  const walk = await walkWithTab(page);
  t.same(walk.unmarked, ['button "No focus mark"'], 'a control that hides its focus is named');
  t.same(walk.unreached, ['a "Never reached"', 'input ""'], 'controls behind a keyboard trap are named');
  t.match(await axeViolations(page), [/^label /], 'an input without a label breaks axe\'s label rule');
  t.match(await sticksOut(page), [/^div \(\d+ px\)$/], 'the element wider than the phone is named');
});
