// The GITHUB_* settings: off unless both credentials are set, GitHub's endpoints by default, any
// endpoint overridable (the fake's in tests and the sandbox), and the secret never printed.
import { inspect } from 'node:util';
import t from 'tap';
import { ENV_VARIABLES, loadConfig } from '../../../supervisor/config.js';
import { problemsOf } from '../../helpers/config.js';

t.test('without credentials GitHub login is off', async (t) => {
  t.equal(loadConfig({}).github, null);
  t.equal(loadConfig({ GITHUB_CLIENT_ID: '', GITHUB_CLIENT_SECRET: '' }).github, null, 'empty values count as unset');
});

t.test('with both credentials it is on, with GitHub.com endpoints by default', async (t) => {
  t.same({ ...loadConfig({ GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 's3cret' }).github }, {
    clientId: 'Iv1.abc',
    clientSecret: 's3cret',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    apiUrl: 'https://api.github.com',
  });
});

t.test('every endpoint is a setting', async (t) => {
  const github = loadConfig({
    GITHUB_CLIENT_ID: 'id',
    GITHUB_CLIENT_SECRET: 'secret',
    GITHUB_AUTHORIZE_URL: 'http://127.0.0.1:4000/login/oauth/authorize',
    GITHUB_TOKEN_URL: 'http://127.0.0.1:4000/login/oauth/access_token',
    GITHUB_API_URL: 'http://127.0.0.1:4000',
  }).github;
  t.match(github, { authorizeUrl: 'http://127.0.0.1:4000/login/oauth/authorize', tokenUrl: 'http://127.0.0.1:4000/login/oauth/access_token', apiUrl: 'http://127.0.0.1:4000' });
  t.match(problemsOf({ GITHUB_API_URL: 'not a url' }), [/^GITHUB_API_URL: must be a URL/]);
});

t.test('one credential without the other is a configuration problem', async (t) => {
  t.match(problemsOf({ GITHUB_CLIENT_ID: 'id' }), [/^GITHUB_CLIENT_SECRET: required with GITHUB_CLIENT_ID/]);
  t.match(problemsOf({ GITHUB_CLIENT_SECRET: 'secret' }), [/^GITHUB_CLIENT_ID: required with GITHUB_CLIENT_SECRET/]);
});

t.test('logging the config never prints the client secret', async (t) => {
  const config = loadConfig({ GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'hunter2-hunter2' });
  t.notMatch(JSON.stringify(config), /hunter2/);
  t.notMatch(inspect(config, { depth: 5 }), /hunter2/);
  t.match(JSON.stringify(config.github), /"clientSecret":"\[redacted\]"/);
  t.equal(config.github?.clientSecret, 'hunter2-hunter2', 'the value itself is intact');
});

t.test('every GITHUB_* variable is read (and so must be in .env.example)', async (t) => {
  for (const name of ['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'GITHUB_AUTHORIZE_URL', 'GITHUB_TOKEN_URL', 'GITHUB_API_URL']) {
    t.ok(ENV_VARIABLES.includes(name), name);
  }
});
