/**
 * The supervisor's configuration, read once from environment variables.
 *
 * Every variable is validated together, so a bad setup fails at start with one message that
 * lists every problem instead of one problem per restart. `.env.example` documents them all.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import * as v from 'valibot';

export type Mode = 'sandbox' | 'self-host' | 'cloud';

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  publicUrl: string | null;
  /**
   * Other browser origins trusted to use the API with the session cookie (TRUSTED_ORIGINS): CORS with credentials,
   * the CSRF check and the WebSocket handshake accept them. The desktop build served by a local shell.
   */
  trustedOrigins: readonly string[];
  trustProxy: boolean;
  /** Bearer token for /metrics; null leaves it open (loopback and self-host default). */
  metricsToken: string | null;
  http: { maxBodyBytes: number; bodyTimeoutMs: number; requestTimeoutMs: number };
  /** Uploaded media a tenant may store in all (supervisor/media/store.ts has the per-file limits). */
  mediaQuotaBytes: number;
  tenants: {
    threads: number;
    idleMs: number;
    heapMb: number;
    heartbeatMs: number;
    heartbeatTimeoutMs: number;
    metricsMs: number;
    activationQueue: number;
    crashLimit: number;
    crashWindowMs: number;
    restartBackoffMs: number;
    restartBackoffMaxMs: number;
  };
  shutdownTimeoutMs: number;
  devHooks: boolean;
  /** Scheduled backups into `<dataDir>/backups/` (intervalMs 0: none) and how many to keep. */
  backups: { intervalMs: number; keepDaily: number; keepWeekly: number };
  /** Who may sign up. Cloud and sandbox: open. Self-host: the first account, then closed unless set. */
  registration: 'open' | 'invite' | 'closed';
  /**
   * The master key for secrets at rest (32 bytes), or null to use `<dataDir>/encryption.key`
   * (self-host and sandbox only). Serializes as "[redacted]" so logging the config never prints it.
   */
  encryptionKey: Uint8Array | null;
  /** Earlier master keys (ENCRYPTION_KEYS_PREVIOUS): they only open what they sealed, during a rotation. */
  encryptionKeysPrevious: Uint8Array[];
  /** "Log in with GitHub", or null when no OAuth app is configured (no button; the routes answer 404). */
  github: GitHubConfig | null;
  /** Outgoing mail. Serializes with the SMTP credentials as "[redacted]". */
  email: EmailConfig;
  billing: BillingConfig;
  x: XAppConfig;
}

/**
 * The X app users connect through: ours in the cloud, the self-hoster's own, the sandbox's simulated X
 * when none is configured in sandbox mode, or none (self-host without an app: connecting explains
 * what to set). Serializes with the client secret as "[redacted]".
 */
export type XAppConfig = ({ kind: 'none' } & XEndpoints) | { kind: 'sandbox' } | ({ kind: 'app' } & XAppSettings);

/** X's endpoints (settings, so the sandbox and tests use the same code). */
export interface XEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  apiUrl: string;
  uploadUrl: string;
}

export interface XAppSettings extends XEndpoints {
  clientId: string;
  /** null: a public client (PKCE only). */
  clientSecret: string | null;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  apiUrl: string;
  uploadUrl: string;
}

/**
 * Billing: off for self-hosters; the simulated Stripe in sandbox mode unless Stripe keys are given;
 * real Stripe in the cloud. Serializes with the keys as "[redacted]".
 */
export type BillingConfig =
  | { kind: 'disabled' }
  | { kind: 'sandbox' }
  | {
      kind: 'stripe';
      secretKey: string;
      webhookSecret: string;
      prices: { starter: string; growth: string; pro: string };
      /** A metered price for X usage beyond the allowance; null = overage is not offered. */
      overagePrice: string | null;
      /** The billing meter's event name that `overagePrice` counts (value = US cents). */
      overageMeter: string;
      /** Another Stripe API base (tests, a proxy); null = api.stripe.com. */
      apiUrl: string | null;
    };

/** A GitHub OAuth app and the endpoints it talks to (the fake's, in the sandbox and in tests). */
export interface GitHubConfig {
  clientId: string;
  /** Serializes as "[redacted]" with the rest of this object. */
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
}

