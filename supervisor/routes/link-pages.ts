/**
 * The two pages that mailed links open: confirm an email address, choose a new password.
 *
 * Opening a link never changes anything by itself (mail scanners open links too); the page asks
 * for a click, which posts the token to the JSON API. Minimal server-rendered HTML until the
 * dashboard (SvelteKit) takes these routes over.
 */
import { randomBytes } from 'node:crypto';
import type { Reply } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';

function page(title: string, body: string, script: string): Reply {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · TuitBot</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; background: #0d1117; color: #e6edf3; display: grid; place-items: center; min-height: 100vh; margin: 0; }
  main { background: #161b22; border: 1px solid #30363d; border-radius: 8px; padding: 2rem; max-width: 26rem; width: 100%; }
  button { background: #238636; color: #fff; border: 0; border-radius: 6px; padding: .6rem 1rem; font-size: 1rem; cursor: pointer; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; margin: .5rem 0 1rem; border-radius: 6px; border: 1px solid #30363d; background: #0d1117; color: inherit; }
  #status { margin-top: 1rem; min-height: 1.5em; }
  @media (prefers-color-scheme: light) { body { background: #f6f8fa; color: #1f2328; } main { background: #fff; border-color: #d0d7de; } input { background: #fff; border-color: #d0d7de; } }
</style></head>
<body><main><h1>${title}</h1>${body}<p id="status" role="status" aria-live="polite"></p></main>
<script nonce="${nonce}">
const token = new URLSearchParams(location.search).get('token') || '';
const status = document.getElementById('status');
async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, data };
}
${script}
</script></body></html>`;
  return {
    status: 200,
    body: html,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      'Cache-Control': 'no-store',
      // The token is in the URL: never send it onwards.
      'Referrer-Policy': 'no-referrer',
    },
  };
}

export function addLinkPages(router: Router<Handler>): void {
  router.add('GET', '/verify-email', () =>
    page(
      'Confirm your email address',
      '<p>Click to confirm this address for your TuitBot account.</p><button id="confirm" type="button">Confirm my email address</button>',
      `document.getElementById('confirm').addEventListener('click', async () => {
  const { ok, data } = await post('/auth/verify-email', { token });
  status.textContent = ok ? (data.emailChanged ? 'Your new address is confirmed.' : 'Your address is confirmed. You can close this page.') : (data.error && data.error.message) || 'Something went wrong.';
});`,
    ),
  );

  router.add('GET', '/reset-password', () =>
    page(
      'Choose a new password',
      '<form id="reset"><label for="password">New password (8 to 128 characters)</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="8" maxlength="128" required><button type="submit">Set password</button></form>',
      `document.getElementById('reset').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { ok, data } = await post('/auth/reset-password', { token, password: document.getElementById('password').value });
  status.textContent = ok ? 'Your password is changed and every session was signed out. Log in with the new password.' : (data.error && ((data.error.fields && data.error.fields.password) || data.error.message)) || 'Something went wrong.';
});`,
    ),
  );
}
