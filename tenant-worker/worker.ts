/**
 * The piscina task that hosts a tenant: one call = one activation, pinned to this thread until
 * the tenant hibernates. The supervisor passes the tenant's port in the task's transfer list.
 */
import type { MessagePort } from 'node:worker_threads';
import { pino } from 'pino';
import { ActivateSchema, PROTOCOL_VERSION, parseMessage, type Hibernated } from '../protocol/index.js';
import { TenantActor } from './actor.js';

const baseLog = pino({ base: { thread: 'tenant' } });

export default async function activate(data: unknown): Promise<Hibernated> {
  const parsed = parseMessage(ActivateSchema, data);
  if (!parsed.ok) {
    throw new Error(`Refused activation (protocol ${PROTOCOL_VERSION}): ${parsed.problem}`);
  }
  const init = parsed.message;
  const log = baseLog.child({ tenantId: init.tenantId }, { level: init.logLevel });
  return new TenantActor(init, init.port as MessagePort, log).run();
}
