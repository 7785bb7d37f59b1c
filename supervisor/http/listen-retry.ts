/**
 * Listening on a fixed port right after a restart. Browsers keep idle connections to the server; when the old
 * process exits, the kernel keeps them for up to a minute (TIME_WAIT), and this uWS build's listener, which acts
 * as one without SO_REUSEADDR, cannot bind the port beside them. Dying there would turn every `systemctl restart` into a crash
 * loop, so a busy fixed port is retried until it frees or the deadline passes. Port 0 never needs this.
 */
import type { Logger } from 'pino';

export const LISTEN_RETRY_MS = 90_000;
const INTERVAL_MS = 250;

export async function listenWithRetry(
  listen: () => Promise<number>,
  where: { host: string; port: number },
  log: Pick<Logger, 'warn'>,
  retryForMs = LISTEN_RETRY_MS,
): Promise<number> {
  const deadline = Date.now() + (where.port === 0 ? 0 : retryForMs);
  for (let attempt = 0; ; attempt++) {
    try {
      const port = await listen();
      if (attempt > 0) log.warn({ ...where, waitedMs: attempt * INTERVAL_MS }, 'the port is free again: listening');
      return port;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      if (attempt === 0) {
        log.warn(
          { ...where, retryForMs },
          'the port is busy: retrying (connections of a previous run close within a minute; if another program holds it, stop that program or choose another PORT)',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    }
  }
}
