import { MessageChannel } from 'node:worker_threads';
import t from 'tap';
import {
  ActivateSchema,
  HibernatedSchema,
  PROTOCOL_VERSION,
  ToSupervisorSchema,
  ToTenantSchema,
  correlationIdOf,
  parseMessage,
} from '../../protocol/index.js';

const NOW = 1_700_000_000_000;

t.test('every valid supervisor → tenant message parses to itself', async (t) => {
  const valid = [
    { type: 'request', id: 1, deadline: NOW, method: 'ping' },
    { type: 'request', id: 2 ** 40, deadline: 0, method: 'settings.put', params: { key: 'a', value: [1, { b: null }] } },
    { type: 'alarm' },
    { type: 'set-ceilings', ceilings: null },
    {
      type: 'set-ceilings',
      ceilings: { plan: 'pro', repliesPerDay: 50, tweetsPerDay: 10, threadsPerWeek: 2, targets: null, xCostAllowanceCents: 500, xPeriodStart: 0, xReadCentsPerDay: 10, xUrlPostsPerDay: 1, xOverageCapCents: null, automation: true, readOnly: false },
    },
    { type: 'hibernate', reason: 'idle' },
    { type: 'hibernate', reason: 'evict' },
    { type: 'shutdown', deadline: NOW },
    { type: 'requests', requests: [{ type: 'request', id: 1, deadline: NOW, method: 'ping' }] },
    {
      type: 'requests',
      requests: [
        { type: 'request', id: 2, deadline: NOW, method: 'ping' },
        { type: 'request', id: 3, deadline: NOW, method: 'settings.get', params: { key: 'a' } },
      ],
    },
  ];
  for (const message of valid) {
    t.same(parseMessage(ToTenantSchema, message), { ok: true, message }, `${message.type} ${JSON.stringify(message)}`);
  }
});

t.test('every valid tenant → supervisor message parses to itself', async (t) => {
  const valid = [
    { type: 'ready', nextAlarmAt: null },
    { type: 'ready', nextAlarmAt: NOW },
    { type: 'response', id: 1, ok: true, result: { any: ['thing'] } },
    { type: 'response', id: 1, ok: true },
    { type: 'response', id: 3, ok: false, error: { code: 'invalid_params', message: 'bad', fields: { key: 'Invalid' } } },
    { type: 'response', id: 3, ok: false, error: { code: 'not_found', message: '' } },
    { type: 'event', event: { kind: 'runtime.tick', at: NOW } },
    { type: 'event', event: { kind: 'runtime.tick', at: NOW, data: { n: 1 } } },
    { type: 'heartbeat', at: NOW },
    { type: 'metrics', metrics: { heapUsedBytes: 1, heapTotalBytes: 2, eventLoopUtilization: 0.5 } },
    { type: 'tick', runs: [], nextAlarmAt: null },
    { type: 'tick', runs: [{ job: 'a', lagMs: 0, durationMs: 1.5, ok: false }], nextAlarmAt: NOW },
    {
      type: 'responses',
      responses: [
        { type: 'response', id: 1, ok: true, result: 1 },
        { type: 'response', id: 2, ok: false, error: { code: 'not_found', message: '' } },
      ],
    },
  ];
  for (const message of valid) {
    t.same(parseMessage(ToSupervisorSchema, message), { ok: true, message }, `${message.type} ${JSON.stringify(message)}`);
  }
  t.same(parseMessage(HibernatedSchema, { type: 'hibernated', nextAlarmAt: null }).ok, true);
});

