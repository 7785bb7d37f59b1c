/**
 * The X app from the configuration: the configured one (ours in the cloud, the self-hoster's own),
 * the sandbox's simulated X on loopback in sandbox mode when none is configured, or none.
 */
import type { Logger } from 'pino';
import type { Mode, XAppConfig, XAppSettings, XEndpoints } from '../config.js';

export interface XSetup {
  /** The server's app, or null when users must bring their own. */
  server: { settings: XAppSettings; managed: boolean } | null;
  /** X's endpoints, for users' own apps too. */
  endpoints: XEndpoints;
  close(): Promise<void>;
}

export async function setUpX(config: XAppConfig, mode: Mode, log: Logger): Promise<XSetup> {
  if (config.kind === 'none') {
    const { kind: _kind, ...endpoints } = config;
    return { server: null, endpoints, close: async () => {} };
  }
  if (config.kind === 'app') {
    const { kind: _kind, ...settings } = config;
    // Only our cloud app is paid by us; a self-hoster's app bills the self-hoster.
    return { server: { settings, managed: mode === 'cloud' }, endpoints: endpointsOf(settings), close: async () => {} };
  }
  // The sandbox switch: the only production path that reaches into sandbox/x.
  const { startFakeX } = await import('../../sandbox/x/index.js');
  const fake = await startFakeX({ latencyMs: [20, 150], log: log.child({ component: 'sandbox-x' }) });
  const settings: XAppSettings = { ...fake.settings };
  log.warn({ url: fake.url }, 'SANDBOX: "Connect X" uses a simulated X (consent page, API, a world that evolves); nothing reaches the real X');
  // The sandbox plays the cloud: its allowance is simulated as if we paid X.
  return { server: { settings, managed: true }, endpoints: endpointsOf(settings), close: () => fake.close() };
}

function endpointsOf({ authorizeUrl, tokenUrl, revokeUrl, apiUrl, uploadUrl }: XAppSettings): XEndpoints {
  return { authorizeUrl, tokenUrl, revokeUrl, apiUrl, uploadUrl };
}
