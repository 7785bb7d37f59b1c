/**
 * `/unsubscribe?token=…`: turning periodic mail off without logging in (supervisor/notifications/).
 *
 * GET shows what the link turns off and a button; only POST changes anything, because mail scanners and
 * link previews fetch every GET link in a mail. POST is also RFC 8058's one-click request (a mail client
 * POSTs `List-Unsubscribe=One-Click` to the List-Unsubscribe URL), so it takes no session, no CSRF origin
 * check (the signed token is the authority, and all it can do is stop mail) and ignores its body. It sets
 * the tenant's `notifications.*` setting to false through the tenant (`settings.put`, which a read-only
 * subscription still allows: stopping mail must always work); the setting page turns it back on.
 * A malformed or forged token is a 400 page. The token is never logged (the access log has no query).
 */
import type Database from 'better-sqlite3';
import { escapeHtml } from '../email/templates.js';
import { HttpError } from '../http/errors.js';
import { text, type Reply } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler, RequestContext } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';
import { SETTING_OF_KIND, type NotificationKind, type UnsubscribeClaim, type UnsubscribeTokens } from '../notifications/unsubscribe-token.js';

export interface UnsubscribeRouteDeps {
  db: Database.Database;
  host: TenantHost;
  tokens: UnsubscribeTokens;
  requestTimeoutMs: number;
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const WHAT: Record<NotificationKind, string> = {
  weekly_summary: 'the weekly performance summary',
  approval_reminders: 'reminders about items waiting in your approval queue',
};

export function addUnsubscribeRoutes(router: Router<Handler>, deps: UnsubscribeRouteDeps): void {
  router.add('GET', '/unsubscribe', (ctx) => {
    const found = claimOf(ctx, deps);
    if ('reply' in found) return found.reply;
    const action = `/unsubscribe?token=${encodeURIComponent(found.token)}`;
    return page(200, 'Unsubscribe', [
      `<h1>Stop these emails?</h1>`,
      `<p>This turns off ${escapeHtml(WHAT[found.claim.kind])} for your TuitBot account. Other emails (security, billing) are not affected.</p>`,
      `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    ]);
  });

  router.add('POST', '/unsubscribe', async (ctx) => {
    const found = claimOf(ctx, deps);
    if ('reply' in found) return found.reply;
    const { kind } = found.claim;
    try {
      await callTenant(deps.host, found.tenantId, 'settings.put', { key: SETTING_OF_KIND[kind], value: false }, deps.requestTimeoutMs);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      ctx.log.warn({ tenantId: found.tenantId, kind, code: error.code }, 'unsubscribe could not reach the tenant');
      return page(503, 'Please try again', [`<h1>Please try again</h1>`, `<p>We could not change your settings just now. Please try the link again in a few minutes.</p>`]);
    }
    ctx.log.info({ tenantId: found.tenantId, kind }, 'unsubscribed from periodic mail');
    return page(200, 'Unsubscribed', [
      `<h1>You are unsubscribed</h1>`,
      `<p>You will no longer get ${escapeHtml(WHAT[kind])}. You can turn them back on at any time in your <a href="/dashboard/settings">notification settings</a>.</p>`,
    ]);
  });
}

type Found = { claim: UnsubscribeClaim; tenantId: string; token: string } | { reply: Reply };

function claimOf(ctx: RequestContext, deps: UnsubscribeRouteDeps): Found {
  const token = ctx.query.get('token') ?? '';
  const claim = token.length > 200 ? null : deps.tokens.verify(token);
  if (!claim) {
    return {
      reply: page(400, 'Invalid link', [
        `<h1>This unsubscribe link is not valid</h1>`,
        `<p>It may have been cut off or changed. Open the link from the email again, or turn notifications off in your <a href="/dashboard/settings">settings</a>.</p>`,
      ]),
    };
  }
  const user = deps.db.prepare<[string], { tenant_id: string }>('SELECT tenant_id FROM users WHERE id = ? AND deleted_at IS NULL').get(claim.userId);
  if (!user) {
    return { reply: page(410, 'Account deleted', [`<h1>This account no longer exists</h1>`, `<p>A deleted account gets no more emails from us.</p>`]) };
  }
  return { claim, tenantId: user.tenant_id, token };
}

function page(status: number, title: string, body: string[]): Reply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex">
<title>${escapeHtml(title)} · TuitBot</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:520px;margin:48px auto;padding:0 16px;color:#1a1a1a;line-height:1.5}
h1{font-size:22px}a{color:#1d9bf0}
button{background:#1d9bf0;color:#fff;border:0;border-radius:6px;padding:10px 18px;font-size:15px;cursor:pointer}
</style></head>
<body><p><b>TuitBot</b></p>
${body.join('\n')}
</body></html>`;
  const reply = text(status, html, 'text/html; charset=utf-8');
  // The URL holds the token: no referrer to anywhere, and no copy in a cache.
  return { ...reply, headers: { ...reply.headers, 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } };
}
