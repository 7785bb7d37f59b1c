/**
 * The product's transactional mail, each template a function of typed data to `{ subject, text, html }`.
 *
 * Model: a template describes its message as plain parts (a greeting line, paragraphs, at most one call to
 * action, a closing line); `layout()` turns those parts into a plain-text body and an HTML body, and is the one
 * place that escapes. So no template writes HTML, and no interpolated value reaches HTML unescaped. Data is
 * checked with valibot before rendering: links must be http(s) (an escaped `javascript:` URL is still a
 * script), and subjects are one line (a header never carries a newline). The mails are short and plain:
 * no images, no tracking pixels, no external resources.
 */
import * as v from 'valibot';
import { ApprovalReminderEventSchema, WeeklySummaryEventSchema } from '../../protocol/index.js';
import { approvalReminderMessage, weeklySummaryMessage } from './digests.js';

const PRODUCT = 'TuitBot';

const Link = v.pipe(
  v.string(),
  v.url('must be a URL'),
  v.check((value) => /^https?:\/\//i.test(value), 'must be an http(s) URL'),
);
const Address = v.pipe(v.string(), v.trim(), v.email('must be an email address'));
// Header values: collapse every run of whitespace (newlines included) to one space.
const OneLine = v.pipe(v.string(), v.transform((value) => value.replace(/\s+/g, ' ').trim()), v.minLength(1, 'must not be empty'));

const schemas = {
  verify_email: v.object({ link: Link }),
  reset_password: v.object({ link: Link }),
  change_email: v.object({ link: Link, newEmail: Address }),
  email_changed: v.object({ newEmail: Address }),
  two_factor_changed: v.object({ enabled: v.boolean() }),
  password_changed: v.object({}),
  account_deleted: v.object({ purgeDate: v.pipe(v.string(), v.isoDate('must be an ISO date (YYYY-MM-DD)')) }),
  weekly_summary: v.object({ summary: WeeklySummaryEventSchema, link: Link, settingsLink: Link, unsubscribeLink: Link }),
  approval_reminder: v.object({ reminder: ApprovalReminderEventSchema, now: v.pipe(v.number(), v.integer()), link: Link, unsubscribeLink: Link }),
  notice: v.object({
    subject: OneLine,
    /** Plain text; blank lines separate paragraphs. */
    body: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
    link: v.optional(Link),
    linkText: v.optional(OneLine),
  }),
};

export type TemplateName = keyof typeof schemas;
export type TemplateData = { [K in TemplateName]: v.InferInput<(typeof schemas)[K]> };

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export const TEMPLATE_NAMES = Object.keys(schemas) as TemplateName[];

export function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(schemas, name);
}

/** Throws (a ValiError) when the data does not fit the template: that is a bug in the caller, not user input. */
export function render<T extends TemplateName>(template: T, data: TemplateData[T]): RenderedEmail {
  return renderUnchecked(template, data);
}

/** For callers whose template name and data are only known at run time; validates both. */
export function renderUnchecked(template: string, data: unknown): RenderedEmail {
  if (!isTemplateName(template)) throw new TypeError(`unknown email template: ${template}`);
  return renderParsed(template, v.parse(schemas[template] as v.GenericSchema<unknown, Parsed[typeof template]>, data));
}

type Parsed = { [K in TemplateName]: v.InferOutput<(typeof schemas)[K]> };

export interface Message {
  subject: string;
  paragraphs: string[];
  action?: { link: string; label: string };
  /** Shown after the action, usually expiry and "if this wasn't you". */
  after?: string[];
  /** Periodic mail: the link that turns it off (the List-Unsubscribe headers carry it too). */
  unsubscribe?: { link: string; label: string };
}

