/**
 * The container's files, checked without a container runtime: the Dockerfile passes dockerfilelint and has the
 * shape the image promises; the compose files and fly.toml name only variables the product reads, and each
 * deployment file supplies everything cloud mode requires (proved by loading the configuration from it).
 * The image itself is built by scripts/build-image.sh and replayed by test/packaging/smoke-container.test.ts.
 */
import { readFileSync } from 'node:fs';
import { run as lintDockerfile } from 'dockerfilelint';
import t from 'tap';
import { ENV_VARIABLES, loadConfig } from '../../supervisor/config.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Instructions with continuation lines joined and comments dropped: `{ op, args }[]`. */
function instructions(dockerfile: string): { op: string; args: string }[] {
  return dockerfile
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, op, args] = /^\s*(\S+)\s*(.*)$/.exec(line)!;
      return { op: op!.toUpperCase(), args: args!.replace(/\s+/g, ' ').trim() };
    });
}

/** A valid value for each variable cloud mode may require (the shapes loadConfig checks). */
const SAMPLE: Record<string, string> = {
  PUBLIC_URL: 'https://app.example.com',
  METRICS_TOKEN: 'a-metrics-token-of-some-length',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  SMTP_URL: 'smtps://user:password@smtp.example.com:465',
  EMAIL_FROM: 'TuitBot <no-reply@example.com>',
  STRIPE_SECRET_KEY: 'sk_live_abc123',
  STRIPE_WEBHOOK_SECRET: 'whsec_abc123',
  STRIPE_PRICE_STARTER: 'price_starter',
  STRIPE_PRICE_GROWTH: 'price_growth',
  STRIPE_PRICE_PRO: 'price_pro',
  X_API_CLIENT_ID: 'our-x-app',
  X_API_CLIENT_SECRET: 'our-x-secret',
};

function sampleEnv(names: Iterable<string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    if (!(name in SAMPLE)) throw new Error(`no sample value for ${name}`);
    env[name] = SAMPLE[name]!;
  }
  return env;
}

t.test('dockerfilelint finds nothing in the Dockerfile', async (t) => {
  const findings = lintDockerfile(new URL('.', root).pathname, read('Dockerfile'));
  t.same(
    findings.map((f) => `line ${f.line}: ${f.title} (${f.rule}): ${f.description}`),
    [],
  );
});

t.test('the lint is live: it reports a Dockerfile with known faults', async (t) => {
  const findings = lintDockerfile(new URL('.', root).pathname, 'FROM debian\nRUN apt-get update && apt-get install -y curl\n');
  t.ok(findings.some((f) => f.rule === 'missing_tag'), 'a base image without a tag');
  t.ok(findings.some((f) => /recommends/i.test(`${f.title} ${f.description}`)), 'apt-get install without --no-install-recommends');
});

