/**
 * The second login step of a user with 2FA on: a TOTP code from the authenticator (never the same
 * one twice) or, failing that, one of the user's unused recovery codes, which it uses up.
 */
import type Database from 'better-sqlite3';
import type { SecondFactor } from '../routes/auth.js';
import type { SecretBox } from '../../protocol/secret-box.js';
import { audit } from './audit.js';
import { remainingRecoveryCodes, useRecoveryCode } from './recovery-codes.js';
import { acceptTotp, normalizeTotpCode } from './totp.js';
import type { UserRow } from './users.js';

export function createSecondFactor(deps: { db: Database.Database; secrets: SecretBox; now?: () => number }): SecondFactor {
  const { db, secrets } = deps;
  const now = deps.now ?? Date.now;
  return {
    async verify(user: UserRow, code: string) {
      if (user.totp_enabled_at === null) return null;
      if (normalizeTotpCode(code) !== null) return acceptTotp(db, secrets, user, code, 'active', now()) ? 'totp' : null;
      const used = db.transaction(() => {
        if (!useRecoveryCode(db, user.id, code, now())) return false;
        audit(db, { userId: user.id, action: 'recovery_code_used', detail: { remaining: remainingRecoveryCodes(db, user.id) } });
        return true;
      })();
      return used ? 'recovery' : null;
    },
  };
}