const builders: { [K in TemplateName]: (data: Parsed[K]) => Message } = {
  verify_email: ({ link }) => ({
    subject: 'Confirm your email address',
    paragraphs: [`Welcome to ${PRODUCT}. Please confirm your email address to finish setting up your account.`],
    action: { link, label: 'Confirm email address' },
    after: [`This link expires in 24 hours. If you didn't create a ${PRODUCT} account, you can ignore this email.`],
  }),
  reset_password: ({ link }) => ({
    subject: `Reset your ${PRODUCT} password`,
    paragraphs: [`Someone asked to reset the password of your ${PRODUCT} account. Choose a new password here:`],
    action: { link, label: 'Choose a new password' },
    after: [
      'This link expires in 30 minutes and works once.',
      "If you didn't ask for this, ignore this email: your password stays as it is.",
    ],
  }),
  change_email: ({ link, newEmail }) => ({
    subject: 'Confirm your new email address',
    paragraphs: [`You asked to use ${newEmail} for your ${PRODUCT} account. Please confirm this address:`],
    action: { link, label: 'Confirm new address' },
    after: [
      'This link expires in 24 hours. Until you confirm, your account keeps its current address.',
      "If you didn't ask for this, ignore this email.",
    ],
  }),
  email_changed: ({ newEmail }) => ({
    subject: `Your ${PRODUCT} email address was changed`,
    paragraphs: [
      `The email address of your ${PRODUCT} account was changed to ${newEmail}. We will write to that address from now on.`,
      "If you didn't make this change, someone else may have access to your account: contact support right away.",
    ],
  }),
  two_factor_changed: ({ enabled }) => ({
    subject: enabled ? 'Two-factor authentication is on' : 'Two-factor authentication was turned off',
    paragraphs: [
      enabled
        ? `Two-factor authentication was turned on for your ${PRODUCT} account. Signing in now also asks for a code from your authenticator app. Keep your recovery codes somewhere safe.`
        : `Two-factor authentication was turned off for your ${PRODUCT} account. Signing in now needs only your password.`,
      "If you didn't make this change, reset your password and contact support right away.",
    ],
  }),
  password_changed: () => ({
    subject: `Your ${PRODUCT} password was changed`,
    paragraphs: [
      `The password of your ${PRODUCT} account was just changed. If that was you, there is nothing else to do.`,
      `If it wasn't, reset your password right away with "Forgot password" on the sign-in page, and contact support.`,
    ],
  }),
  account_deleted: ({ purgeDate }) => ({
    subject: `Your ${PRODUCT} account was deleted`,
    paragraphs: [
      `Your ${PRODUCT} account was deleted and signed out everywhere. Its data will be erased for good on ${purgeDate} (UTC).`,
      "If you didn't do this, contact support before that date.",
    ],
  }),
  weekly_summary: weeklySummaryMessage,
  approval_reminder: approvalReminderMessage,
  notice: ({ subject, body, link, linkText }) => ({
    subject,
    paragraphs: body
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter((p) => p !== ''),
    ...(link !== undefined && { action: { link, label: linkText ?? `Open ${PRODUCT}` } }),
  }),
};

function renderParsed<T extends TemplateName>(template: T, data: Parsed[T]): RenderedEmail {
  return layout(builders[template](data));
}

function layout(message: Message): RenderedEmail {
  const after = message.after ?? [];
  const textParts = [
    'Hello,',
    ...message.paragraphs,
    ...(message.action ? [`${message.action.label}:\n${message.action.link}`] : []),
    ...after,
    `— The ${PRODUCT} team`,
    ...(message.unsubscribe ? [`${message.unsubscribe.label}:\n${message.unsubscribe.link}`] : []),
  ];
  const p = (content: string, style = ''): string =>
    `<p style="margin:0 0 16px;${style}">${escapeHtml(content).replace(/\n/g, '<br>')}</p>`;
  const action = message.action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(message.action.link)}" style="background:#1d9bf0;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none;display:inline-block">${escapeHtml(message.action.label)}</a></p>` +
      `<p style="margin:0 0 16px;font-size:13px;color:#555">Or paste this link into your browser:<br><a href="${escapeHtml(message.action.link)}" style="color:#1d9bf0;word-break:break-all">${escapeHtml(message.action.link)}</a></p>`
    : '';
  const html = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(message.subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f5f7f9;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1a1a1a">',
    '<div style="max-width:520px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px">',
    `<p style="margin:0 0 16px;font-weight:600">${PRODUCT}</p>`,
    p('Hello,'),
    ...message.paragraphs.map((para) => p(para)),
    action,
    ...after.map((para) => p(para, 'font-size:13px;color:#555')),
    p(`— The ${PRODUCT} team`),
    message.unsubscribe
      ? `<p style="margin:16px 0 0;font-size:12px;color:#777"><a href="${escapeHtml(message.unsubscribe.link)}" style="color:#777">${escapeHtml(message.unsubscribe.label)}</a></p>`
      : '',
    '</div></body></html>',
  ].join('\n');
  return { subject: message.subject, text: `${textParts.join('\n\n')}\n`, html };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
