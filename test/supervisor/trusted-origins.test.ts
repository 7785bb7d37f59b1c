// TRUSTED_ORIGINS: parsed as exact origins (`*` refused), and what RequestAuth then accepts: state-changing cookie
// requests and WebSocket handshakes from those origins, and still nothing from any other site.
import type Database from 'better-sqlite3';
import t from 'tap';
import { RequestAuth } from '../../supervisor/auth/request-auth.js';
import { loadConfig, parseOrigins } from '../../supervisor/config.js';
import { HttpError } from '../../supervisor/http/errors.js';
import type { RequestContext } from '../../supervisor/http/server.js';
import { problemsOf } from '../helpers/config.js';

t.test('the variable: exact origins, comma-separated; unset means none', async (t) => {
  t.same(loadConfig({}).trustedOrigins, [], 'default: no other origin, behaviour unchanged');
  t.same(loadConfig({ TRUSTED_ORIGINS: ' http://127.0.0.1:5173 , https://app.example.com,http://127.0.0.1:5173/ ' }).trustedOrigins, ['http://127.0.0.1:5173', 'https://app.example.com'], 'trimmed, a trailing slash tolerated, repeats folded');
  t.same(parseOrigins(''), []);
  t.match(problemsOf({ TRUSTED_ORIGINS: '*' }), [/^TRUSTED_ORIGINS: `\*` is refused: .*name each one/]);
  t.match(problemsOf({ TRUSTED_ORIGINS: 'http://127.0.0.1:5173,*' }), [/^TRUSTED_ORIGINS: `\*` is refused/]);
  for (const bad of ['127.0.0.1:5173', 'http://127.0.0.1:5173/app', 'ftp://example.com', 'http://Example.com', 'https://example.com:443', 'null', 'http://exa mple.com']) {
    t.match(problemsOf({ TRUSTED_ORIGINS: bad }), [new RegExp(`^TRUSTED_ORIGINS: ".*" is not an origin such as http://127\\.0\\.0\\.1:5173`)], `${bad} is refused`);
  }
});

const APP = 'http://127.0.0.1:5173';
// Neither method reads the database.
const auth = new RequestAuth({} as Database.Database, null, [APP]);
const ctx = (headers: Record<string, string>, method = 'POST') => ({ method, headers: { host: '127.0.0.1:3001', cookie: 'tuitbot_session=x', ...headers } }) as unknown as RequestContext;
const refusal = (headers: Record<string, string>): string | null => {
  try {
    auth.checkOrigin(ctx(headers));
    return null;
  } catch (error) {
    return error instanceof HttpError ? `${error.status} ${error.code}` : String(error);
  }
};

t.test('the CSRF check accepts a trusted origin, by its Origin, and nothing else new', async (t) => {
  t.equal(refusal({ origin: APP, 'sec-fetch-site': 'same-site' }), null, 'the desktop app on another port (same-site)');
  t.equal(refusal({ origin: APP, 'sec-fetch-site': 'cross-site' }), null, 'or on another site');
  t.equal(refusal({ origin: APP }), null, 'a browser without Sec-Fetch-Site');
  t.equal(refusal({ origin: 'http://127.0.0.1:6666', 'sec-fetch-site': 'same-site' }), '403 cross_origin', 'another port that is not listed');
  t.equal(refusal({ origin: 'http://127.0.0.1:6666' }), '403 cross_origin');
  t.equal(refusal({ origin: `${APP}.evil.example`, 'sec-fetch-site': 'cross-site' }), '403 cross_origin', 'no prefix match');
  t.equal(refusal({ 'sec-fetch-site': 'same-site' }), '403 cross_origin', 'same-site without an Origin is not enough');
  t.equal(refusal({ origin: 'http://127.0.0.1:3001', 'sec-fetch-site': 'same-origin' }), null, 'the server itself, as before');
  const untrusting = new RequestAuth({} as Database.Database, null);
  t.throws(() => untrusting.checkOrigin(ctx({ origin: APP, 'sec-fetch-site': 'same-site' })), { code: 'cross_origin' }, 'without TRUSTED_ORIGINS the app is refused');
});

t.test('the WebSocket handshake accepts a trusted origin too', async (t) => {
  t.ok(auth.acceptsOrigin(APP, '127.0.0.1:3001'));
  t.ok(auth.acceptsOrigin('http://127.0.0.1:3001', '127.0.0.1:3001'), 'and its own');
  t.notOk(auth.acceptsOrigin('http://127.0.0.1:6666', '127.0.0.1:3001'));
  t.notOk(new RequestAuth({} as Database.Database, null).acceptsOrigin(APP, '127.0.0.1:3001'));
});
