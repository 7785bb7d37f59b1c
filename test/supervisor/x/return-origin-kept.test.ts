// A desktop app's "Connect X" keeps the origin it returns to in the state row, so a server restarted while the user
// is on X's consent page still sends them back to the app; attempts without one end on the server's pages.
import t from 'tap';
import { createXOAuthFlow } from '../../../supervisor/x/oauth-flow.js';
import { startXServer } from '../../helpers/x-server.js';

const APP = 'http://127.0.0.1:5173';

t.test('the return origin lives with the state row: a new flow on the same database (a restart) still knows it', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  await server.signup('desk@example.com');
  const { id: userId, tenant_id: tenantId } = server.db.prepare('SELECT id, tenant_id FROM users').get() as { id: string; tenant_id: string };
  const { id: sessionId } = server.db.prepare('SELECT id FROM sessions').get() as { id: string };
  const flowOfAFreshProcess = () =>
    createXOAuthFlow({ db: server.db, secrets: server.secrets, appFor: (user, tenant) => server.apps.forUser(user, tenant)?.settings ?? null, redirectUri: () => 'http://127.0.0.1:3001/api/x/callback' });

  const desktop = flowOfAFreshProcess().begin({ userId, tenantId, sessionId, returnOrigin: APP }).searchParams.get('state')!;
  const plain = flowOfAFreshProcess().begin({ userId, tenantId, sessionId }).searchParams.get('state')!;
  t.equal(flowOfAFreshProcess().returnOrigin(desktop), APP, 'the desktop attempt returns to the app after a restart');
  t.equal(flowOfAFreshProcess().returnOrigin(plain), null, 'an attempt from the server’s own pages returns there');
  t.equal(flowOfAFreshProcess().returnOrigin('not-a-state-we-issued'), null, 'an unknown state has no return');
  t.equal((server.db.prepare('SELECT count(*) AS n FROM x_oauth_states WHERE return_origin = ?').get(APP) as { n: number }).n, 1, 'stored once, in its row');
});