export interface EmailConfig {
  /** null: no mail is sent, it stays queued in the outbox (in sandbox mode readable at /dev/mail). */
  smtpUrl: string | null;
  from: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function integer(fallback: number, min: number, max: number) {
  return v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^\d+$/, 'must be a whole number'),
      v.transform(Number),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    ),
    String(fallback),
  );
}

function flag(fallback: boolean) {
  return v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.toLowerCase(),
      v.picklist(['1', '0', 'true', 'false', 'yes', 'no'], 'must be true or false'),
      v.transform((value) => ['1', 'true', 'yes'].includes(value)),
    ),
    fallback ? 'true' : 'false',
  );
}

function stripePrice() {
  return v.pipe(v.string(), v.trim(), v.regex(/^price_[A-Za-z0-9_]+$/, 'must be a Stripe price id (price_…)'));
}

/**
 * A comma-separated list of exact web origins (scheme://host[:port], no path), or the problem with it. `*` and `null`
 * are refused: whoever is named here can act with a user's session cookie, so each must be named.
 */
export function parseOrigins(text: string): string[] | { problem: string } {
  const origins: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry === '*') return { problem: '`*` is refused: every origin listed may act with a signed-in user\'s cookie, so name each one (e.g. http://127.0.0.1:5173)' };
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return { problem: `${JSON.stringify(entry)} is not an origin such as http://127.0.0.1:5173` };
    }
    // URL.origin drops a default port and lower-cases the host, so compare against it: browsers send it that way.
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== entry.replace(/\/$/, '')) {
      return { problem: `${JSON.stringify(entry)} is not an origin such as http://127.0.0.1:5173 (http or https, lower-case host, no path, no default port)` };
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return origins;
}

/** 32 bytes as 64 hex digits or base64 (standard or URL-safe, padding optional); undefined otherwise. */
export function parseEncryptionKey(text: string): Uint8Array | undefined {
  const value = text.trim();
  // Copied out of Buffer's shared pool into memory of its own.
  if (/^[0-9a-f]{64}$/i.test(value)) return new Uint8Array(Buffer.from(value, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.byteLength === 32) return new Uint8Array(bytes);
  }
  return undefined;
}

/** Makes `value` log and print (JSON and util.inspect) as `shown()` does: how secrets stay out of logs. */
function printsAs<T extends object>(value: T, shown: () => unknown): T {
  Object.defineProperty(value, 'toJSON', { value: shown });
  Object.defineProperty(value, Symbol.for('nodejs.util.inspect.custom'), { value: shown });
  return value;
}

/** A key that logs and prints as "[redacted]". */
const redacted = (key: Uint8Array): Uint8Array => printsAs(key, () => '[redacted]');

/** GitHub or X app settings that log and print with the client secret as "[redacted]". */
const redactedSecret = <T extends { clientSecret: string | null }>(app: T): T => printsAs(app, () => ({ ...app, clientSecret: '[redacted]' }));

/** Stripe settings that log and print with both keys as "[redacted]". */
const redactedStripe = <T extends BillingConfig>(billing: T): T => printsAs(billing, () => ({ ...billing, secretKey: '[redacted]', webhookSecret: '[redacted]' }));

