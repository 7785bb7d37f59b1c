import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { startSupervisor } from '../../../supervisor/app.js';
import { loadConfig } from '../../../supervisor/config.js';
import { tempDataDir } from '../../helpers/tenants.js';

t.test('/api/openapi.json describes every /api route the server has, with the schemas it enforces', async (t) => {
  const dir = tempDataDir();
  const supervisor = await startSupervisor(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', TENANT_THREADS: '1' }), pino({ level: 'silent' }));
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const response = await fetch(`http://127.0.0.1:${supervisor.port}/api/openapi.json`);
  t.equal(response.status, 200);
  const doc = (await response.json()) as { openapi: string; info: { version: string }; paths: Record<string, Record<string, any>> };
  t.equal(doc.openapi, '3.1.0');
  // Against the OpenAPI Initiative's own 3.1 schema: what /docs and any client generator will read.
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc) as unknown as Parameters<Validator['validate']>[0]);
  t.same(result.errors ?? [], [], 'the document is a valid OpenAPI 3.1 document');
  t.ok(result.valid);
  t.equal(validator.version, '3.1');
  t.match(doc.info.version, /^\d+\.\d+\.\d+$/);

  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)));
  const api = supervisor.routes.filter((r) => r.pattern.startsWith('/api/') || r.pattern.startsWith('/webhooks/'));
  t.ok(api.length >= 15);
  for (const { method, pattern } of api) {
    t.ok(documented.has(`${method} ${pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`), `${method} ${pattern} is documented`);
  }

  const checkout = doc.paths['/api/billing/checkout']!['post'];
  t.same(checkout.requestBody.content['application/json'].schema.properties.plan.enum, ['starter', 'growth', 'pro'], 'the body schema is the one the route validates with');
  t.ok(checkout.responses['422'] && checkout.responses['401'], 'validation and authentication errors are described');
  t.same(checkout.security, [{ session: [] }, { bearer: [] }]);
});
