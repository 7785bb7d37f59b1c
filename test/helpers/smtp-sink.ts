/**
 * A real SMTP server on 127.0.0.1 (port 0) for tests: it accepts any login (or none), parses every message
 * with mailparser into `inbox`, and can be told to refuse the next N messages with a given reply code
 * (4xx temporary, 5xx permanent; at RCPT TO or after DATA) to exercise retries.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The SMTP envelope, as the server saw it. */
  envelope: { from: string; to: string[] };
  /** The login the client used, if any. */
  auth: { username: string; password: string } | null;
  parsed: ParsedMail;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  raw: string;
}

export interface RejectOptions {
  /** The SMTP reply code (default 451). */
  code?: number;
  /** Where the refusal happens (default 'data': after the whole message was received). */
  stage?: 'rcpt' | 'data';
}

export interface SmtpSink {
  port: number;
  /** `smtp://user:pass@127.0.0.1:<port>` */
  url(user?: string, pass?: string): string;
  inbox: ReceivedMail[];
  /** Messages refused so far. */
  rejected: number;
  /** Refuse the next `count` messages. */
  rejectNext(count: number, options?: RejectOptions): void;
  /** Resolves once the inbox holds at least `count` messages (rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const inbox: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let pending: { count: number; code: number; stage: 'rcpt' | 'data' } = { count: 0, code: 451, stage: 'data' };
  const logins = new Map<string, { username: string; password: string }>();

  const refusal = (stage: 'rcpt' | 'data'): Error | null => {
    if (pending.count <= 0 || pending.stage !== stage) return null;
    pending.count -= 1;
    sink.rejected += 1;
    const error = new Error(pending.code >= 500 ? 'Mailbox unavailable (test sink)' : 'Try again later (test sink)') as Error & { responseCode: number };
    error.responseCode = pending.code;
    return error;
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // No TLS on loopback; let clients log in anyway so the credentials path is exercised.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, session, callback) {
      logins.set(session.id, { username: auth.username ?? '', password: auth.password ?? '' });
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onRcptTo(_address, _session, callback) {
      callback(refusal('rcpt'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const error = refusal('data');
        if (error) return callback(error);
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            inbox.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              auth: logins.get(session.id) ?? null,
              parsed,
              from: parsed.from?.text ?? '',
              to: [parsed.to ?? []].flat().map((a) => a.text).join(', '),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html || '',
              raw,
            });
            for (const wake of [...waiters]) wake();
            callback(null);
          })
          .catch((err: unknown) => callback(err as Error));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  const sink: SmtpSink = {
    port,
    url: (user, pass) => `smtp://${user ? `${encodeURIComponent(user)}:${encodeURIComponent(pass ?? '')}@` : ''}127.0.0.1:${port}`,
    inbox,
    rejected: 0,
    rejectNext(count, options = {}) {
      pending = { count, code: options.code ?? 451, stage: options.stage ?? 'data' };
    },
    waitFor(count, timeoutMs = 5_000) {
      if (inbox.length >= count) return Promise.resolve(inbox);
      return new Promise((resolve, reject) => {
        const wake = (): void => {
          if (inbox.length < count) return;
          cleanup();
          resolve(inbox);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`smtp sink: ${inbox.length} of ${count} messages after ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return sink;
}