/** Email settings that log and print with the SMTP user and password as "[redacted]". */
const redactedSmtp = (email: EmailConfig): EmailConfig =>
  printsAs(email, () => ({ ...email, smtpUrl: email.smtpUrl?.replace(/^(smtps?:\/\/)[^@/?#]*@/i, '$1[redacted]@') ?? null }));

const EnvSchema = v.object({
  TUITBOT_MODE: v.optional(v.picklist(['sandbox', 'self-host', 'cloud'], 'must be sandbox, self-host or cloud'), 'sandbox'),
  HOST: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'))),
  PORT: integer(3001, 0, 65535),
  DATA_DIR: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty')), './data'),
  LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'must be a pino level'), 'info'),
  PUBLIC_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL such as https://app.example.com'))),
  TRUSTED_ORIGINS: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => Array.isArray(parseOrigins(value)),
        (issue) => (parseOrigins(String(issue.input)) as { problem: string }).problem,
      ),
    ),
  ),
  TRUST_PROXY: flag(false),
  METRICS_TOKEN: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  HTTP_MAX_BODY_BYTES: integer(1_048_576, 1024, 64 * 1_048_576),
  HTTP_BODY_TIMEOUT_MS: integer(10_000, 100, 300_000),
  MEDIA_QUOTA_BYTES: integer(512 * 1_048_576, 1024, 1024 * 1_048_576 * 1024),
  HTTP_REQUEST_TIMEOUT_MS: integer(15_000, 100, 300_000),
  TENANT_THREADS: integer(Math.max(4, availableParallelism() * 4), 1, 1024),
  TENANT_IDLE_MS: integer(30_000, 0, 3_600_000),
  TENANT_HEAP_MB: integer(96, 16, 4096),
  TENANT_HEARTBEAT_MS: integer(1_000, 10, 60_000),
  TENANT_HEARTBEAT_TIMEOUT_MS: integer(10_000, 50, 600_000),
  TENANT_METRICS_MS: integer(5_000, 10, 600_000),
  TENANT_ACTIVATION_QUEUE: integer(10_000, 1, 1_000_000),
  TENANT_CRASH_LIMIT: integer(3, 0, 100),
  TENANT_CRASH_WINDOW_MS: integer(600_000, 1_000, 86_400_000),
  TENANT_RESTART_BACKOFF_MS: integer(1_000, 1, 600_000),
  TENANT_RESTART_BACKOFF_MAX_MS: integer(60_000, 1, 3_600_000),
  SHUTDOWN_TIMEOUT_MS: integer(9_000, 100, 60_000),
  BACKUP_INTERVAL_MS: integer(86_400_000, 0, 30 * 86_400_000),
  BACKUP_KEEP_DAILY: integer(7, 1, 366),
  BACKUP_KEEP_WEEKLY: integer(4, 0, 520),
  TUITBOT_DEV_HOOKS: flag(false),
  // Carries the SMTP password: no message here may quote the value.
  SMTP_URL: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.url('must be a URL such as smtps://user:password@smtp.example.com:465'),
      v.check((value) => /^smtps?:\/\/[^/?#]/i.test(value), 'must start with smtp:// or smtps://'),
    ),
  ),
  EMAIL_FROM: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, 'must be an address such as TuitBot <no-reply@example.com>'),
    ),
    'TuitBot <no-reply@localhost>',
  ),
  REGISTRATION: v.optional(v.picklist(['open', 'invite', 'closed'], 'must be open, invite or closed')),
  // The message never echoes the value: it is a secret.
  ENCRYPTION_KEY: v.optional(
    v.pipe(
      v.string(),
      v.check((value) => parseEncryptionKey(value) !== undefined, 'must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)'),
    ),
  ),
  ENCRYPTION_KEYS_PREVIOUS: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => value.split(',').every((key) => parseEncryptionKey(key) !== undefined),
        'must be a comma-separated list of 32-byte keys (64 hex digits or base64)',
      ),
    ),
  ),
  GITHUB_CLIENT_ID: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'))),
  GITHUB_CLIENT_SECRET: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'))),
  GITHUB_AUTHORIZE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://github.com/login/oauth/authorize'),
  GITHUB_TOKEN_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://github.com/login/oauth/access_token'),
  GITHUB_API_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://api.github.com'),
  // Secrets: no message here may quote the value.
  STRIPE_SECRET_KEY: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, 'must be a Stripe secret or restricted key (sk_… or rk_…)'))),
  STRIPE_WEBHOOK_SECRET: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must be a webhook signing secret (whsec_…)'))),
  STRIPE_PRICE_STARTER: v.optional(stripePrice()),
  STRIPE_PRICE_GROWTH: v.optional(stripePrice()),
  STRIPE_PRICE_PRO: v.optional(stripePrice()),
  STRIPE_PRICE_OVERAGE: v.optional(stripePrice()),
  STRIPE_OVERAGE_METER: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[a-z0-9_]{1,100}$/, 'must be a meter event name (lower-case letters, digits, _)')), 'tuitbot_x_overage'),
  STRIPE_API_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
  X_API_CLIENT_ID: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'))),
  X_API_CLIENT_SECRET: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'))),
  X_AUTHORIZE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://x.com/i/oauth2/authorize'),
  X_TOKEN_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://api.x.com/2/oauth2/token'),
  X_REVOKE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://api.x.com/2/oauth2/revoke'),
  X_API_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://api.x.com/2'),
  X_UPLOAD_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL')), 'https://upload.twitter.com/1.1/media/upload.json'),
});

