/**
 * The SMTP connection the outbox is delivered through: a nodemailer transport built from `SMTP_URL`
 * (`smtp://user:pass@host:587` upgrades with STARTTLS when the server offers it, `smtps://…:465` is TLS from
 * the first byte; nodemailer's query options such as `?tls.rejectUnauthorized=false` pass through).
 *
 * Sending returns a value, never throws: `{ ok: true }` or `{ ok: false, error, permanent }`, where permanent
 * means the server refused the recipient for good (5xx to RCPT TO), so retrying cannot help. Every stage of a
 * send has a timeout, and the whole send another, so a stuck server costs one attempt, not the sender loop.
 * The URL carries the password: only `describeSmtpUrl()` (credentials removed) is ever logged, and error
 * messages are scrubbed of the user name and password before anyone stores or logs them.
 */
import nodemailer from 'nodemailer';

export const DEFAULT_EMAIL_FROM = 'TuitBot <no-reply@localhost>';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers (List-Unsubscribe on periodic mail); never From, To or Subject. */
  headers?: Record<string, string>;
}

export type SendResult = { ok: true; messageId: string } | { ok: false; error: string; permanent: boolean };

export interface EmailTransport {
  send(mail: OutgoingEmail): Promise<SendResult>;
  /** The server without credentials, for logs. */
  readonly description: string;
  close(): void;
}

export interface TransportOptions {
  smtpUrl: string;
  from?: string;
  /** Connection, greeting and socket-idle timeout each (default 10 s). */
  timeoutMs?: number;
  /** Bound on one whole send (default 30 s). */
  sendTimeoutMs?: number;
}

export function createEmailTransport(options: TransportOptions): EmailTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const from = options.from ?? DEFAULT_EMAIL_FROM;
  const secrets = credentialsOf(options.smtpUrl);
  const transporter = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // nodemailer's own logger would print the SMTP dialogue, AUTH and message included.
    logger: false,
    debug: false,
  });
  const scrub = (message: string): string =>
    secrets.reduce((out, secret) => (secret.length >= 3 ? out.split(secret).join('***') : out), message);

  return {
    description: describeSmtpUrl(options.smtpUrl),
    async send(mail) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`send timed out after ${sendTimeoutMs} ms`), { code: 'ETIMEDOUT' })), sendTimeoutMs);
      });
      try {
        const info = await Promise.race([transporter.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, ...(mail.headers && { headers: mail.headers }) }), timeout]);
        return { ok: true, messageId: info.messageId };
      } catch (err) {
        const e = err as { message?: string; code?: string; responseCode?: number; command?: string };
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && /^RCPT\b/i.test(e.command ?? '');
        const error = [e.code, e.message ?? String(err)].filter(Boolean).join(': ');
        return { ok: false, error: scrub(error), permanent };
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => transporter.close(),
  };
}

/**
 * `smtps://smtp.example.com:465 (with login)`: no user either, because some providers (Postmark) use the
 * API token as the user name too.
 */
export function describeSmtpUrl(smtpUrl: string): string {
  try {
    const url = new URL(smtpUrl);
    return `${url.protocol}//${url.host}${url.username || url.password ? ' (with login)' : ''}`;
  } catch {
    return '(invalid SMTP_URL)';
  }
}

function credentialsOf(smtpUrl: string): string[] {
  try {
    const url = new URL(smtpUrl);
    return [url.password, url.username]
      .filter((part) => part !== '')
      .flatMap((part) => [part, safeDecode(part)]);
  } catch {
    return [];
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
