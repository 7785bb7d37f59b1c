import t from 'tap';
import { escapeHtml, isTemplateName, render, renderUnchecked, TEMPLATE_NAMES, type TemplateData, type TemplateName } from '../../../supervisor/email/templates.js';

const XSS = '<script>alert(1)</script>';
const LINK = 'https://app.example.com/verify-email?token=abcdefghijklmnopqrstu&x=1';

const samples: { [K in TemplateName]: TemplateData[K] } = {
  verify_email: { link: LINK },
  reset_password: { link: LINK },
  change_email: { link: LINK, newEmail: 'new@example.com' },
  email_changed: { newEmail: 'new@example.com' },
  two_factor_changed: { enabled: true },
  password_changed: {},
  account_deleted: { purgeDate: '2030-01-31' },
  notice: { subject: 'Your X account was disconnected', body: `First paragraph ${XSS}.\n\nSecond paragraph.`, link: LINK, linkText: 'Reconnect' },
  weekly_summary: {
    summary: {
      weekStart: 1_763_337_600_000,
      weekEnd: 1_763_942_400_000,
      firstDay: '2025-11-17',
      lastDay: '2025-11-23',
      timeZone: 'UTC',
      posts: { replies: 2, tweets: 3, threads: 0, total: 5 },
      capacity: 77,
      followers: { start: 100, end: 112, delta: 12 },
      avgScore: { reply: null, tweet: 11 },
      replyAcceptanceRate: null,
      topPosts: [{ kind: 'tweet', preview: `best ${XSS}`, score: 12, likes: 5, replies: 1, retweets: 1 }],
      recommendations: [],
      pendingApprovals: 0,
    },
    link: 'https://app.example.com/dashboard',
    settingsLink: 'https://app.example.com/dashboard/settings',
    unsubscribeLink: 'https://app.example.com/unsubscribe?token=t',
  },
  approval_reminder: {
    reminder: { day: '2025-11-24', pending: 5, oldestAt: 0, byKind: { reply: 3, tweet: 2, thread: 0 } },
    now: 14 * 3_600_000,
    link: 'https://app.example.com/dashboard/approvals',
    unsubscribeLink: 'https://app.example.com/unsubscribe?token=t',
  },
};

t.test('every template renders a subject, a text body and an HTML body that name TuitBot', async (t) => {
  t.same([...TEMPLATE_NAMES].sort(), Object.keys(samples).sort(), 'the samples cover every template');
  for (const name of TEMPLATE_NAMES) {
    const mail = render(name, samples[name] as never);
    t.ok(mail.subject.length > 0 && !/[\r\n]/.test(mail.subject), `${name}: one-line subject`);
    t.match(mail.text, /TuitBot/, `${name}: text names the product`);
    t.match(mail.html, /^<!doctype html>/, `${name}: html document`);
    t.match(mail.html, /TuitBot/, `${name}: html names the product`);
    t.notMatch(mail.html, /<img|<script|https?:\/\/(?!app\.example\.com)/i, `${name}: no images, scripts or foreign resources`);
  }
});

t.test('links appear in both the text and the HTML body', async (t) => {
  for (const name of ['verify_email', 'reset_password', 'change_email', 'notice'] as const) {
    const mail = render(name, samples[name] as never);
    t.ok(mail.text.includes(LINK), `${name}: raw link in text`);
    t.ok(mail.html.includes(`href="${escapeHtml(LINK)}"`), `${name}: escaped link as href in html`);
  }
});

t.test('the HTML body escapes every interpolated value', async (t) => {
  const notice = render('notice', { subject: `Hi ${XSS}`, body: XSS, linkText: XSS, link: `${LINK}&q="><script>` });
  t.notMatch(notice.html, /<script>/);
  t.match(notice.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.notMatch(notice.html, /"><script>/, 'an attribute cannot be broken out of');
  t.match(notice.text, XSS, 'the text body keeps it verbatim (it is plain text)');
  t.match(render('verify_email', { link: LINK }).html, 'token=abcdefghijklmnopqrstu&amp;x=1', '& in a link is escaped too');
  t.throws(() => render('change_email', { link: LINK, newEmail: '"<b>x</b>"@example.com' }), 'addresses are plain addresses');
});

t.test('each template says what the brief asks', async (t) => {
  t.equal(render('verify_email', samples.verify_email).subject, 'Confirm your email address');
  t.match(render('verify_email', samples.verify_email).text, /24 hours/);
  const reset = render('reset_password', samples.reset_password).text;
  t.match(reset, /30 minutes/);
  t.match(reset, /didn't ask for this, ignore/);
  t.match(render('change_email', samples.change_email).text, /new@example\.com/);
  t.match(render('email_changed', samples.email_changed).text, /changed to new@example\.com/);
  t.match(render('two_factor_changed', { enabled: true }).subject, /on/);
  t.match(render('two_factor_changed', { enabled: false }).subject, /off/);
  t.match(render('account_deleted', samples.account_deleted).text, /2030-01-31/);
  const notice = render('notice', samples.notice);
  t.equal(notice.subject, 'Your X account was disconnected');
  t.match(notice.text, /Reconnect:\nhttps:/);
  t.match(render('notice', { subject: 'Billing', body: 'Paid.' }).text, /Paid\./, 'link is optional');
});

t.test('bad data is refused: non-http links, multi-line subjects, unknown templates', async (t) => {
  t.throws(() => render('verify_email', { link: 'javascript:alert(1)' }));
  t.throws(() => render('reset_password', { link: 'not a url' }));
  t.equal(render('notice', { subject: 'a\r\nBcc: victim@example.com', body: 'x' }).subject, 'a Bcc: victim@example.com', 'newlines collapse');
  t.throws(() => render('account_deleted', { purgeDate: 'next week' }));
  t.throws(() => renderUnchecked('no_such_template', {}), /unknown email template/);
  t.throws(() => renderUnchecked('verify_email', { nope: 1 }));
  t.equal(isTemplateName('toString'), false, 'prototype keys are not templates');
});
