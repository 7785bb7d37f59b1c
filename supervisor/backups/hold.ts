/**
 * Taking a tenant out of service from outside the server process (the CLI), for as long as an
 * operator command replaces or rewrites its file.
 *
 * A running server admits a tenant only if its registry row is `ready` (read at every admission and
 * scheduler pass), so a hold marks a ready tenant quarantined with a reason naming the command:
 * requests answer 423 meanwhile and no alarm wakes it. A tenant already quarantined or stopped is
 * not admitted anyway and is left as it is. The hold then waits until no activation holds the file
 * (an active tenant hibernates once idle; an open dashboard keeps it active, so the wait has a
 * limit), and checks twice, a second apart, so that an activation admitted just before the hold
 * has left the queue. Lifting the hold makes the tenant ready again only if the row still carries
 * this hold's reason (an operator's quarantine or a deletion meanwhile wins).
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TenantRegistry } from '../tenants/registry.js';
import { DatabaseBusyError, isBusy, openUnlocked } from './snapshot.js';

export const HOLD_REASON_PREFIX = 'operator hold: ';

export interface TenantHold {
  /** Whether this hold changed the tenant's status (and so will change it back). */
  readonly marked: boolean;
  release(): void;
}

export class TenantStillActiveError extends Error {
  override name = 'TenantStillActiveError';
}

/** True when no connection holds the file (or there is no file). */
export function isFileFree(path: string): boolean {
  if (!existsSync(path)) return true;
  try {
    openUnlocked(path).close();
    return true;
  } catch (error) {
    if (error instanceof DatabaseBusyError || isBusy(error)) return false;
    throw error;
  }
}

export async function holdTenant(
  registry: TenantRegistry,
  tenantId: string,
  purpose: string,
  options: { timeoutMs?: number; pollMs?: number; settleMs?: number } = {},
): Promise<TenantHold> {
  const record = registry.get(tenantId);
  if (!record) throw new Error(`no tenant ${tenantId}`);
  const reason = `${HOLD_REASON_PREFIX}${purpose} (pid ${process.pid})`;
  const marked = record.status === 'ready';
  if (marked) registry.quarantine(tenantId, reason, Date.now());
  const hold: TenantHold = {
    marked,
    release() {
      if (marked && registry.get(tenantId)?.quarantineReason === reason) registry.release(tenantId);
    },
  };
  const path = registry.dbPath(tenantId);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const settleMs = options.settleMs ?? 1_000;
  try {
    for (;;) {
      if (isFileFree(path)) {
        await sleep(settleMs);
        if (isFileFree(path)) return hold;
      }
      if (Date.now() > deadline) {
        throw new TenantStillActiveError(
          `tenant ${tenantId} is still active in the running server after ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s (an open dashboard keeps it awake); try again, or stop the server`,
        );
      }
      await sleep(options.pollMs ?? 250);
    }
  } catch (error) {
    hold.release();
    throw error;
  }
}
