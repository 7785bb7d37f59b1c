/**
 * Two-factor routes under /auth/2fa, for a logged-in user: setup (a new seed, pending), enable
 * (the first code proves the app has it; recovery codes are shown once), disable, and new
 * recovery codes.
 *
 * Turning 2FA on or off, or replacing the recovery codes, needs the password again (GitHub-only
 * accounts: a session opened in the last 15 minutes, as elsewhere in /auth), so a stolen session
 * alone can neither lock the owner out with an attacker's authenticator nor switch protection off.
 * Every route that checks a code is rate-limited per account and per IP. Mail about a change is
 * queued in the transaction that makes it.
 */
import type Database from 'better-sqlite3';
import * as v from 'valibot';
import { audit } from '../auth/audit.js';
import type { RateLimits } from '../auth/rate-limits.js';
import { reauthenticate } from '../auth/reauthenticate.js';
import { deleteRecoveryCodes, generateRecoveryCodes } from '../auth/recovery-codes.js';
import type { Caller, RequestAuth } from '../auth/request-auth.js';
import { createSession, invalidateUserSessions } from '../auth/sessions.js';
import { acceptTotp, beginTotpSetup, clearTotp, encodeTotpSeed, totpUri } from '../auth/totp.js';
import { findUserById } from '../auth/users.js';
import { HttpError } from '../http/errors.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler, RequestContext } from '../http/server.js';
import type { SecretBox } from '../../protocol/secret-box.js';
import { publicUser, type MailQueue, type SecondFactor } from './auth.js';

export interface TwoFactorRouteDeps {
  db: Database.Database;
  auth: RequestAuth;
  limits: RateLimits;
  mail: MailQueue;
  secrets: SecretBox;
  /** The same checker the login step uses (TOTP or recovery code). */
  secondFactor: SecondFactor;
}

const Password = v.pipe(v.string(), v.minLength(1, 'is required'), v.maxLength(1024, 'is too long'));
const Code = v.pipe(v.string(), v.trim(), v.minLength(6, 'is too short'), v.maxLength(64, 'is too long'));
const invalidCode = () => new HttpError(422, 'invalid_code', 'The code is not correct.', { code: 'is not correct' });

export function addTwoFactorRoutes(router: Router<Handler>, deps: TwoFactorRouteDeps): void {
  const { db, auth, limits, mail, secrets } = deps;

  /** The rule of routes/auth.ts: the current password, rate-limited per account. */
  const limitCodes = (ctx: RequestContext, caller: Caller) =>
    limits.consume(['two_factor_account', caller.user.id], ['two_factor_ip', ctx.ip]);

  const requireEnabled = (caller: Caller) => {
    if (caller.user.totp_enabled_at === null) throw new HttpError(409, 'two_factor_off', 'Two-factor authentication is not on.');
  };

  router.add('POST', '/auth/2fa/setup', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(v.object({ password: v.optional(Password) }));
    if (caller.user.totp_enabled_at !== null) throw new HttpError(409, 'two_factor_on', 'Two-factor authentication is already on.');
    await reauthenticate(limits, caller, body.password);
    const seed = beginTotpSetup(db, secrets, caller.user);
    if (!seed) throw new HttpError(409, 'two_factor_on', 'Two-factor authentication is already on.');
    return json(200, { secret: encodeTotpSeed(seed), uri: totpUri(caller.user.email, seed) });
  });

  router.add('POST', '/auth/2fa/enable', async (ctx) => {
    const caller = auth.require(ctx);
    const { code } = await ctx.json(v.object({ code: Code }));
    if (caller.user.totp_enabled_at !== null) throw new HttpError(409, 'two_factor_on', 'Two-factor authentication is already on.');
    if (caller.user.totp_secret === null) throw new HttpError(409, 'setup_required', 'Start the setup first.');
    await limitCodes(ctx, caller);
    const enabled = db.transaction(() => {
      if (!acceptTotp(db, secrets, caller.user, code, 'pending')) return null;
      const recoveryCodes = generateRecoveryCodes(db, caller.user.id);
      // A privilege change: every session ends, the caller's included, and the caller gets a new one.
      invalidateUserSessions(db, caller.user.id);
      const fresh = createSession(db, caller.user.id, { ip: ctx.ip, userAgent: ctx.headers['user-agent'] ?? null });
      mail.queue({ to: caller.user.email, template: 'two_factor_changed', data: { enabled: true } });
      audit(db, { userId: caller.user.id, action: 'two_factor_enabled', ip: ctx.ip });
      return { recoveryCodes, ...fresh };
    })();
    if (!enabled) throw invalidCode();
    mail.flush();
    const { token, session, recoveryCodes } = enabled;
    if (caller.via === 'cookie') auth.setSessionCookie(ctx, token);
    return json(200, {
      user: publicUser(findUserById(db, caller.user.id)!),
      session: { id: session.id, expiresAt: session.expiresAt },
      // Bearer clients get the new token in the body, as /auth/login gives it to API clients.
      ...(caller.via === 'bearer' && { token }),
      recoveryCodes,
    });
  });

  router.add('POST', '/auth/2fa/disable', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(v.object({ password: v.optional(Password), code: v.optional(Code) }));
    requireEnabled(caller);
    await limitCodes(ctx, caller);
    await reauthenticate(limits, caller, body.password);
    // Optional: a client may ask for a code as well; when one is sent it must be right.
    if (body.code !== undefined && !(await deps.secondFactor.verify(caller.user, body.code))) throw invalidCode();
    db.transaction(() => {
      clearTotp(db, caller.user.id);
      deleteRecoveryCodes(db, caller.user.id);
      mail.queue({ to: caller.user.email, template: 'two_factor_changed', data: { enabled: false } });
      audit(db, { userId: caller.user.id, action: 'two_factor_disabled', ip: ctx.ip });
    })();
    mail.flush();
    return json(200, { user: publicUser(findUserById(db, caller.user.id)!) });
  });

  router.add('POST', '/auth/2fa/recovery-codes', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(v.object({ password: v.optional(Password) }));
    requireEnabled(caller);
    await reauthenticate(limits, caller, body.password);
    const recoveryCodes = db.transaction(() => {
      const codes = generateRecoveryCodes(db, caller.user.id);
      mail.queue({
        to: caller.user.email,
        template: 'notice',
        data: {
          subject: 'Your TuitBot recovery codes were replaced',
          body: 'New recovery codes were created for your account; the old ones no longer work.\n\nIf this was not you, change your password now.',
        },
      });
      audit(db, { userId: caller.user.id, action: 'recovery_codes_regenerated', ip: ctx.ip });
      return codes;
    })();
    mail.flush();
    return json(200, { recoveryCodes });
  });
}
