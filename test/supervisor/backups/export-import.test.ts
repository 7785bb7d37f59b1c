// Export and import: a tenant's every table travels through real actors into a fresh tenant and
// comes out identical (secrets re-sealed for the new tenant, opening to the same plaintext); newer
// formats and schemas, occupied tenants and wrong passphrases are refused.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import t from 'tap';
import { checkpointAndClose, openDatabase } from '../../../migrations/runner.js';
import { SecretBox, keyringOf, type TenantSecrets } from '../../../protocol/index.js';
import { EXPORT_VERSION, exportTenant, importTenant, type TenantExport } from '../../../tenant-worker/api/export.js';
import { TENANT_SEALED_COLUMNS } from '../../../tenant-worker/sealed-columns.js';
import { startTenants, tempDataDir, until } from '../../helpers/tenants.js';

const TIMEOUT = 20_000;
const PASSPHRASE = 'correct horse battery staple';
const SECRET = { x_access_token: 'x-access-plain', x_refresh_token: 'x-refresh-plain', llm_api_key: 'sk-llm-plain' };
const T = 1_764_000_000_000;
const HUGE = 2n ** 60n + 7n;

/** At least one row in every table of the tenant schema, secrets sealed for `secrets`' tenant. */
function writeFixture(db: Database.Database, secrets: TenantSecrets): void {
  const rows: Record<string, Record<string, unknown>[]> = {
    jobs: [{ name: 'discovery', next_run_at: T + 3_600_000, consecutive_errors: 2, last_error: 'boom', last_error_at: T }],
    settings: [
      { key: 'timezone', value: '"Europe/Paris"', updated_at: T },
      { key: 'business.product_keywords', value: '["invoicing","ünïcødé ✓"]', updated_at: T },
    ],
    x_spend: [{ at: T, kind: 'read', endpoint: 'GET /2/tweets/search/recent', units: 10, cost_micros: HUGE, status: 200 }],
    x_reads_seen: [{ day: '2026-11-24', post_id: '1001' }],
    action_claims: [{ kind: 'reply', at: T, ref: '1001' }],
    notices_given: [{ key: 'gate:x', at: T }],
    x_connection: [
      {
        id: 1, x_user_id: '42', username: 'ada', name: 'Ada', access_token: secrets.seal('x_access_token', SECRET.x_access_token),
        refresh_token: secrets.seal('x_refresh_token', SECRET.x_refresh_token), expires_at: T + 7_200_000, scope: 'tweet.read tweet.write',
        status: 'connected', connected_at: T, updated_at: T,
      },
    ],
    llm_config: [{ id: 1, provider: 'openai', model: 'gpt-4o-mini', base_url: 'https://api.openai.com/v1', api_key: secrets.seal('llm_api_key', SECRET.llm_api_key), updated_at: T }],
    llm_usage: [{ at: T, provider: 'openai', model: 'gpt-4o-mini', purpose: 'reply', input_units: 120, output_units: 30, cost_micros: 36, priced: 1, status: 'ok', http_status: 200, duration_ms: 812 }],
    target_accounts: [{ id: 1, username: 'grace', x_user_id: '77', status: 'active', since_id: '555', replies_sent: 2, added_at: T }],
    discovered_tweets: [
      {
        tweet_id: '1001', source: 'target', keyword: null, target_account_id: 1, author_id: '77', author_username: 'grace', author_followers: 1200,
        text: 'Anyone invoicing in 2026?', conversation_id: '1001', created_at: T - 60_000, likes: 3, score: 71.25, score_breakdown: '{"keyword":10.5}',
        matched_keywords: '["invoicing"]', status: 'replied', discovered_at: T, evaluated_at: T,
      },
    ],
    threads: [{ id: 1, topic: 'billing', structure: 'listicle', source: 'content', status: 'posted', tweet_count: 2, posted_count: 2, root_tweet_id: '3001', created_at: T, updated_at: T, posted_at: T }],
    thread_tweets: [
      { thread_id: 1, position: 0, content: 'One: send invoices on time', tweet_id: '3001', posted_at: T },
      { thread_id: 1, position: 1, content: 'Two: follow up', tweet_id: '3002', posted_at: T },
    ],
    replies: [{ id: 1, tweet_id: '2001', target_tweet_id: '1001', target_author_id: '77', target_author_username: 'grace', source: 'target', content: 'We do!', mentions_product: 1, archetype: 'agree', score: 71.25, posted_at: T }],
    original_tweets: [{ id: 1, tweet_id: '2501', content: 'Invoices, simply.', topic: 'billing', format: 'tip', source: 'content', posted_at: T }],
    approval_queue: [
      { id: 1, kind: 'reply', status: 'pending', content: 'Draft reply', source: 'discovery', target_tweet_id: '1002', target_author_id: '88', target_author_username: 'bob', target_text: 'hm', score: 55.5, created_at: T, updated_at: T },
      { id: 2, kind: 'thread', status: 'posted', content: '["a","b"]', source: 'thread', thread_id: 1, posted_tweet_id: '3001', created_at: T, updated_at: T, posted_at: T },
    ],
    scheduled_content: [{ id: 1, kind: 'tweet', status: 'scheduled', content: 'Later', source: 'manual', scheduled_for: T + 86_400_000, created_at: T, updated_at: T }],
    post_intents: [{ id: 1, kind: 'reply', status: 'posted', text: 'We do!', in_reply_to: '1001', source: 'target', context: '{"author":"grace"}', x_tweet_id: '2001', created_at: T, settled_at: T }],
    post_metrics: [{ tweet_id: '2001', kind: 'reply', likes: 4, retweets: 1, replies: 0, quotes: 0, impressions: 250, score: 9.5, measured_at: T }],
    content_scores: [{ topic: 'billing', format: 'tip', posts: 3, avg_score: 7.125, updated_at: T }],
    follower_snapshots: [{ day: '2026-11-24', followers: 100, following: 50, tweets: 300, at: T }],
    cursors: [{ key: 'mentions', value: '123', updated_at: T }],
    action_log: [{ at: T, action: 'reply', status: 'success', source: 'target', message: 'Replied to @grace', tweet_id: '2001', target_tweet_id: '1001', data: '{"score":71.25}' }],
    strategy_reports: [{ week_start: T - 7 * 86_400_000, week_end: T, metrics: '{"replies":1}', recommendations: '["more threads"]', computed_at: T }],
    media: [{ id: 'm1', kind: 'image', mime: 'image/png', ext: 'png', size: 68, width: 1, height: 1, sha256: 'ab'.repeat(32), created_at: T }],
  };
  db.transaction(() => {
    for (const [table, list] of Object.entries(rows)) {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      if (!exists) continue;
      for (const row of list) {
        const columns = Object.keys(row);
        db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row);
      }
    }
  })();
}

