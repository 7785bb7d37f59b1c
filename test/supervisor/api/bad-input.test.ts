// Every documented operation that takes a JSON body gets malformed JSON, the wrong type, an
// oversized body, unknown fields and hostile strings: each is a clear error envelope with the right
// status, never a 500, and nothing changes.
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { startSupervisor } from '../../../supervisor/app.js';
import { loadConfig } from '../../../supervisor/config.js';
import { Browser } from '../../helpers/browser.js';
import { tempDataDir } from '../../helpers/tenants.js';

const HOSTILE = ["<script>alert('x')</script>", "' OR 1=1 --", '../../../etc/passwd', '\u0000\u202e', 'x'.repeat(5000), '{{7*7}}'];

t.test('bad input to every body-taking /api operation is refused clearly and changes nothing', async (t) => {
  const dir = tempDataDir();
  const supervisor = await startSupervisor(
    loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', TENANT_THREADS: '2', HTTP_MAX_BODY_BYTES: '8192' }),
    pino({ level: 'silent' }),
  );
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${supervisor.port}`;
  const ada = new Browser(base);
  t.equal((await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' })).status, 201);
  const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
  const before = JSON.stringify((await ada.json('GET', '/api/settings')).body);

  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.requestBody && path.startsWith('/api/'))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, json: 'application/json' in op.requestBody!.content })),
  );
  t.ok(operations.length >= 6, `${operations.length} operations take a body`);

  const send = async (method: string, path: string, body: string, contentType = 'application/json') => {
    const cookie = [...ada.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': contentType, cookie, origin: base }, body });
    const text = await response.text();
    let parsed: any = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // reported below
    }
    return { status: response.status, body: parsed, text };
  };
  const envelope = (t: Test, label: string, answer: { status: number; body: any; text: string }, statuses: number[]) => {
    t.ok(statuses.includes(answer.status), `${label}: ${answer.status} in ${statuses.join('/')} (${answer.text.slice(0, 120)})`);
    t.match(answer.body, { error: { code: String, message: String } }, `${label}: the error envelope`);
  };

  for (const { method, path, json } of operations) {
    await t.test(`${method} ${path}`, async (t) => {
      if (!json) {
        // A file upload (its body is the file's bytes): JSON and forms are not files.
        envelope(t, 'JSON to a file upload', await send(method, path, '{"plan": "pro"}'), [415]);
        envelope(t, 'a form to a file upload', await send(method, path, 'plan=pro', 'application/x-www-form-urlencoded'), [415]);
        return;
      }
      envelope(t, 'malformed JSON', await send(method, path, '{"plan": '), [400]);
      envelope(t, 'not JSON at all', await send(method, path, 'plan=pro', 'application/x-www-form-urlencoded'), [415]);
      const wrongType = await send(method, path, '[1, 2, 3]');
      envelope(t, 'wrong type', wrongType, [422]);
      t.ok(wrongType.body?.error?.fields, 'names what is wrong');
      envelope(t, 'oversized', await send(method, path, JSON.stringify({ pad: 'x'.repeat(20_000) })), [413]);
      const unknown = await send(method, path, JSON.stringify({ zzz_unknown_field: 1 }));
      envelope(t, 'unknown field', unknown, [422]);
      for (const hostile of HOSTILE) {
        const answer = await send(method, path, JSON.stringify({ plan: hostile, provider: hostile, clientId: hostile, enabled: hostile, timezone: hostile }));
        t.ok(answer.status < 500, `hostile ${JSON.stringify(hostile.slice(0, 20))}: ${answer.status}`);
        if (answer.status >= 400) t.match(answer.body, { error: { code: String } });
      }
    });
  }
  t.equal(JSON.stringify((await ada.json('GET', '/api/settings')).body), before, 'nothing changed');
});
