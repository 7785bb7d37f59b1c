/**
 * Re-authentication before sensitive changes (password, email, 2FA, deletion; ASVS 7.5.1): the
 * current password, rate-limited per account. An account created through GitHub has no password;
 * a session opened in the last 15 minutes stands in for it.
 */
import { HttpError } from '../http/errors.js';
import { verifyPassword } from './passwords.js';
import type { RateLimits } from './rate-limits.js';
import type { Caller } from './request-auth.js';

export const FRESH_SESSION_MS = 15 * 60 * 1000;

export async function reauthenticate(limits: RateLimits, caller: Caller, password: string | undefined, now = Date.now()): Promise<void> {
  await limits.consume(['reauth_account', caller.user.id]);
  if (caller.user.password_hash === null) {
    if (now - caller.session.createdAt > FRESH_SESSION_MS) {
      throw new HttpError(403, 'reauthentication_required', 'Log in again to make this change.');
    }
    return;
  }
  const { ok } = await verifyPassword(caller.user.password_hash, password ?? '');
  if (!ok) throw new HttpError(403, 'invalid_password', 'The password is not correct.', { password: 'is not correct' });
}
