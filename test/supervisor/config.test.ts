import { inspect } from 'node:util';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ConfigError, ENV_VARIABLES, loadConfig } from '../../supervisor/config.js';
import { problemsOf } from '../helpers/config.js';

t.test('defaults give a loopback sandbox on port 3001 with data in ./data', async (t) => {
  const config = loadConfig({});
  t.equal(config.mode, 'sandbox');
  t.equal(config.host, '127.0.0.1');
  t.equal(config.port, 3001);
  t.match(config.dataDir, /\/data$/);
  t.equal(config.devHooks, false);
  t.ok(config.tenants.threads >= 4);
});

t.test('self-host listens on every interface; empty values count as unset', async (t) => {
  const config = loadConfig({ TUITBOT_MODE: 'self-host', PORT: '', TENANT_IDLE_MS: '5000', TUITBOT_DEV_HOOKS: 'yes' });
  t.equal(config.host, '0.0.0.0');
  t.equal(config.port, 3001);
  t.equal(config.tenants.idleMs, 5000);
  t.equal(config.devHooks, true);
});

t.test('an invalid setup fails with one message listing every problem', async (t) => {
  const error = (() => {
    try {
      loadConfig({ PORT: 'eighty', TENANT_THREADS: '0', LOG_LEVEL: 'chatty', TUITBOT_MODE: 'production' });
    } catch (e) {
      return e;
    }
  })();
  t.type(error, ConfigError);
  const message = (error as ConfigError).message;
  for (const name of ['PORT', 'TENANT_THREADS', 'LOG_LEVEL', 'TUITBOT_MODE']) t.match(message, name, `names ${name}`);
  t.equal((error as ConfigError).problems.length, 4);
});

t.test('cloud mode refuses to start without its credentials and with dev hooks', async (t) => {
  const problems = problemsOf({ TUITBOT_MODE: 'cloud', TUITBOT_DEV_HOOKS: '1' });
  for (const expected of [/^PUBLIC_URL: required/, /^METRICS_TOKEN: required/, /^TUITBOT_DEV_HOOKS: /, /^SMTP_URL: /, /^ENCRYPTION_KEY: /, /^STRIPE_SECRET_KEY: required in cloud mode/, /^STRIPE_PRICE_PRO: required/, /^X_API_CLIENT_ID: required in cloud mode/]) {
    t.ok(problems.some((p) => expected.test(p)), `names ${expected.source}`);
  }
  const config = loadConfig({
    TUITBOT_MODE: 'cloud',
    PUBLIC_URL: 'https://app.tuitbot.cloud',
    METRICS_TOKEN: 'x'.repeat(32),
    SMTP_URL: 'smtp://smtp.example.com:587',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    ...STRIPE,
    X_API_CLIENT_ID: 'our-client',
    X_API_CLIENT_SECRET: 'our-secret',
  });
  t.equal(config.mode, 'cloud');
  t.equal(config.billing.kind, 'stripe');
});

const STRIPE = {
  STRIPE_SECRET_KEY: 'sk_live_51Abcdef',
  STRIPE_WEBHOOK_SECRET: 'whsec_abc123',
  STRIPE_PRICE_STARTER: 'price_starter1',
  STRIPE_PRICE_GROWTH: 'price_growth1',
  STRIPE_PRICE_PRO: 'price_pro1',
};

t.test('billing: off for self-hosters, the simulated Stripe in the sandbox, real Stripe when keys are given', async (t) => {
  t.same(loadConfig({ TUITBOT_MODE: 'self-host', ...STRIPE }).billing, { kind: 'disabled' });
  t.same(loadConfig({}).billing, { kind: 'sandbox' });
  const billing = loadConfig({ ...STRIPE, STRIPE_PRICE_OVERAGE: 'price_overage1' }).billing;
  t.match(billing, { kind: 'stripe', prices: { starter: 'price_starter1', growth: 'price_growth1', pro: 'price_pro1' }, overagePrice: 'price_overage1', overageMeter: 'tuitbot_x_overage', apiUrl: null });
  const printed = JSON.stringify(billing) + inspect(billing);
  t.notOk(printed.includes('sk_live_51Abcdef') || printed.includes('whsec_abc123'), 'keys never print');
  t.match(problemsOf({ STRIPE_SECRET_KEY: 'sk_test_1' }), [/^STRIPE_WEBHOOK_SECRET: required with the other Stripe settings/, /^STRIPE_PRICE_STARTER/, /^STRIPE_PRICE_GROWTH/, /^STRIPE_PRICE_PRO/]);
  const bad = problemsOf({ ...STRIPE, STRIPE_SECRET_KEY: 'pk_live_oops', STRIPE_PRICE_PRO: 'prod_123' });
  t.match(bad, [/^STRIPE_SECRET_KEY: must be a Stripe secret/, /^STRIPE_PRICE_PRO: must be a Stripe price id/]);
  t.notOk(bad.join().includes('pk_live_oops'), 'a wrong key is not echoed');
});

t.test('inconsistent tenant timing is refused', async (t) => {
  t.match(problemsOf({ TENANT_HEARTBEAT_MS: '5000', TENANT_HEARTBEAT_TIMEOUT_MS: '1000' }), [/^TENANT_HEARTBEAT_TIMEOUT_MS/]);
});

t.test('.env.example documents every variable the product reads', async (t) => {
  const documented = new Set(
    readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=')[0]),
  );
  for (const name of ENV_VARIABLES) t.ok(documented.has(name), `${name} is documented`);
  for (const name of documented) t.ok(ENV_VARIABLES.includes(name!), `${name} is read by the product`);
});

t.test('the X app: ours or the self-hoster\'s, the simulated X in the sandbox, none otherwise; the secret never prints', async (t) => {
  t.same(loadConfig({}).x, { kind: 'sandbox' });
  t.match(loadConfig({ TUITBOT_MODE: 'self-host' }).x, { kind: 'none', tokenUrl: 'https://api.x.com/2/oauth2/token' });
  const x = loadConfig({ TUITBOT_MODE: 'self-host', X_API_CLIENT_ID: 'mine', X_API_CLIENT_SECRET: 's3cr3t-value', X_API_URL: 'https://api.x.com/2/' }).x;
  t.match(x, { kind: 'app', clientId: 'mine', tokenUrl: 'https://api.x.com/2/oauth2/token', apiUrl: 'https://api.x.com/2' });
  t.notOk((JSON.stringify(x) + inspect(x)).includes('s3cr3t-value'));
  t.match(loadConfig({ TUITBOT_MODE: 'self-host', X_API_CLIENT_ID: 'public-app' }).x, { kind: 'app', clientSecret: null }, 'a public client');
  t.match(problemsOf({ X_API_CLIENT_SECRET: 'orphan' }), [/^X_API_CLIENT_ID: required with X_API_CLIENT_SECRET/]);
});
