/**
 * Account routes under /auth: signup, login (with the second step when 2FA is on), logout, me,
 * email verification, password reset, sessions, password and email change, account deletion.
 *
 * Every write that must be mailed about queues its mail in the same transaction (the outbox), so
 * a crash never leaves a change without its notice or a notice without its change.
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import * as v from 'valibot';
import { audit } from '../auth/audit.js';
import { consumeInvite } from '../auth/invites.js';
import { dummyVerify, hashPassword, passwordProblem, verifyPassword } from '../auth/passwords.js';
import type { RateLimits } from '../auth/rate-limits.js';
import { reauthenticate } from '../auth/reauthenticate.js';
import type { Caller, RequestAuth } from '../auth/request-auth.js';
import { createSession, invalidateSession, invalidateUserSessions, listSessions } from '../auth/sessions.js';
import { consumeUserToken, issueUserToken, peekUserToken, recordTokenAttempt } from '../auth/user-tokens.js';
import { countUsers, createUser, findUserByEmail, findUserById, markEmailVerified, normalizeEmail, setPasswordHash, toUser, type UserRow } from '../auth/users.js';
import { HttpError } from '../http/errors.js';
import { json, noContent } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler, RequestContext } from '../http/server.js';
import type { TenantHost } from '../tenants/host.js';
import type { TenantRegistry } from '../tenants/registry.js';

export type Registration = 'open' | 'invite' | 'closed';

export interface MailQueue {
  /** Queues a mail; call inside the transaction of the change it reports. */
  queue(message: { to: string; template: string; data: Record<string, unknown> }): void;
  /** Wakes the sender once the transaction committed. */
  flush(): void;
}

export interface SecondFactor {
  /** Checks a TOTP or recovery code of a user with 2FA on, consuming what it accepts. */
  verify(user: UserRow, code: string): Promise<'totp' | 'recovery' | null>;
}

export interface AuthRouteDeps {
  db: Database.Database;
  registry: TenantRegistry;
  host: TenantHost;
  auth: RequestAuth;
  limits: RateLimits;
  mail: MailQueue;
  secondFactor: SecondFactor;
  log: Logger;
  /** Base URL for links in mail, e.g. https://app.tuitbot.cloud. */
  appUrl: () => string;
  mode: 'sandbox' | 'self-host' | 'cloud';
  registration: Registration;
  purgeAfterMs?: number;
  /** Called after an account deletion committed (billing cancels its subscription). */
  onAccountDeleted?: (userId: string) => void;
  /** The billing summary `/auth/me` shows ("disabled" for self-hosters). */
  subscription?: (userId: string) => { status: string; plan: string | null };
}

const Email = v.pipe(v.string(), v.trim(), v.maxLength(254, 'is too long'), v.email('must be an email address'));
const Password = v.pipe(
  v.string(),
  v.check((value) => passwordProblem(value) === null, (issue) => `password ${passwordProblem(issue.input as string) ?? 'is invalid'}`),
);
const Token = v.pipe(v.string(), v.regex(/^[a-z2-7]{20,64}$/, 'is not a valid token'));
const AnyPassword = v.pipe(v.string(), v.minLength(1, 'is required'), v.maxLength(1024, 'is too long'));

/** Only what a client may see of a user. */
export function publicUser(user: UserRow) {
  const { id, email, emailVerifiedAt, role, tenantId, twoFactorEnabled, hasPassword, createdAt } = toUser(user);
  return { id, email, emailVerified: emailVerifiedAt !== null, role, tenantId, twoFactorEnabled, hasPassword, createdAt };
}