/** [schema name, message, the path the problem must name, a fragment of valibot's message] */
const MALFORMED: [string, unknown, string, RegExp][] = [
  ['ToTenant', null, '(root)', /Expected Object/],
  ['ToTenant', 'ping', '(root)', /Expected Object/],
  ['ToTenant', {}, 'type', /Expected \("request" \| "alarm"/],
  ['ToTenant', { type: 'reboot' }, 'type', /received "reboot"/],
  ['ToTenant', { type: 7 }, 'type', /received 7/],
  ['ToTenant', { type: 'request', deadline: NOW, method: 'ping' }, 'id', /Invalid key/],
  ['ToTenant', { type: 'request', id: -1, deadline: NOW, method: 'ping' }, 'id', />=1/],
  ['ToTenant', { type: 'request', id: 0, deadline: NOW, method: 'ping' }, 'id', />=1/],
  ['ToTenant', { type: 'request', id: 1.5, deadline: NOW, method: 'ping' }, 'id', /integer/],
  ['ToTenant', { type: 'request', id: '1', deadline: NOW, method: 'ping' }, 'id', /Expected number/],
  ['ToTenant', { type: 'request', id: Number.NaN, deadline: NOW, method: 'ping' }, 'id', /NaN/],
  ['ToTenant', { type: 'request', id: 1, method: 'ping' }, 'deadline', /Invalid key/],
  ['ToTenant', { type: 'request', id: 1, deadline: NOW + 0.5, method: 'ping' }, 'deadline', /integer/],
  ['ToTenant', { type: 'request', id: 1, deadline: -5, method: 'ping' }, 'deadline', />=0/],
  ['ToTenant', { type: 'request', id: 1, deadline: NOW, method: '' }, 'method', /length/],
  ['ToTenant', { type: 'request', id: 1, deadline: NOW }, 'method', /Invalid key/],
  ['ToTenant', { type: 'hibernate', reason: 'nap' }, 'reason', /"idle" \| "evict"/],
  ['ToTenant', { type: 'shutdown' }, 'deadline', /Invalid key/],
  ['ToTenant', { type: 'set-ceilings' }, 'ceilings', /Invalid key/],
  ['ToTenant', { type: 'set-ceilings', ceilings: { plan: 'pro' } }, 'ceilings.repliesPerDay', /Invalid key/],
  ['ToSupervisor', { type: 'response', id: 1, ok: false }, 'error', /Invalid key/],
  ['ToSupervisor', { type: 'response', id: 1, ok: false, error: { code: '', message: 'x' } }, 'error.code', /length/],
  ['ToSupervisor', { type: 'response', id: 1, ok: false, error: { code: 'x', message: 'x', fields: { a: 1 } } }, 'error.fields.a', /Expected string/],
  ['ToSupervisor', { type: 'response', id: 1, ok: 'yes' }, 'ok', /Expected \(true \| false\)/],
  ['ToSupervisor', { type: 'response', ok: true }, 'id', /Invalid key/],
  ['ToSupervisor', { type: 'response', id: -3, ok: true }, 'id', />=1/],
  ['ToSupervisor', { type: 'ready' }, 'nextAlarmAt', /Invalid key/],
  ['ToSupervisor', { type: 'heartbeat', at: 1.25 }, 'at', /integer/],
  ['ToSupervisor', { type: 'event', event: { kind: '', at: NOW } }, 'event.kind', /length/],
  ['ToSupervisor', { type: 'metrics', metrics: { heapUsedBytes: 1, heapTotalBytes: 2, eventLoopUtilization: 1.5 } }, 'metrics.eventLoopUtilization', /<=1/],
  ['ToSupervisor', { type: 'tick', runs: [{ job: 'a', lagMs: -1, durationMs: 0, ok: true }], nextAlarmAt: null }, 'runs.0.lagMs', />=0/],
  ['ToSupervisor', { type: 'request', id: 1, deadline: NOW, method: 'ping' }, 'type', /"ready" \| "response"/],
  ['ToTenant', { type: 'requests', requests: [] }, 'requests', /length/],
  ['ToTenant', { type: 'requests', requests: [{ type: 'request', id: 0, deadline: NOW, method: 'ping' }] }, 'requests.0.id', />=1/],
  ['ToTenant', { type: 'requests', requests: [{ type: 'alarm' }] }, 'requests.0.type', /"request"/],
  ['ToSupervisor', { type: 'responses', responses: [] }, 'responses', /length/],
  ['ToSupervisor', { type: 'responses', responses: [{ type: 'response', id: 1, ok: 'maybe' }] }, 'responses.0.ok', /Expected \(true \| false\)/],
];

t.test('malformed messages are rejected with a readable problem naming the path', async (t) => {
  const schemas = { ToTenant: ToTenantSchema, ToSupervisor: ToSupervisorSchema };
  for (const [schema, message, path, fragment] of MALFORMED) {
    const parsed = parseMessage(schemas[schema as keyof typeof schemas], message);
    if (parsed.ok) {
      t.fail(`${schema} accepted ${JSON.stringify(message)}`);
      continue;
    }
    t.ok(parsed.problem.startsWith(`${path}: `), `${schema} ${JSON.stringify(message)} → ${parsed.problem}`);
    t.match(parsed.problem, fragment);
  }
});

t.test('a problem lists at most three issues, separated by "; "', async (t) => {
  const parsed = parseMessage(ToSupervisorSchema, {
    type: 'metrics',
    metrics: { heapUsedBytes: -1, heapTotalBytes: -1, eventLoopUtilization: -1 },
  });
  t.notOk(parsed.ok);
  if (parsed.ok) return;
  t.same(
    parsed.problem.split('; ').map((part) => part.split(':')[0]),
    ['metrics.heapUsedBytes', 'metrics.heapTotalBytes', 'metrics.eventLoopUtilization'],
  );
  const four = parseMessage(ToSupervisorSchema, { type: 'tick', runs: [1, 2, 3, 4], nextAlarmAt: null });
  t.equal(four.ok ? 0 : four.problem.split('; ').length, 3, 'more than three issues are cut to three');
});

t.test('unknown extra keys are accepted and stripped from the parsed message', async (t) => {
  const parsed = parseMessage(ToTenantSchema, { type: 'request', id: 4, deadline: NOW, method: 'ping', junk: { huge: true }, __proto__x: 1 });
  t.same(parsed, { ok: true, message: { type: 'request', id: 4, deadline: NOW, method: 'ping' } });
  t.notOk(parsed.ok && 'junk' in parsed.message, 'the junk key does not reach the handler');
  const response = parseMessage(ToSupervisorSchema, { type: 'response', id: 1, ok: true, error: { code: 'x' } });
  t.same(response, { ok: true, message: { type: 'response', id: 1, ok: true } }, 'a stray error on a success is dropped');
});

t.test('an activation is accepted with a port-like object and refused when anything is off', async (t) => {
  const { port1, port2 } = new MessageChannel();
  t.teardown(() => port1.close());
  const activate = {
    type: 'activate',
    protocolVersion: PROTOCOL_VERSION,
    tenantId: '0b6b8e1e-5f3c-4c1a-9a57-3c3f0a2c9b11',
    dbPath: '/data/tenants/x.db',
    reason: 'request',
    ceilings: null,
    heartbeatMs: 1_000,
    metricsMs: 5_000,
    logLevel: 'info',
    devHooks: false,
    secrets: { currentId: '0a1b2c3d', keys: [{ id: '0a1b2c3d', key: new Uint8Array(32) }] },
    x: null,
    mode: 'cloud',
    llmFallback: { provider: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', model: 'gpt-4o-mini' },
    port: port2,
  };
  const parsed = parseMessage(ActivateSchema, activate);
  t.ok(parsed.ok);
  t.equal(parsed.ok && parsed.message.port, port2, 'the port is passed through, not copied');

  const broken: [Partial<Record<keyof typeof activate, unknown>>, string][] = [
    [{ protocolVersion: PROTOCOL_VERSION + 1 }, 'protocolVersion'],
    [{ tenantId: 'not-a-uuid' }, 'tenantId'],
    [{ dbPath: '' }, 'dbPath'],
    [{ reason: 'boredom' }, 'reason'],
    [{ heartbeatMs: 5 }, 'heartbeatMs'],
    [{ metricsMs: 10.5 }, 'metricsMs'],
    [{ devHooks: 'yes' }, 'devHooks'],
    [{ secrets: { currentId: '0a1b2c3d', keys: [{ id: '0a1b2c3d', key: new Uint8Array(16) }] } }, 'secrets.keys.0.key'],
    [{ secrets: { currentId: 'zz', keys: [] } }, 'secrets.currentId'],
    [{ mode: 'production' }, 'mode'],
    [{ llmFallback: { provider: 'gemini', baseUrl: 'http://x/v1', apiKey: null, model: 'm' } }, 'llmFallback.provider'],
    [{ x: { clientId: 'c', clientSecret: null, tokenUrl: 'not a url', revokeUrl: 'http://x/r', apiUrl: 'http://x/2', uploadUrl: 'http://x/u', managed: true } }, 'x.tokenUrl'],
    [{ port: {} }, 'port'],
    [{ port: undefined }, 'port'],
    [{ type: 'request' }, 'type'],
  ];
  for (const [change, path] of broken) {
    const result = parseMessage(ActivateSchema, { ...activate, ...change });
    t.ok(!result.ok && result.problem.startsWith(`${path}: `), `${JSON.stringify(change)} → ${result.ok ? 'accepted' : result.problem}`);
  }
});

t.test('correlationIdOf finds a usable id only on objects with a positive integer id', async (t) => {
  t.equal(correlationIdOf({ type: 'garbage', id: 12 }), 12);
  t.equal(correlationIdOf({ id: 1 }), 1);
  for (const data of [null, undefined, 12, 'id', [], {}, { id: 0 }, { id: -4 }, { id: 1.5 }, { id: '3' }, { id: Number.NaN }, { id: Number.POSITIVE_INFINITY }]) {
    t.equal(correlationIdOf(data), undefined, `no id in ${String(JSON.stringify(data))}`);
  }
});
