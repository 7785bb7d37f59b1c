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
  trustProxy: boolean;
  /** Bearer token for /metrics; null leaves it open (loopback and self-host default). */
  metricsToken: string | null;
  http: { maxBodyBytes: number; bodyTimeoutMs: number; requestTimeoutMs: number };
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

const EnvSchema = v.object({
  TUITBOT_MODE: v.optional(v.picklist(['sandbox', 'self-host', 'cloud'], 'must be sandbox, self-host or cloud'), 'sandbox'),
  HOST: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'))),
  PORT: integer(3001, 0, 65535),
  DATA_DIR: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty')), './data'),
  LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'must be a pino level'), 'info'),
  PUBLIC_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL such as https://app.example.com'))),
  TRUST_PROXY: flag(false),
  METRICS_TOKEN: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  HTTP_MAX_BODY_BYTES: integer(1_048_576, 1024, 64 * 1_048_576),
  HTTP_BODY_TIMEOUT_MS: integer(10_000, 100, 300_000),
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
  TUITBOT_DEV_HOOKS: flag(false),
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
  }
  if (e.TENANT_HEARTBEAT_TIMEOUT_MS <= e.TENANT_HEARTBEAT_MS) {
    problems.push('TENANT_HEARTBEAT_TIMEOUT_MS: must be longer than TENANT_HEARTBEAT_MS');
  }
  if (e.TENANT_RESTART_BACKOFF_MAX_MS < e.TENANT_RESTART_BACKOFF_MS) {
    problems.push('TENANT_RESTART_BACKOFF_MAX_MS: must not be below TENANT_RESTART_BACKOFF_MS');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    mode: e.TUITBOT_MODE,
    // A newcomer's sandbox stays on loopback; a container must listen on every interface.
    host: e.HOST ?? (e.TUITBOT_MODE === 'sandbox' ? '127.0.0.1' : '0.0.0.0'),
    port: e.PORT,
    dataDir: resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    publicUrl: e.PUBLIC_URL ?? null,
    trustProxy: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN ?? null,
    http: { maxBodyBytes: e.HTTP_MAX_BODY_BYTES, bodyTimeoutMs: e.HTTP_BODY_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS },
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
  };
}