/** Every table's rows, in key order, with sealed values opened (they differ as ciphertext per tenant). */
function contents(path: string, secrets: TenantSecrets): Record<string, unknown[][]> {
  const db = openDatabase(path, 'tenant');
  try {
    const out: Record<string, unknown[][]> = {};
    const tables = db.prepare<[], { name: string; wr: number }>("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    for (const { name, wr } of tables) {
      const statement = db.prepare(`SELECT * FROM ${name}${wr ? '' : ' ORDER BY rowid'}`).raw(true).safeIntegers(true);
      const columns = statement.columns().map((c) => c.name);
      out[name] = (statement.all() as unknown[][]).map((row) =>
        row.map((value, i) => {
          if (name === 'schema_migrations' && columns[i] === 'applied_at') return 'applied';
          const sealed = TENANT_SEALED_COLUMNS.find((c) => c.table === name && c.column === columns[i]);
          return sealed && typeof value === 'string' ? `opened:${secrets.open(sealed.field, value)}` : value;
        }),
      );
    }
    return out;
  } finally {
    checkpointAndClose(db);
  }
}

t.test('export → import into a fresh tenant → every table identical, secrets re-sealed for the new tenant', async (t) => {
  const box = new SecretBox(keyringOf(new Uint8Array(randomBytes(32))));
  const tenants = startTenants({ idleMs: 150, devHooks: false, secrets: box });
  t.teardown(() => tenants.close());
  const { host, registry } = tenants;
  const a = registry.create().id;
  const b = registry.create().id;
  const fixture = openDatabase(registry.dbPath(a), 'tenant');
  writeFixture(fixture, box.forTenant(a));
  checkpointAndClose(fixture);

  const answer = (await host.request(a, 'export.json', { passphrase: PASSPHRASE }, TIMEOUT)) as { ok: true; json: string };
  t.equal(answer.ok, true);
  const file = JSON.parse(answer.json) as TenantExport;
  t.match(file, { format: 'tuitbot-export', version: EXPORT_VERSION, exportedAt: Number, secrets: { kdf: { name: 'scrypt', N: 2 ** 17, r: 8, p: 1 } } });
  t.ok(file.schema.includes('0001_runtime.sql'), 'the schema the data was written under');
  const text = JSON.stringify(file);
  for (const plain of Object.values(SECRET)) t.notOk(text.includes(plain), `${plain} is not in the file in the clear`);
  t.match(file.tables['x_connection']!.rows[0], [1, '42', 'ada', 'Ada', { $sealed: String }, { $sealed: String }]);
  t.same(file.tables['x_spend']!.rows[0]![file.tables['x_spend']!.columns.indexOf('cost_micros')], { $int: HUGE.toString() }, 'integers beyond 2^53 keep every digit');

  const outcome = (await host.request(b, 'import.json', { file: JSON.parse(text), passphrase: PASSPHRASE }, TIMEOUT)) as { ok: boolean; secrets: string; tables: Record<string, number> };
  t.match(outcome, { ok: true, secrets: 'imported', dropped: [] });

  await until(() => host.state(a) === 'hibernated' && host.state(b) === 'hibernated');
  const before = contents(registry.dbPath(a), box.forTenant(a));
  const after = contents(registry.dbPath(b), box.forTenant(b));
  const empty = Object.keys(before).filter((table) => table !== 'schema_migrations' && before[table]!.length === 0);
  t.same(empty, [], 'the fixture has rows in every table (add one for a new table)');
  for (const table of Object.keys(before)) t.same(after[table], before[table], `${table} is identical`);
  t.same(Object.keys(after).sort(), Object.keys(before).sort());
  t.equal(after['x_connection']![0]![4], `opened:${SECRET.x_access_token}`, 'the X token opens under the new tenant’s key');

  const again = (await host.request(b, 'import.json', { file: JSON.parse(text), passphrase: PASSPHRASE }, TIMEOUT)) as { ok: boolean; code: string };
  t.match(again, { ok: false, code: 'not_empty' }, 'an occupied tenant is refused');
  t.match(await host.request(b, 'import.json', { file: JSON.parse(text), replace: true }, TIMEOUT), { ok: true, secrets: 'dropped' }, 'replace overwrites; without the passphrase secrets are left out');
  t.same(((await host.request(b, 'x.status', {}, TIMEOUT)) as { connected: boolean }).connected, false, 'an X connection without its tokens is disconnected, so the user reconnects');
});

