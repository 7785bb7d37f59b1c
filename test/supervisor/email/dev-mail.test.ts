import t from 'tap';
import { queueEmail } from '../../../supervisor/email/outbox.js';
import { EmailSender } from '../../../supervisor/email/sender.js';
import { Router } from '../../../supervisor/http/router.js';
import { createHttpServer, type Handler } from '../../../supervisor/http/server.js';
import { addDevMailRoutes, linkify } from '../../../supervisor/routes/dev-mail.js';
import { captureLog, tempManagementDb } from './fixtures/db.js';

const LINK = 'https://app.example.com/verify-email?token=devmailtokenabcdefghij';

async function setup(t: { teardown(fn: () => void | Promise<void>): void }) {
  const h = tempManagementDb();
  const { log } = captureLog();
  const router = new Router<Handler>();
  addDevMailRoutes(router, { db: h.db });
  const server = createHttpServer({ router, log, maxBodyBytes: 1024, bodyTimeoutMs: 2_000 });
  const port = await server.listen('127.0.0.1', 0);
  const sender = new EmailSender({ db: h.db, transport: null, log, pollMs: 10 });
  sender.start();
  t.teardown(async () => {
    await sender.stop();
    server.stopListening();
    h.cleanup();
  });
  return { h, url: `http://127.0.0.1:${port}`, sender };
}

t.test('with no SMTP configured, mail stays queued and shows at /dev/mail.json and /dev/mail', async (t) => {
  const { h, url, sender } = await setup(t);
  const first = queueEmail(h.db, { to: 'alice@example.com', template: 'verify_email', data: { link: LINK } });
  const second = queueEmail(h.db, { to: 'alice@example.com', template: 'notice', data: { subject: 'Hello <script>alert(1)</script>', body: 'Body <img src=x onerror=alert(1)>' } });
  sender.notify();
  await new Promise((resolve) => setTimeout(resolve, 50));

  const res = await fetch(`${url}/dev/mail.json`);
  t.equal(res.status, 200);
  const { emails } = (await res.json()) as { emails: { id: number; to: string; status: string; subject: string; text: string; html: string }[] };
  t.same(emails.map((m) => m.id), [second, first], 'newest first');
  t.match(emails[1], { to: 'alice@example.com', status: 'queued', subject: 'Confirm your email address' });
  t.ok(emails[1]!.text.includes(LINK), 'the JSON carries the body, so a test can follow the link');

  const page = await fetch(`${url}/dev/mail`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html; charset=utf-8/);
  const csp = page.headers.get('content-security-policy') ?? '';
  t.match(csp, /default-src 'none'/);
  t.match(csp, /style-src 'unsafe-inline'/);
  t.match(csp, /frame-ancestors 'none'/);
  t.notMatch(csp, /script-src/, 'no script is allowed');
  const html = await page.text();
  t.match(html, 'alice@example.com');
  t.match(html, 'Confirm your email address');
  t.match(html, 'queued');
  t.match(html, `<a href="${LINK}" rel="noreferrer">${LINK}</a>`, 'links are clickable');
  t.match(html, `<a href="/dev/mail/${first}">`);
  t.notMatch(html, /<script>alert|<img src=x/, 'mail content is escaped');
  t.match(html, 'Hello &lt;script&gt;alert(1)&lt;/script&gt;');
});

t.test('/dev/mail/:id shows one message with its HTML in a sandboxed iframe', async (t) => {
  const { h, url } = await setup(t);
  const id = queueEmail(h.db, { to: 'bob@example.com', template: 'reset_password', data: { link: LINK } });
  const res = await fetch(`${url}/dev/mail/${id}`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-security-policy'), /default-src 'none'/);
  const html = await res.text();
  t.match(html, /<iframe sandbox="" srcdoc="&lt;!doctype html&gt;/);
  t.notMatch(html.slice(html.indexOf('<iframe')), /<a href="https:\/\/app/, 'the mail HTML only exists escaped inside srcdoc');
  t.match(html, `<a href="${LINK}" rel="noreferrer">`, 'the text body with a clickable link');
  t.match(html, 'Reset your TuitBot password');

  t.equal((await fetch(`${url}/dev/mail/99999`)).status, 404);
  t.equal((await fetch(`${url}/dev/mail/abc`)).status, 404);
});

t.test('linkify escapes the text and links only http(s) URLs, without trailing punctuation', async (t) => {
  t.equal(linkify('see https://a.example/x?y=1&z=2. <b>'), 'see <a href="https://a.example/x?y=1&amp;z=2" rel="noreferrer">https://a.example/x?y=1&amp;z=2</a>. &lt;b&gt;');
  t.equal(linkify('javascript:alert(1)'), 'javascript:alert(1)');
});