t.test('the Dockerfile: two stages on one base argument, compilers only in the build stage, a non-root runtime', async (t) => {
  const all = instructions(read('Dockerfile'));
  const froms = all.filter((i) => i.op === 'FROM');
  t.same(
    froms.map((i) => i.args),
    ['${BASE_IMAGE}:${BASE_TAG} AS build', '${BASE_IMAGE}:${BASE_TAG} AS runtime'],
    'both stages start from the base named by build arguments',
  );
  t.ok(all.some((i) => i.op === 'ARG' && i.args === 'BASE_IMAGE=node'));
  t.ok(all.some((i) => i.op === 'ARG' && i.args === 'BASE_TAG=20-bookworm-slim'), 'default: Debian bookworm with Node 20');

  const runtimeStart = all.findIndex((i) => i.op === 'FROM' && i.args.endsWith('AS runtime'));
  const build = all.slice(0, runtimeStart);
  const runtime = all.slice(runtimeStart);
  const buildRuns = build.filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
  t.match(buildRuns, /install -y --no-install-recommends python3 make g\+\+/, 'the build stage has the compilers');
  t.match(buildRuns, /npm ci\b/);
  t.match(buildRuns, /npm run build && npm run build:cloud && npm prune --omit=dev/);
  t.notMatch(runtime.map((i) => i.args).join('\n'), /g\+\+|python3|apt-get install/, 'the runtime stage installs no compiler');
  t.notOk(
    runtime.some((i) => i.op === 'COPY' && !i.args.startsWith('--from=build') && !i.args.startsWith('scripts/')),
    'the runtime copies built files and its two scripts, never the sources',
  );

  const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
  t.equal(user, 'tuitbot', 'the runtime runs as the tuitbot user');
  t.match(runtime.find((i) => i.op === 'RUN' && i.args.includes('useradd'))?.args ?? '', /--uid 10001 /, 'with a fixed uid');
  t.same(runtime.filter((i) => i.op === 'VOLUME').map((i) => i.args), ['/data']);
  t.same(runtime.filter((i) => i.op === 'EXPOSE').map((i) => i.args), ['3001']);
  t.match(runtime.find((i) => i.op === 'ENV')?.args ?? '', /TUITBOT_MODE=self-host .*DATA_DIR=\/data/, 'self-host mode, data in /data');
  t.match(runtime.find((i) => i.op === 'HEALTHCHECK')?.args ?? '', /^--interval=\S+ --timeout=\S+ --retries=\d+ CMD \[.*\/healthz/);
  t.equal(runtime.find((i) => i.op === 'CMD')?.args, '["node", "--enable-source-maps", "dist/supervisor/cli.js", "serve"]');
});

/** Whether Docker leaves `path` out of the context: the last pattern matching it decides ("!" sends it back). */
function dockerIgnores(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const line of patterns) {
    const negated = line.startsWith('!');
    const pattern = negated ? line.slice(1) : line;
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(/.*)?$`);
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}

t.test('.dockerignore keeps what is built here out of the context, and sends what the build reads', async (t) => {
  const patterns = read('.dockerignore').split('\n').filter((line) => line && !line.startsWith('#'));
  for (const path of ['node_modules', 'dist', 'data', '.git', '.env', '.env.local', 'dashboard/build/cloud', 'isolate-0x1-v8.log']) {
    t.ok(dockerIgnores(patterns, path), `${path} is not sent`);
  }
  for (const path of ['package.json', 'package-lock.json', 'supervisor/cli.ts', 'migrations', 'dashboard/src', 'scripts/docker-entrypoint.sh', '.env.example']) {
    t.notOk(dockerIgnores(patterns, path), `${path} is sent`);
  }
});

/** `${NAME}`, `${NAME:-default}` and `${NAME:?message}` references of a compose file. */
function composeReferences(text: string): { name: string; required: boolean }[] {
  return [...text.matchAll(/\$\{([A-Z0-9_]+)(:[-?])?[^}]*\}/g)].map((m) => ({ name: m[1]!, required: m[2] === ':?' }));
}

/** The `NAME: value` pairs of a compose service's `environment:` map (our files use the map form). */
function composeEnvironment(text: string): Map<string, string> {
  const block = /\n {4}environment:\n((?: {6}.*\n| *#.*\n)+)/.exec(text)?.[1] ?? '';
  return new Map([...block.matchAll(/^ {6}([A-Z0-9_]+): (.*)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]));
}

t.test('docker-compose.yml: one service in self-host mode with its data on a volume at /data', async (t) => {
  const text = read('docker-compose.yml');
  const env = composeEnvironment(text);
  t.same(Object.fromEntries(env), { TUITBOT_MODE: 'self-host', DATA_DIR: '/data', HOST: '0.0.0.0', PORT: '3001' });
  t.match(text, /\n {4}env_file: \.env\n/);
  t.match(text, /\n {6}- tuitbot_data:\/data\n/);
  t.match(text, /\n {6}- "127\.0\.0\.1:3001:3001"\n/, 'published on loopback only, for the reverse proxy');
  t.equal(text.match(/^ {2}[a-z][\w-]*:$/gm)?.length, 2, 'one service and one volume');
  t.doesNotThrow(() => loadConfig(Object.fromEntries(env)), 'the container starts with no .env values at all');
});

t.test('docker-compose.cloud.yml: cloud mode, and its required variables are exactly what cloud mode needs', async (t) => {
  const text = read('docker-compose.cloud.yml');
  const env = composeEnvironment(text);
  t.equal(env.get('TUITBOT_MODE'), 'cloud');
  for (const name of env.keys()) t.ok(ENV_VARIABLES.includes(name), `${name} is read by the product`);
  const references = composeReferences(text);
  for (const { name } of references) t.ok(env.has(name), `${name} is passed to the container`);
  const required = references.filter((r) => r.required).map((r) => r.name);
  t.doesNotThrow(() => loadConfig({ TUITBOT_MODE: 'cloud', ...sampleEnv(required) }), 'the required ones are enough to start');
  for (const name of required) {
    const withoutOne = sampleEnv(required.filter((other) => other !== name));
    // EMAIL_FROM has a default in the product; the cloud file requires it so mail does not come from localhost.
    if (name === 'EMAIL_FROM') continue;
    t.throws(() => loadConfig({ TUITBOT_MODE: 'cloud', ...withoutOne }), new RegExp(name), `${name} is really required`);
  }
});

t.test('fly.toml: cloud mode on /data, health checks on the product\'s endpoints, and its secrets complete the setup', async (t) => {
  const text = read('fly.toml');
  const section = (name: string) => new RegExp(`\\n\\[${name.replace(/[[\].]/g, '\\$&')}\\]\\n((?:(?!\\n\\[).)*)`, 's').exec(text)?.[1] ?? '';
  const env = new Map([...section('env').matchAll(/^ *([A-Z0-9_]+) = "(.*)"$/gm)].map((m) => [m[1]!, m[2]!]));
  for (const name of env.keys()) t.ok(ENV_VARIABLES.includes(name), `${name} is read by the product`);
  t.equal(env.get('TUITBOT_MODE'), 'cloud');
  t.match(section('[mounts]'), /destination = "\/data"/);
  t.equal(env.get('DATA_DIR'), '/data');
  t.match(section('http_service'), new RegExp(`internal_port = ${env.get('PORT')}\\n`));
  t.match(text, /path = "\/readyz"/);
  t.match(section('checks.alive'), /path = "\/healthz"/);
  const comments = text.split('\n').filter((line) => line.startsWith('#')).join('\n');
  const secrets = [...comments.matchAll(/\b([A-Z][A-Z0-9_]+)=…/g)].map((m) => m[1]!);
  t.ok(secrets.length > 0, 'the first-deploy comment lists the secrets');
  const envValues = Object.fromEntries(env);
  t.doesNotThrow(() => loadConfig({ ...envValues, ...sampleEnv(secrets.filter((name) => !env.has(name))) }), 'env + secrets start cloud mode');
});
