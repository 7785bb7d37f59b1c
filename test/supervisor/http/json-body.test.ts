import t from 'tap';
import * as v from 'valibot';
import { json } from '../../../supervisor/http/reply.js';
import { startServer } from './fixtures/harness.js';

const Signup = v.object({
  user: v.object({ email: v.pipe(v.string(), v.email('must be an email address')), name: v.optional(v.string()) }),
  plan: v.picklist(['free', 'pro']),
});

t.test('JSON request bodies', async (t) => {
  const { url } = await startServer(t, (r) => {
    r.add('POST', '/signup', async (ctx) => json(201, { got: await ctx.json(Signup) }));
    r.add('POST', '/raw', async (ctx) => {
      const [a, b] = [await ctx.body(), await ctx.body()];
      return json(200, { same: a === b, length: a.length });
    });
  });
  const post = (body: string, contentType = 'application/json; charset=utf-8', path = '/signup') =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

  t.test('a valid body reaches the handler as the parsed, validated value', async (t) => {
    const res = await post(JSON.stringify({ user: { email: 'a@b.co', extra: 1 }, plan: 'pro' }));
    t.equal(res.status, 201);
    t.same(await res.json(), { got: { user: { email: 'a@b.co' }, plan: 'pro' } });
  });
  t.test('malformed JSON is 400 invalid_json', async (t) => {
    const res = await post('{"user": ');
    t.equal(res.status, 400);
    t.match(await res.json(), { error: { code: 'invalid_json' } });
  });
  t.test('an empty body is 400 invalid_json', async (t) => {
    t.equal((await post('')).status, 400);
  });
  t.test('a non-JSON content type is 415 unsupported_media_type', async (t) => {
    const res = await post('user=x', 'application/x-www-form-urlencoded');
    t.equal(res.status, 415);
    t.match(await res.json(), { error: { code: 'unsupported_media_type' } });
  });
  t.test('a schema failure is 422 with fields keyed by dot path', async (t) => {
    const res = await post(JSON.stringify({ user: { email: 'x' }, plan: 'gold' }));
    t.equal(res.status, 422);
    const { error } = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
    t.equal(error.code, 'validation_failed');
    t.equal(error.fields['user.email'], 'must be an email address');
    t.type(error.fields['plan'], 'string');
  });
  t.test("a root-level failure is reported under '(body)'", async (t) => {
    const res = await post('42');
    t.equal(res.status, 422);
    t.match(await res.json(), { error: { fields: { '(body)': String } } });
  });
  t.test('body() returns the same promise on every call', async (t) => {
    t.same(await (await post('hello', 'text/plain', '/raw')).json(), { same: true, length: 5 });
  });
});
