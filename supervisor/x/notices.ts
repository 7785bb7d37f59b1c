/**
 * Mail about the X connection, from the tenant's own events: the user disconnected X (a receipt),
 * or X refused to refresh the token (the user must reconnect; automation that needs X waits).
 */
import type Database from 'better-sqlite3';
import type { TenantEvent } from '../../protocol/index.js';
import type { OutboxQueue } from '../email/mail-queue.js';

export function queueXConnectionNotice(db: Database.Database, mail: OutboxQueue, tenantId: string, event: TenantEvent, appUrl: string): boolean {
  if (event.kind !== 'x.disconnected') return false;
  const data = (event.data ?? {}) as { reason?: string; username?: string };
  const user = db.prepare<[string], { email: string }>('SELECT email FROM users WHERE tenant_id = ? AND deleted_at IS NULL').get(tenantId);
  if (!user) return false;
  const account = data.username ? `@${data.username}` : 'your X account';
  const link = `${appUrl}/dashboard/x`;
  if (data.reason === 'user') {
    mail.queue({
      to: user.email,
      template: 'notice',
      data: { subject: 'X disconnected from TuitBot', body: `${account} is no longer connected to TuitBot, and its access was revoked at X. Automation that posts or reads X is paused until you connect an account again.`, link, linkText: 'Connect X' },
    });
  } else {
    mail.queue({
      to: user.email,
      template: 'notice',
      data: { subject: 'Reconnect X to keep TuitBot running', body: `X no longer accepts TuitBot's access to ${account} (it was revoked or has expired). Automation that posts or reads X is paused; reconnect X to resume.`, link, linkText: 'Reconnect X' },
    });
  }
  mail.flush();
  return true;
}
