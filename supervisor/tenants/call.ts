/**
 * Calling a tenant from an HTTP route: the protocol's error codes become HTTP errors here, once,
 * so every route answers a hibernating, crashed or overloaded tenant the same way.
 */
import { RemoteError } from '../../protocol/index.js';
import { HttpError } from '../http/errors.js';
import type { TenantHost } from './host.js';

const STATUS: Record<string, number> = {
  invalid_params: 422,
  not_found: 404,
  unknown_method: 404,
  tenant_not_found: 404,
  tenant_quarantined: 423,
  tenant_stopped: 410,
  overloaded: 503,
  tenant_restarting: 503,
  shutting_down: 503,
  hibernating: 503,
  tenant_crashed: 502,
  protocol_error: 502,
  deadline_exceeded: 504,
  secrets_unavailable: 503,
  x_not_configured: 409,
  x_not_connected: 409,
  x_disconnected: 409,
  x_budget_refused: 409,
  x_rate_limited: 429,
  x_forbidden: 403,
  x_unavailable: 502,
  read_only: 409,
  quota_exceeded: 413,
  in_use: 409,
  llm_error: 502,
  invalid_state: 409,
  already_exists: 409,
  limit_reached: 409,
  guard_refused: 409,
  llm_not_configured: 409,
};

export async function callTenant(host: TenantHost, tenantId: string, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
  try {
    return await host.request(tenantId, method, params, timeoutMs);
  } catch (error) {
    if (error instanceof RemoteError) {
      const status = STATUS[error.code] ?? 500;
      // Internal failures keep their details in the tenant's log, not in the answer.
      const message = status === 500 ? 'The tenant failed to handle the request.' : error.message;
      throw new HttpError(status, status === 500 ? 'internal_error' : error.code, message, error.fields);
    }
    throw error;
  }
}
