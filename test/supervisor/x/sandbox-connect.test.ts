// The "done when", as a new user would try it: the real server in sandbox mode, "Connect X"
// through the simulated X's consent page, and the API then shows the connected @handle.
import t from 'tap';
import { Browser } from '../../helpers/browser.js';
import { serveTemp } from '../../helpers/process.js';

/** Submits the consent page's Authorize form as a browser would; returns X's redirect back to us. */
async function consent(authorizeUrl: string, username: string, decision: 'authorize' | 'deny' = 'authorize'): Promise<string> {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${html}`);
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const response = await fetch(new URL('/i/oauth2/authorize', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision, username }).toString(),
  });
  return response.headers.get('location')!;
}

t.test('sandbox: Connect X through the consent page, then the API shows the @handle; disconnect revokes', async (t) => {
  const server = await serveTemp(t, { LOG_LEVEL: 'debug' });
  t.match(server.output(), /uses a simulated X \(consent page/);
  const browser = new Browser(server.base);
  t.equal((await browser.json('POST', '/auth/signup', { email: 'new@example.com', password: 'correct horse battery staple' })).status, 201);
  t.match((await browser.json('GET', '/api/x/status')).body, { configured: true, connected: false, account: null });

  const connect = await browser.request('GET', '/api/x/connect');
  t.equal(connect.status, 302);
  const authorize = new URL(connect.headers.get('location')!);
  t.equal(authorize.pathname, '/i/oauth2/authorize');
  t.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  t.equal(authorize.searchParams.get('scope'), 'tweet.read tweet.write users.read offline.access media.write');
  t.equal(authorize.searchParams.get('redirect_uri'), `${server.base}/api/x/callback`);

  const back = new URL(await consent(authorize.toString(), 'indie_maker'));
  t.equal(back.origin + back.pathname, `${server.base}/api/x/callback`);
  const callback = await browser.request('GET', back.pathname + back.search);
  t.equal(callback.status, 302);
  t.equal(callback.headers.get('location'), `${server.base}/dashboard/x?connected=indie_maker`);

  const status = await browser.json('GET', '/api/x/status');
  t.match(status.body, { configured: true, connected: true, account: { username: 'indie_maker' } });
  const replay = await browser.request('GET', back.pathname + back.search);
  t.equal(replay.headers.get('location'), `${server.base}/dashboard/x?error=bad_state`, 'a callback works once');

  const disconnected = await browser.json('DELETE', '/api/x/disconnect');
  t.match(disconnected.body, { connected: false, disconnectedReason: 'user', account: { username: 'indie_maker' } });
  const mailbox = await (await browser.request('GET', '/dev/mail')).text();
  t.match(mailbox, /X disconnected from TuitBot/, 'the user is mailed');
});
