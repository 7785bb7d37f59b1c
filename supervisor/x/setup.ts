/**
 * The X app from the configuration: the configured one (ours in the cloud, the self-hoster's own),
 * the sandbox's simulated X on loopback in sandbox mode when none is configured, or none.
 */
import type { Logger } from 'pino';
import type { XApp } from '../../protocol/index.js';
import type { Mode, XAppConfig, XAppSettings } from '../config.js';

export interface XSetup {
  settings: XAppSettings;
  /** What tenant threads get: the app, and whether we pay X for its calls (the allowance applies). */
  tenantApp: XApp;
  close(): Promise<void>;
}

export async function setUpX(config: XAppConfig, mode: Mode, log: Logger): Promise<XSetup | null> {
  if (config.kind === 'none') return null;
  if (config.kind === 'app') {
    const { kind: _kind, ...settings } = config;
    // Only our cloud app is paid by us; a self-hoster's app bills the self-hoster.
    return { settings, tenantApp: tenantAppOf(settings, mode === 'cloud'), close: async () => {} };
  }
  // The sandbox switch: the only production path that reaches into sandbox/x.
  const { startFakeX } = await import('../../sandbox/x/index.js');
  const fake = await startFakeX({ latencyMs: [20, 150], log: log.child({ component: 'sandbox-x' }) });
  const settings: XAppSettings = { ...fake.settings };
  log.warn({ url: fake.url }, 'SANDBOX: "Connect X" uses a simulated X (consent page, API, a world that evolves); nothing reaches the real X');
  // The sandbox plays the cloud: its allowance is simulated as if we paid X.
  return { settings, tenantApp: tenantAppOf(settings, true), close: () => fake.close() };
}

function tenantAppOf(settings: XAppSettings, managed: boolean): XApp {
  const { clientId, clientSecret, tokenUrl, revokeUrl, apiUrl, uploadUrl } = settings;
  return { clientId, clientSecret, tokenUrl, revokeUrl, apiUrl, uploadUrl, managed };
}
