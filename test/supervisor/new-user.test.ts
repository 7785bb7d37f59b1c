/**
 * What a newcomer does on a fresh sandbox, over real HTTP against the real `tuitbot serve`:
 * sign up, open /dev/mail, follow the link, confirm, turn on 2FA, log out, log in with a code.
 */
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import t from 'tap';
import { Browser } from '../helpers/browser.js';
import { serveTemp } from '../helpers/process.js';
import { until } from '../helpers/tenants.js';

const PASSWORD = 'a newcomer passphrase';

function totp(secret: string, offsetSteps = 0): string {
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(Math.floor(Date.now() / 30_000) + offsetSteps), 6);
}

t.test('sign up in the sandbox, confirm through /dev/mail, and log in with 2FA', async (t) => {
  const { base } = await serveTemp(t);
  const browser = new Browser(base);

  const signup = await browser.json('POST', '/auth/signup', { email: 'newcomer@example.com', password: PASSWORD });
  t.equal(signup.status, 201);

  // The sandbox has no SMTP: the mail waits in the outbox, readable at /dev/mail.
  let mails: { to: string; subject: string; text: string }[] = [];
  const mailbox = await fetch(`${base}/dev/mail`);
  t.equal(mailbox.status, 200);
  t.match(await mailbox.text(), /newcomer@example\.com/);
  const list = (await (await fetch(`${base}/dev/mail.json`)).json()) as { emails?: typeof mails } | typeof mails;
  mails = Array.isArray(list) ? list : (list.emails ?? []);
  const verification = mails.find((m) => m.to === 'newcomer@example.com');
  t.ok(verification, 'the verification mail is in the sandbox mailbox');
  const link = /(http:\/\/[^\s"<]+\/verify-email\?token=[a-z2-7]+)/.exec(verification!.text)?.[1];
  t.ok(link, 'it carries a verification link');
  t.ok(link!.startsWith(base), 'the link points at this server');

  const page = await fetch(link!);
  t.equal(page.status, 200);
  t.match(await page.text(), /Confirm my email address/);
  const token = new URL(link!).searchParams.get('token');
  const confirmed = await browser.json('POST', '/auth/verify-email', { token });
  t.equal(confirmed.status, 200);
  t.equal((await browser.json('GET', '/auth/me')).body.user.emailVerified, true);

  const setup = await browser.json('POST', '/auth/2fa/setup', { password: PASSWORD });
  t.equal(setup.status, 200, JSON.stringify(setup.body));
  t.match(setup.body.uri, /^otpauth:\/\/totp\//);
  const enabled = await browser.json('POST', '/auth/2fa/enable', { code: totp(setup.body.secret), password: PASSWORD });
  t.equal(enabled.status, 200, JSON.stringify(enabled.body));
  t.equal(enabled.body.recoveryCodes.length, 10);
  t.equal((await browser.json('GET', '/auth/me')).body.user.twoFactorEnabled, true);

  t.equal((await browser.request('POST', '/auth/logout')).status, 204);
  t.equal((await browser.json('GET', '/auth/me')).status, 401);

  const first = await browser.json('POST', '/auth/login', { email: 'newcomer@example.com', password: PASSWORD });
  t.equal(first.status, 200);
  t.equal(first.body.twoFactorRequired, true);
  t.equal(browser.cookies.has('tuitbot_session'), false, 'no session before the second step');
  // The code from enabling was already used; wait for the next step rather than replay it.
  const usedStep = Math.floor(Date.now() / 30_000);
  await until(() => Math.floor(Date.now() / 30_000) > usedStep, 31_000, 200);
  const second = await browser.json('POST', '/auth/login/2fa', { challenge: first.body.challenge, code: totp(setup.body.secret) });
  t.equal(second.status, 200, JSON.stringify(second.body));
  const me = await browser.json('GET', '/auth/me');
  t.equal(me.status, 200);
  t.equal(me.body.user.email, 'newcomer@example.com');

  // A recovery code works once as the second step too.
  await browser.request('POST', '/auth/logout');
  const again = await browser.json('POST', '/auth/login', { email: 'newcomer@example.com', password: PASSWORD });
  const recovery = enabled.body.recoveryCodes[0];
  t.equal((await browser.json('POST', '/auth/login/2fa', { challenge: again.body.challenge, code: recovery })).status, 200);
  await browser.request('POST', '/auth/logout');
  const third = await browser.json('POST', '/auth/login', { email: 'newcomer@example.com', password: PASSWORD });
  t.equal((await browser.json('POST', '/auth/login/2fa', { challenge: third.body.challenge, code: recovery })).status, 401, 'a recovery code works once');
});

t.test('in the sandbox, "Log in with GitHub" works against the simulated GitHub', async (t) => {
  const { base } = await serveTemp(t);
  const browser = new Browser(base);
  const start = await browser.request('GET', '/auth/github');
  t.equal(start.status, 302);
  const authorize = start.headers.get('location')!;
  t.match(authorize, /code_challenge_method=S256/);
  // The simulated GitHub answers the authorize step at once with a redirect back to our callback.
  const github = await fetch(authorize, { redirect: 'manual' });
  t.equal(github.status, 302);
  const callback = new URL(github.headers.get('location')!);
  const landed = await browser.request('GET', `${callback.pathname}${callback.search}`);
  t.equal(landed.status, 302);
  t.equal(landed.headers.get('location'), '/dashboard');
  const me = await browser.json('GET', '/auth/me');
  t.equal(me.status, 200);
  t.equal(me.body.user.emailVerified, true, 'GitHub vouched for the address');
  t.equal(me.body.user.hasPassword, false);
});

t.test('self-host with SMTP: mail really leaves through SMTP, its links work, and /dev/mail does not exist', async (t) => {
  const { startSmtpSink } = await import('../helpers/smtp-sink.js');
  const sink = await startSmtpSink();
  t.teardown(() => sink.close());
  const server = await serveTemp(t, { HOST: '127.0.0.1', TUITBOT_MODE: 'self-host', SMTP_URL: sink.url('mailer', 'smtp-secret-pw') });
  const { base } = server;
  const browser = new Browser(base);
  const signup = await browser.json('POST', '/auth/signup', { email: 'owner@example.com', password: PASSWORD });
  t.equal(signup.status, 201);
  t.equal(signup.body.user.role, 'admin', 'the first self-hosted account is the admin');
  const [mail] = await sink.waitFor(1, 10_000);
  t.equal(mail!.to, 'owner@example.com');
  t.equal(mail!.auth?.username, 'mailer', 'the SMTP login from SMTP_URL was used');
  const link = /(http:\/\/[^\s"<]+\/verify-email\?token=[a-z2-7]+)/.exec(mail!.text)?.[1];
  t.ok(link?.startsWith(base), 'the mailed link points at this server');
  t.match(mail!.html, /href="http:\/\/127\.0\.0\.1:\d+\/verify-email\?token=/);
  const confirm = await browser.json('POST', '/auth/verify-email', { token: new URL(link!).searchParams.get('token') });
  t.equal(confirm.status, 200);
  t.equal((await fetch(`${base}/dev/mail`)).status, 404, 'no sandbox mailbox outside the sandbox');
  t.equal((await new Browser(base).json('POST', '/auth/signup', { email: 'guest@example.com', password: PASSWORD })).status, 403, 'registration closed after the admin');
  t.notMatch(server.output(), /smtp-secret-pw/, 'the SMTP password never reaches the log');
  t.notMatch(server.output(), /token=[a-z2-7]{20}/, 'no token reaches the log');
});
