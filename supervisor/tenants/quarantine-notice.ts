/**
 * Tells the owner of a tenant when the watchdog quarantined it: a user must never wonder why
 * nothing is posting. The mail is queued in the outbox like every other notice.
 */
import type Database from 'better-sqlite3';
import type { MailQueue } from '../routes/auth.js';

export function queueQuarantineNotice(db: Database.Database, mail: MailQueue, tenantId: string, appUrl: string): boolean {
  const owner = db.prepare<[string], { email: string }>('SELECT email FROM users WHERE tenant_id = ? AND deleted_at IS NULL').get(tenantId);
  if (!owner) return false;
  mail.queue({
    to: owner.email,
    template: 'notice',
    data: {
      subject: 'Your TuitBot automation was paused',
      body:
        'Your automation crashed several times in a few minutes, so we paused it to protect your account. Nothing will be posted until it is running again.\n\n' +
        'Our team has been alerted. You can still open your dashboard, review your queue and change your settings.',
      link: `${appUrl}/dashboard`,
      linkText: 'Open your dashboard',
    },
  });
  mail.flush();
  return true;
}