/** Every environment variable the product reads (`.env.example` must document each). */
export const ENV_VARIABLES: readonly string[] = Object.keys(EnvSchema.entries);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings are "unset", as docker-compose writes them for blank .env lines.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = v.safeParse(EnvSchema, present);
  if (!parsed.success) {
    throw new ConfigError(parsed.issues.map((issue) => `${v.getDotPath(issue) ?? '(environment)'}: ${issue.message}`));
  }
  const e = parsed.output;
  const problems: string[] = [];
  if (e.TUITBOT_MODE === 'cloud') {
    if (!e.PUBLIC_URL) problems.push('PUBLIC_URL: required in cloud mode (the address users reach)');
    if (!e.METRICS_TOKEN) problems.push('METRICS_TOKEN: required in cloud mode (/metrics names tenants)');
    if (e.TUITBOT_DEV_HOOKS) problems.push('TUITBOT_DEV_HOOKS: fault injection is refused in cloud mode');
    if (!e.SMTP_URL) problems.push('SMTP_URL: required in cloud mode (verification and password reset mail must reach users)');
    if (!e.ENCRYPTION_KEY) problems.push('ENCRYPTION_KEY: required in cloud mode (it encrypts every secret at rest)');
  }
  if ((e.GITHUB_CLIENT_ID === undefined) !== (e.GITHUB_CLIENT_SECRET === undefined)) {
    const [missing, given] = e.GITHUB_CLIENT_ID === undefined ? ['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET'] : ['GITHUB_CLIENT_SECRET', 'GITHUB_CLIENT_ID'];
    problems.push(`${missing}: required with ${given} (set both for "Log in with GitHub", or neither)`);
  }
  const stripeRequired = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_PRICE_STARTER', 'STRIPE_PRICE_GROWTH', 'STRIPE_PRICE_PRO'] as const;
  const stripeGiven = stripeRequired.filter((name) => e[name] !== undefined);
  if (e.TUITBOT_MODE === 'cloud' || (e.TUITBOT_MODE === 'sandbox' && stripeGiven.length > 0)) {
    for (const name of stripeRequired) {
      if (e[name] === undefined) problems.push(`${name}: required ${e.TUITBOT_MODE === 'cloud' ? 'in cloud mode (billing)' : 'with the other Stripe settings'}`);
    }
  }
  if (e.TUITBOT_MODE === 'cloud' && (!e.X_API_CLIENT_ID || !e.X_API_CLIENT_SECRET)) {
    problems.push(`${e.X_API_CLIENT_ID ? 'X_API_CLIENT_SECRET' : 'X_API_CLIENT_ID'}: required in cloud mode (users connect X through our app)`);
  }
  if (e.X_API_CLIENT_SECRET && !e.X_API_CLIENT_ID) problems.push('X_API_CLIENT_ID: required with X_API_CLIENT_SECRET');
  if (e.TENANT_HEARTBEAT_TIMEOUT_MS <= e.TENANT_HEARTBEAT_MS) {
    problems.push('TENANT_HEARTBEAT_TIMEOUT_MS: must be longer than TENANT_HEARTBEAT_MS');
  }
  if (e.TENANT_RESTART_BACKOFF_MAX_MS < e.TENANT_RESTART_BACKOFF_MS) {
    problems.push('TENANT_RESTART_BACKOFF_MAX_MS: must not be below TENANT_RESTART_BACKOFF_MS');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const xEndpoints: XEndpoints = {
    authorizeUrl: e.X_AUTHORIZE_URL,
    tokenUrl: e.X_TOKEN_URL,
    revokeUrl: e.X_REVOKE_URL,
    apiUrl: e.X_API_URL.replace(/\/$/, ''),
    uploadUrl: e.X_UPLOAD_URL,
  };

  return {
    mode: e.TUITBOT_MODE,
    // A newcomer's sandbox stays on loopback; a container must listen on every interface.
    host: e.HOST ?? (e.TUITBOT_MODE === 'sandbox' ? '127.0.0.1' : '0.0.0.0'),
    port: e.PORT,
    dataDir: resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    publicUrl: e.PUBLIC_URL ?? null,
    trustedOrigins: e.TRUSTED_ORIGINS === undefined ? [] : (parseOrigins(e.TRUSTED_ORIGINS) as string[]),
    trustProxy: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN ?? null,
    http: { maxBodyBytes: e.HTTP_MAX_BODY_BYTES, bodyTimeoutMs: e.HTTP_BODY_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS },
    mediaQuotaBytes: e.MEDIA_QUOTA_BYTES,
    tenants: {
      threads: e.TENANT_THREADS,
      idleMs: e.TENANT_IDLE_MS,
      heapMb: e.TENANT_HEAP_MB,
      heartbeatMs: e.TENANT_HEARTBEAT_MS,
      heartbeatTimeoutMs: e.TENANT_HEARTBEAT_TIMEOUT_MS,
      metricsMs: e.TENANT_METRICS_MS,
      activationQueue: e.TENANT_ACTIVATION_QUEUE,
      crashLimit: e.TENANT_CRASH_LIMIT,
      crashWindowMs: e.TENANT_CRASH_WINDOW_MS,
      restartBackoffMs: e.TENANT_RESTART_BACKOFF_MS,
      restartBackoffMaxMs: e.TENANT_RESTART_BACKOFF_MAX_MS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    devHooks: e.TUITBOT_DEV_HOOKS,
    backups: { intervalMs: e.BACKUP_INTERVAL_MS, keepDaily: e.BACKUP_KEEP_DAILY, keepWeekly: e.BACKUP_KEEP_WEEKLY },
    email: redactedSmtp({ smtpUrl: e.SMTP_URL ?? null, from: e.EMAIL_FROM }),
    registration: e.REGISTRATION ?? (e.TUITBOT_MODE === 'self-host' ? 'closed' : 'open'),
    encryptionKey: e.ENCRYPTION_KEY === undefined ? null : redacted(parseEncryptionKey(e.ENCRYPTION_KEY)!),
    encryptionKeysPrevious: (e.ENCRYPTION_KEYS_PREVIOUS?.split(',') ?? []).map((key) => redacted(parseEncryptionKey(key)!)),
    billing:
      e.TUITBOT_MODE === 'self-host'
        ? { kind: 'disabled' }
        : e.STRIPE_SECRET_KEY === undefined
          ? { kind: 'sandbox' }
          : redactedStripe({
              kind: 'stripe',
              secretKey: e.STRIPE_SECRET_KEY,
              webhookSecret: e.STRIPE_WEBHOOK_SECRET!,
              prices: { starter: e.STRIPE_PRICE_STARTER!, growth: e.STRIPE_PRICE_GROWTH!, pro: e.STRIPE_PRICE_PRO! },
              overagePrice: e.STRIPE_PRICE_OVERAGE ?? null,
              overageMeter: e.STRIPE_OVERAGE_METER,
              apiUrl: e.STRIPE_API_URL ?? null,
            }),
    x: e.X_API_CLIENT_ID
      ? redactedSecret({ kind: 'app' as const, clientId: e.X_API_CLIENT_ID, clientSecret: e.X_API_CLIENT_SECRET ?? null, ...xEndpoints })
      : e.TUITBOT_MODE === 'sandbox'
        ? { kind: 'sandbox' }
        : { kind: 'none', ...xEndpoints },
    github:
      e.GITHUB_CLIENT_ID !== undefined && e.GITHUB_CLIENT_SECRET !== undefined
        ? redactedSecret({
            clientId: e.GITHUB_CLIENT_ID,
            clientSecret: e.GITHUB_CLIENT_SECRET,
            authorizeUrl: e.GITHUB_AUTHORIZE_URL,
            tokenUrl: e.GITHUB_TOKEN_URL,
            apiUrl: e.GITHUB_API_URL,
          })
        : null,
  };
}