t.test('import refuses newer formats and schemas, wrong passphrases and malformed files, and changes nothing', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const box = new SecretBox(keyringOf(new Uint8Array(randomBytes(32))));
  const source = openDatabase(join(dir, 'a.db'), 'tenant');
  writeFixture(source, box.forTenant('a'));
  const file = await exportTenant(source, box.forTenant('a'), { passphrase: PASSPHRASE });
  const plain = await exportTenant(source, null);
  t.equal(plain.secrets, 'excluded');
  t.same(plain.tables['llm_config']!.rows[0]![plain.tables['llm_config']!.columns.indexOf('api_key')], null, 'without a passphrase secrets are null');
  const target = openDatabase(join(dir, 'b.db'), 'tenant');
  const load = (f: unknown, options: { passphrase?: string; replace?: boolean; allowPrivateNetwork?: boolean } = {}) =>
    importTenant(target, box.forTenant('b'), f, { allowPrivateNetwork: true, ...options });
  const copy = () => structuredClone(file) as TenantExport;

  t.match(await load({ ...copy(), version: EXPORT_VERSION + 1, tables: 'whatever' }), { ok: false, code: 'format_too_new' });
  t.match(await load({ ...copy(), schema: [...file.schema, '0999_future.sql'] }), { ok: false, code: 'schema_too_new', message: /0999_future\.sql/ });
  t.match(await load({ hello: 'world' }), { ok: false, code: 'invalid_file', fields: { format: String } });
  const badRow = copy();
  badRow.tables['settings']!.rows[0]!.pop();
  t.match(await load(badRow), { ok: false, code: 'invalid_file', fields: { 'tables.settings.rows.0': /cells/ } });
  const badColumn = copy();
  badColumn.tables['settings']!.columns[1] = 'no_such_column';
  t.match(await load(badColumn), { ok: false, code: 'invalid_file', fields: { 'tables.settings.columns': /no column/ } });
  t.match(await load(copy(), { passphrase: 'not the passphrase' }), { ok: false, code: 'wrong_passphrase' });
  t.equal(target.prepare('SELECT count(*) AS n FROM settings').get()!['n' as never], 0, 'nothing was written');

  const cloud = await load(copy(), { passphrase: PASSPHRASE, allowPrivateNetwork: false });
  t.match(cloud, { ok: true, dropped: [] }, 'a public LLM URL is fine in the cloud');
  const privateUrl = copy();
  privateUrl.tables['llm_config']!.rows[0]![privateUrl.tables['llm_config']!.columns.indexOf('base_url')] = 'http://127.0.0.1:11434/v1';
  const refusedUrl = await load(privateUrl, { passphrase: PASSPHRASE, allowPrivateNetwork: false, replace: true });
  t.match(refusedUrl, { ok: true, dropped: [/LLM settings/] }, 'the cloud does not take an LLM URL on a private network');
  t.equal(target.prepare('SELECT count(*) AS n FROM llm_config').pluck().get(), 0);
  source.close();
  target.close();
});

t.test('an export too large for the tenant’s heap is refused instead of crashing the tenant', async (t) => {
  const tenants = startTenants({ heapMb: 32, devHooks: false });
  t.teardown(() => tenants.close());
  const { id } = tenants.registry.create();
  const db = openDatabase(tenants.registry.dbPath(id), 'tenant');
  const insert = db.prepare("INSERT INTO action_log (at, action, status, source, message) VALUES (?, 'reply', 'success', 'discovery', ?)");
  db.transaction(() => {
    for (let i = 0; i < 40_000; i++) insert.run(T + i, `${'x'.repeat(250)} ${i}`);
  })();
  checkpointAndClose(db);
  const answer = await tenants.host.request(id, 'export.json', {}, TIMEOUT);
  t.match(answer, { ok: false, code: 'too_large', message: /tuitbot export/ });
  t.same(tenants.registry.crashes(id), [], 'the tenant did not crash');
  t.match(await tenants.host.request(id, 'ping', {}, TIMEOUT), { tenantId: id }, 'and still answers');
});
