/**
 * What the web app costs a visitor: the JavaScript (and CSS) a browser downloads to show each public page, and
 * to show the dashboard on a first visit (logged in, empty cache), gzipped (level 9, as the supervisor serves
 * it when brotli is not accepted). Measured in Chromium against a real sandbox supervisor, by recording every
 * script and stylesheet response, so lazy chunks and the module graph count as the browser sees them.
 *
 * Budgets (issue 8): public page JS ≤ 50 KB gzipped, dashboard first load ≤ 200 KB gzipped.
 *
 *   npx tsx bench/web-size.ts            (builds the app first if needed; ≈ 30 s)
 */
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchBrowser, openPage, signUp, startWebServer } from '../test/helpers/web-app.js';

const PUBLIC_BUDGET = 50 * 1024;
const DASHBOARD_BUDGET = 200 * 1024;
const PUBLIC_PAGES = ['/', '/pricing', '/docs', '/docs/api', '/login', '/signup', '/forgot-password', '/reset-password', '/verify-email'];
const DASHBOARD_PAGES = ['/dashboard', '/dashboard/settings', '/dashboard/activity', '/dashboard/billing', '/dashboard/x', '/dashboard/approvals', '/dashboard/content', '/dashboard/drafts', '/dashboard/discovery', '/dashboard/targets', '/dashboard/strategy', '/dashboard/costs', '/dashboard/onboarding', '/dashboard/account'];

interface Weight {
  path: string;
  jsFiles: number;
  jsGzip: number;
  cssGzip: number;
}

async function weigh(page: Page, path: string, wait: () => Promise<unknown>): Promise<Weight> {
  const bodies: Promise<{ type: string; gzip: number }>[] = [];
  const onResponse = (response: import('playwright-core').Response) => {
    const type = response.request().resourceType();
    if (type === 'script' || type === 'stylesheet') bodies.push(response.body().then((body) => ({ type, gzip: gzipSync(body, { level: 9 }).length })));
  };
  page.on('response', onResponse);
  await page.goto(path);
  await wait();
  await page.waitForLoadState('networkidle');
  page.off('response', onResponse);
  const files = await Promise.all(bodies);
  const scripts = files.filter((file) => file.type === 'script');
  // Inline scripts (hydration bootstrap, theme) are part of the HTML, but they are JS the page runs.
  const inline = await page.evaluate(() => [...document.querySelectorAll('script:not([src])')].map((script) => script.textContent ?? '').join(''));
  return {
    path,
    jsFiles: scripts.length,
    jsGzip: scripts.reduce((sum, file) => sum + file.gzip, 0) + (inline ? gzipSync(inline, { level: 9 }).length : 0),
    cssGzip: files.filter((file) => file.type === 'stylesheet').reduce((sum, file) => sum + file.gzip, 0),
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const cleanups: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => void cleanups.push(fn) };

try {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const rows: (Weight & { budget: number })[] = [];

  for (const path of PUBLIC_PAGES) {
    // A new context per page: an empty cache, as for a visitor arriving from a search.
    const { page } = await openPage(browser, base);
    rows.push({ ...(await weigh(page, path, () => page.locator('h1').first().waitFor())), budget: PUBLIC_BUDGET });
    await page.context().close();
  }
  // One account (signups are rate-limited per address); each page is then a cold load: a new context with the
  // session cookie and no cache.
  const { page: signupPage } = await openPage(browser, base);
  await signUp(signupPage, 'bench@example.com', 'correct horse battery staple');
  const cookies = await signupPage.context().cookies();
  await signupPage.context().close();
  for (const path of DASHBOARD_PAGES) {
    const fresh = await browser.newContext({ baseURL: base });
    await fresh.addCookies(cookies);
    const cold = await fresh.newPage();
    rows.push({ ...(await weigh(cold, path, () => cold.locator('main#main h1').waitFor())), budget: DASHBOARD_BUDGET });
    await fresh.close();
  }

  const lines = [
    `Machine: ${process.platform} ${process.arch}, Node ${process.version}; Chromium via playwright-core; ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| page | JS files | JS gzipped | CSS gzipped | budget | within |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((row) => `| \`${row.path}\` | ${row.jsFiles} | ${kb(row.jsGzip)} | ${kb(row.cssGzip)} | ${kb(row.budget)} | ${row.jsGzip <= row.budget ? 'yes' : '**no**'} |`),
  ];
  console.log(lines.join('\n'));
  if (rows.some((row) => row.jsGzip > row.budget)) process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