export function addAuthRoutes(router: Router<Handler>, deps: AuthRouteDeps): void {
  const { db, auth, limits, mail } = deps;
  const purgeAfterMs = deps.purgeAfterMs ?? 30 * 24 * 60 * 60 * 1000;
  const link = (path: string, token: string) => `${deps.appUrl()}${path}?token=${token}`;

  /** Starts a fresh session (a new token on every login: no fixation) and sets the cookie. */
  function startSession(ctx: RequestContext, user: UserRow, client: 'browser' | 'api') {
    const { token, session } = createSession(db, user.id, { ip: ctx.ip, userAgent: ctx.headers['user-agent'] ?? null });
    if (client === 'browser') auth.setSessionCookie(ctx, token);
    return { user: publicUser(user), session: { id: session.id, expiresAt: session.expiresAt }, ...(client === 'api' && { token }) };
  }

  router.add('POST', '/auth/signup', async (ctx) => {
    auth.checkOrigin(ctx);
    await limits.consume(['signup_ip', ctx.ip]);
    const body = await ctx.json(v.object({ email: Email, password: Password, invite: v.optional(Token) }));
    // The first account of a self-hosted server is its admin; after that the registration rule holds.
    const firstAdmin = deps.mode === 'self-host' && countUsers(db) === 0;
    const needsInvite = !firstAdmin && deps.registration === 'invite';
    if (!firstAdmin && deps.registration === 'closed') {
      throw new HttpError(403, 'registration_closed', 'Registration is closed on this server; ask its administrator.');
    }
    if (needsInvite && !body.invite) {
      throw new HttpError(403, 'invite_required', 'Registration on this server needs an invitation link.', { invite: 'is required' });
    }
    if (findUserByEmail(db, body.email)) {
      throw new HttpError(409, 'email_taken', 'An account with this email already exists.', { email: 'is already registered' });
    }
    const passwordHash = await hashPassword(body.password);
    const user = db.transaction(() => {
      const created = createUser(db, deps.registry, { email: body.email, passwordHash, role: firstAdmin ? 'admin' : 'user' });
      if (needsInvite && !consumeInvite(db, body.invite!, created.email, created.id)) {
        throw new HttpError(403, 'invalid_invite', 'This invitation is invalid, expired, used or meant for another address.', { invite: 'is not valid' });
      }
      const token = issueUserToken(db, created.id, 'verify_email', created.email);
      mail.queue({ to: created.email, template: 'verify_email', data: { link: link('/verify-email', token) } });
      audit(db, { userId: created.id, action: 'signup', ip: ctx.ip });
      return created;
    })();
    mail.flush();
    return json(201, startSession(ctx, user, 'browser'));
  });

  router.add('POST', '/auth/login', async (ctx) => {
    auth.checkOrigin(ctx);
    const body = await ctx.json(
      v.object({ email: Email, password: AnyPassword, client: v.optional(v.picklist(['browser', 'api']), 'browser') }),
    );
    await limits.consume(['login_ip', ctx.ip], ['login_account', normalizeEmail(body.email)]);
    const user = findUserByEmail(db, body.email);
    if (!user || user.password_hash === null) {
      await dummyVerify(body.password);
      audit(db, { userId: user?.id ?? null, action: 'login_failed', ip: ctx.ip, detail: { reason: user ? 'no_password' : 'unknown_email' } });
      throw new HttpError(401, 'invalid_credentials', 'The email or password is not correct.');
    }
    const { ok, rehash } = await verifyPassword(user.password_hash, body.password);
    if (!ok) {
      audit(db, { userId: user.id, action: 'login_failed', ip: ctx.ip, detail: { reason: 'wrong_password' } });
      throw new HttpError(401, 'invalid_credentials', 'The email or password is not correct.');
    }
    if (rehash) setPasswordHash(db, user.id, rehash);
    if (user.totp_enabled_at !== null) {
      const challenge = issueUserToken(db, user.id, 'login_2fa');
      return json(200, { twoFactorRequired: true, challenge, client: body.client });
    }
    audit(db, { userId: user.id, action: 'login', ip: ctx.ip, detail: { method: 'password' } });
    return json(200, startSession(ctx, user, body.client));
  });

  router.add('POST', '/auth/login/2fa', async (ctx) => {
    auth.checkOrigin(ctx);
    const body = await ctx.json(
      v.object({
        challenge: Token,
        code: v.pipe(v.string(), v.trim(), v.minLength(6, 'is too short'), v.maxLength(64, 'is too long')),
        client: v.optional(v.picklist(['browser', 'api']), 'browser'),
      }),
    );
    await limits.consume(['two_factor_ip', ctx.ip]);
    const pending = peekUserToken(db, body.challenge, 'login_2fa');
    const user = pending ? findUserById(db, pending.userId) : undefined;
    if (!pending || !user || user.totp_enabled_at === null) {
      throw new HttpError(401, 'invalid_challenge', 'This login step expired; log in again.');
    }
    await limits.consume(['two_factor_account', user.id]);
    const method = await deps.secondFactor.verify(user, body.code);
    if (!method) {
      // Five wrong codes end the challenge; the password must be entered again.
      if (recordTokenAttempt(db, body.challenge) >= 5) consumeUserToken(db, body.challenge, 'login_2fa');
      audit(db, { userId: user.id, action: 'login_2fa_failed', ip: ctx.ip });
      throw new HttpError(401, 'invalid_code', 'The code is not correct.', { code: 'is not correct' });
    }
    if (!consumeUserToken(db, body.challenge, 'login_2fa')) {
      throw new HttpError(401, 'invalid_challenge', 'This login step expired; log in again.');
    }
    audit(db, { userId: user.id, action: 'login', ip: ctx.ip, detail: { method: `password+${method}` } });
    return json(200, startSession(ctx, findUserById(db, user.id)!, body.client));
  });

  router.add('POST', '/auth/logout', (ctx) => {
    auth.checkOrigin(ctx);
    const caller = auth.caller(ctx);
    if (caller) {
      invalidateSession(db, caller.session.id);
      audit(db, { userId: caller.user.id, action: 'logout', ip: ctx.ip });
    }
    auth.clearSessionCookie(ctx);
    return noContent();
  });

  router.add('GET', '/auth/me', (ctx) => {
    const caller = auth.require(ctx);
    const subscription = deps.subscription?.(caller.user.id) ?? { status: 'none', plan: null };
    return json(200, { user: publicUser(caller.user), session: { id: caller.session.id, expiresAt: caller.session.expiresAt }, subscription });
  });

  router.add('POST', '/auth/verify-email', async (ctx) => {
    auth.checkOrigin(ctx);
    await limits.consume(['token_ip', ctx.ip]);
    const { token } = await ctx.json(v.object({ token: Token }));
    const verified = db.transaction(() => {
      const signup = consumeUserToken(db, token, 'verify_email');
      if (signup) {
        markEmailVerified(db, signup.userId, signup.email!);
        audit(db, { userId: signup.userId, action: 'email_verified', ip: ctx.ip });
        return { changed: false };
      }
      const change = consumeUserToken(db, token, 'change_email');
      if (!change) return null;
      const user = findUserById(db, change.userId);
      if (!user) return null;
      if (findUserByEmail(db, change.email!)) throw new HttpError(409, 'email_taken', 'That address now belongs to another account.');
      markEmailVerified(db, user.id, change.email!);
      mail.queue({ to: user.email, template: 'email_changed', data: { newEmail: change.email } });
      audit(db, { userId: user.id, action: 'email_changed', ip: ctx.ip, detail: { from: user.email, to: change.email } });
      return { changed: true };
    })();
    if (!verified) throw new HttpError(400, 'invalid_token', 'This link is invalid, expired or already used.');
    mail.flush();
    return json(200, { emailVerified: true, emailChanged: verified.changed });
  });

  router.add('POST', '/auth/verify-email/resend', async (ctx) => {
    const caller = auth.require(ctx);
    await limits.consume(['resend_account', caller.user.id]);
    if (caller.user.email_verified_at !== null) throw new HttpError(409, 'already_verified', 'Your email address is already verified.');
    db.transaction(() => {
      const token = issueUserToken(db, caller.user.id, 'verify_email', caller.user.email);
      mail.queue({ to: caller.user.email, template: 'verify_email', data: { link: link('/verify-email', token) } });
    })();
    mail.flush();
    return json(202, { sent: true });
  });

  router.add('POST', '/auth/forgot-password', async (ctx) => {
    auth.checkOrigin(ctx);
    const { email } = await ctx.json(v.object({ email: Email }));
    await limits.consume(['forgot_ip', ctx.ip], ['forgot_account', normalizeEmail(email)]);
    // The same answer, from the same work, whether or not the address has an account: the mail
    // itself is sent later by the outbox loop, so its latency leaks nothing either.
    const user = findUserByEmail(db, email);
    db.transaction(() => {
      if (!user) return;
      const token = issueUserToken(db, user.id, 'reset_password');
      mail.queue({ to: user.email, template: 'reset_password', data: { link: link('/reset-password', token) } });
      audit(db, { userId: user.id, action: 'password_reset_requested', ip: ctx.ip });
    })();
    mail.flush();
    return json(202, { message: 'If an account uses this address, a reset link is on its way.' });
  });

  router.add('POST', '/auth/reset-password', async (ctx) => {
    auth.checkOrigin(ctx);
    await limits.consume(['token_ip', ctx.ip]);
    const body = await ctx.json(v.object({ token: Token, password: Password }));
    const passwordHash = await hashPassword(body.password);
    const userId = db.transaction(() => {
      const reset = consumeUserToken(db, body.token, 'reset_password');
      const user = reset ? findUserById(db, reset.userId) : undefined;
      if (!user) return null;
      setPasswordHash(db, user.id, passwordHash);
      invalidateUserSessions(db, user.id);
      // The reset proves control of the address.
      if (user.email_verified_at === null) markEmailVerified(db, user.id, user.email);
      mail.queue({ to: user.email, template: 'password_changed', data: {} });
      audit(db, { userId: user.id, action: 'password_reset', ip: ctx.ip });
      return user.id;
    })();
    if (!userId) throw new HttpError(400, 'invalid_token', 'This link is invalid, expired or already used.');
    mail.flush();
    auth.clearSessionCookie(ctx);
    return json(200, { passwordReset: true });
  });

  router.add('GET', '/auth/sessions', (ctx) => {
    const caller = auth.require(ctx);
    return json(200, {
      sessions: listSessions(db, caller.user.id).map((s) => ({
        id: s.id,
        createdAt: s.createdAt,
        lastUsedAt: s.lastVerifiedAt,
        expiresAt: s.expiresAt,
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === caller.session.id,
      })),
    });
  });

  router.add('DELETE', '/auth/sessions/:id', (ctx) => {
    const caller = auth.require(ctx);
    const target = listSessions(db, caller.user.id).find((s) => s.id === ctx.params['id']);
    if (!target) throw new HttpError(404, 'not_found', 'No such session.');
    invalidateSession(db, target.id);
    audit(db, { userId: caller.user.id, action: 'session_revoked', ip: ctx.ip, detail: { session: target.id.slice(0, 8) } });
    if (target.id === caller.session.id) auth.clearSessionCookie(ctx);
    return noContent();
  });

  router.add('POST', '/auth/change-password', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(v.object({ currentPassword: v.optional(AnyPassword), newPassword: Password }));
    await reauthenticate(limits, caller, body.currentPassword);
    const passwordHash = await hashPassword(body.newPassword);
    db.transaction(() => {
      setPasswordHash(db, caller.user.id, passwordHash);
      invalidateUserSessions(db, caller.user.id);
      mail.queue({ to: caller.user.email, template: 'password_changed', data: {} });
      audit(db, { userId: caller.user.id, action: 'password_changed', ip: ctx.ip });
    })();
    mail.flush();
    // A privilege change gets a new token; every other session has just ended.
    return json(200, startSession(ctx, findUserById(db, caller.user.id)!, caller.via === 'bearer' ? 'api' : 'browser'));
  });

  router.add('POST', '/auth/change-email', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(v.object({ password: v.optional(AnyPassword), newEmail: Email }));
    await reauthenticate(limits, caller, body.password);
    const newEmail = normalizeEmail(body.newEmail);
    if (newEmail === caller.user.email) throw new HttpError(422, 'validation_failed', 'That is already your address.', { newEmail: 'is your current address' });
    if (findUserByEmail(db, newEmail)) throw new HttpError(409, 'email_taken', 'An account with this email already exists.', { newEmail: 'is already registered' });
    db.transaction(() => {
      const token = issueUserToken(db, caller.user.id, 'change_email', newEmail);
      mail.queue({ to: newEmail, template: 'change_email', data: { link: link('/verify-email', token), newEmail } });
      audit(db, { userId: caller.user.id, action: 'email_change_requested', ip: ctx.ip, detail: { to: newEmail } });
    })();
    mail.flush();
    return json(202, { pendingEmail: newEmail });
  });

  router.add('DELETE', '/auth/account', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(v.object({ password: v.optional(AnyPassword) }));
    await reauthenticate(limits, caller, body.password);
    const now = Date.now();
    const purgeAt = now + purgeAfterMs;
    db.transaction(() => {
      mail.queue({ to: caller.user.email, template: 'account_deleted', data: { purgeDate: new Date(purgeAt).toISOString().slice(0, 10) } });
      // The address is released at once (least data); the tenant's data waits for the purge.
      db.prepare("UPDATE users SET deleted_at = ?, purge_after = ?, email = id || '@deleted.invalid', password_hash = NULL, totp_secret = NULL, totp_enabled_at = NULL WHERE id = ?").run(
        now,
        purgeAt,
        caller.user.id,
      );
      db.prepare('DELETE FROM oauth_identities WHERE user_id = ?').run(caller.user.id);
      invalidateUserSessions(db, caller.user.id);
      audit(db, { userId: caller.user.id, action: 'account_deleted', ip: ctx.ip, detail: { purgeAfter: purgeAt } });
    })();
    deps.host.stop(caller.user.tenant_id);
    mail.flush();
    auth.clearSessionCookie(ctx);
    deps.onAccountDeleted?.(caller.user.id);
    return json(200, { deleted: true, purgeAfter: purgeAt });
  });
}
