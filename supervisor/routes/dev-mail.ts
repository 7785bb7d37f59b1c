/**
 * The sandbox's mailbox: every mail in the outbox, as a page a newcomer opens to click the verification
 * link of the account they just created, and as JSON for tests.
 *
 * SANDBOX ONLY. These pages show whole messages, one-time tokens (verification, password reset) included, to
 * anyone who can reach the server: mount them only when the mode is `sandbox` (loopback by default), never in
 * self-host or cloud mode.
 *
 * The page is our HTML around untrusted-looking content (addresses, subjects, bodies), so every value is
 * escaped, only http(s) URLs become links, and the CSP allows no script at all. A message's HTML body is shown
 * in an iframe with an empty `sandbox` attribute (no script, no same-origin, no navigation of this page).
 */
import type Database from 'better-sqlite3';
import { getEmail, listEmails, type OutboxEmail } from '../email/outbox.js';
import { escapeHtml } from '../email/templates.js';
import { HttpError } from '../http/errors.js';
import { json, text, type Reply } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

export function addDevMailRoutes(router: Router<Handler>, deps: { db: Database.Database }): void {
  const { db } = deps;

  router.add('GET', '/dev/mail.json', (ctx) => json(200, { emails: listEmails(db, { limit: limitOf(ctx.query) }) }));

  router.add('GET', '/dev/mail', (ctx) => {
    const emails = listEmails(db, { limit: limitOf(ctx.query) });
    const body =
      emails.length === 0
        ? '<p class="muted">No mail yet. Sign up or ask for a password reset, then reload this page.</p>'
        : emails.map((mail) => `<article>${summary(mail, true)}<pre>${linkify(mail.text)}</pre></article>`).join('\n');
    return page('Sandbox mailbox', `<h1>Sandbox mailbox</h1><p class="muted">${emails.length} most recent, newest first. Nothing here left this machine unless SMTP is configured.</p>${body}`);
  });

  router.add('GET', '/dev/mail/:id', (ctx) => {
    const id = ctx.params['id'] ?? '';
    const mail = /^\d{1,15}$/.test(id) ? getEmail(db, Number(id)) : undefined;
    if (!mail) throw new HttpError(404, 'not_found', 'no such mail');
    return page(
      mail.subject,
      `<p><a href="/dev/mail">← all mail</a></p><article>${summary(mail, false)}<pre>${linkify(mail.text)}</pre></article>` +
        `<h2>HTML version</h2><iframe sandbox="" srcdoc="${escapeHtml(mail.html)}" title="HTML body"></iframe>`,
    );
  });
}

function limitOf(query: URLSearchParams): number {
  const n = Number(query.get('limit') ?? DEFAULT_LIMIT);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_LIMIT) : DEFAULT_LIMIT;
}

function summary(mail: OutboxEmail, linkToDetail: boolean): string {
  const subject = escapeHtml(mail.subject);
  const title = linkToDetail ? `<a href="/dev/mail/${mail.id}">${subject}</a>` : subject;
  const error = mail.lastError ? ` · last error: ${escapeHtml(mail.lastError)}` : '';
  return (
    `<h2>${title}</h2>` +
    `<p class="meta">To <b>${escapeHtml(mail.to)}</b> · <span class="status ${mail.status}">${mail.status}</span>` +
    ` · ${new Date(mail.createdAt).toISOString()} · ${escapeHtml(mail.template)} · attempts ${mail.attempts}${error}</p>`
  );
}

/** Escapes the text and turns each http(s) URL in it into a link. */
export function linkify(value: string): string {
  const url = /https?:\/\/[^\s<>"']+/g;
  let out = '';
  let last = 0;
  for (const match of value.matchAll(url)) {
    const href = match[0].replace(/[.,;:!?)]+$/, '');
    out += escapeHtml(value.slice(last, match.index)) + `<a href="${escapeHtml(href)}" rel="noreferrer">${escapeHtml(href)}</a>`;
    last = match.index + href.length;
  }
  return out + escapeHtml(value.slice(last));
}

function page(title: string, content: string): Reply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex">
<title>${escapeHtml(title)} · TuitBot sandbox</title>
<style>
body{font-family:system-ui,sans-serif;max-width:900px;margin:24px auto;padding:0 16px;color:#1a1a1a}
article{border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin:16px 0}
h2{font-size:17px;margin:0 0 4px}.meta,.muted{color:#666;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:12px;border-radius:6px}
.status{font-weight:600}.queued{color:#b26a00}.sent{color:#1a7f37}.failed{color:#cf222e}
iframe{width:100%;height:600px;border:1px solid #ddd;border-radius:8px}
</style></head>
<body><p class="muted">TuitBot sandbox: this page shows one-time links and exists only in sandbox mode.</p>
${content}
</body></html>`;
  const reply = text(200, html, 'text/html; charset=utf-8');
  return { ...reply, headers: { ...reply.headers, 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' } };
}
