/**
 * The web app in a real browser: a real supervisor (sandbox mode, real SQLite, the cloud build served from its
 * port) and Debian's Chromium driven by playwright-core. Screenshots go to test/dashboard/screenshots/
 * (gitignored) so a person can look at every page after a run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startSupervisor, type Supervisor } from '../../supervisor/app.js';
import { loadConfig } from '../../supervisor/config.js';
import { tempDataDir } from './tenants.js';

const ROOT = new URL('../../', import.meta.url).pathname;
export const SCREENSHOTS = join(ROOT, 'test/dashboard/screenshots');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Builds the cloud app if it is missing or stale (a no-op when current). */
export function ensureBuilt(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'dashboard/ensure-built.mjs')], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`the web app could not be built (npm run build:cloud):\n${result.stderr}`);
}

export async function startWebServer(t: Teardown, env: Record<string, string> = {}): Promise<{ base: string; supervisor: Supervisor; dataDir: string }> {
  ensureBuilt();
  const dir = tempDataDir('tuitbot-web-');
  const supervisor = await startSupervisor(
    loadConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TENANT_THREADS: '2', HTTP_REQUEST_TIMEOUT_MS: '20000', ...env }),
    pino({ level: 'silent' }),
  );
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { base: `http://127.0.0.1:${supervisor.port}`, supervisor, dataDir: dir };
}

export async function launchBrowser(t: Teardown): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  return browser;
}

/** A fresh page (own cookies) that records every script error and console error, CSP violations included. */
export async function openPage(browser: Browser, base: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // Generous: the machine runs several test suites at once, and a cold tenant thread is slow under load.
  page.setDefaultTimeout(45_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  // Failed requests are judged by their URL below, not by the console line the browser also prints for them.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    const { pathname } = new URL(response.url());
    // The guard's /auth/me answers 401 when logged out; a wrong password is a 401 the page shows.
    const expected = response.status() === 401 && (pathname === '/auth/me' || pathname === '/auth/login');
    if (response.status() >= 400 && !expected) problems.push(`${response.status()} ${response.request().method()} ${pathname}`);
  });
  return { page, problems };
}

/** The whole page, or what the viewport shows (`fullPage: false`, e.g. to see an error next to a sticky bar). */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Signs up through the page and lands on the dashboard. */
export async function signUp(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/dashboard');
}

/** A request to the API from inside the page, with its session cookie and its origin (as the app makes them). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function apiCall(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ([m, p, b]) => {
      const response = await fetch(p as string, { method: m as string, headers: b === undefined ? {} : { 'content-type': 'application/json' }, ...(b !== undefined && { body: JSON.stringify(b) }) });
      return { status: response.status, body: response.status === 204 ? null : await response.json() };
    },
    [method, path, body] as const,
  );
}

/** A dashboard page, past the setup wizard that a newcomer may be sent to (once) from the overview. */
export async function visitDashboard(page: Page, path: string, heading: string): Promise<void> {
  const title = page.getByRole('heading', { name: heading, level: 1 });
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto(path);
    // The app's main region appears once the guard let the session in (on a phone the navigation is folded).
    await page.locator('main#main').waitFor();
    await page.waitForLoadState('networkidle');
    if (await title.isVisible()) return;
  }
  await title.waitFor();
}
