/**
 * The one-click unsubscribe headers of periodic mail (RFC 2369 List-Unsubscribe, RFC 8058
 * List-Unsubscribe-Post), added when the sender delivers a mail.
 *
 * The outbox stores rendered mails without headers, so the header is derived from the mail itself: the
 * unsubscribe link its body carries, used only when its token verifies. Mail of every other template, or
 * a body without an authentic link, gets no extra header.
 */
import type { OutboxEmail } from '../email/outbox.js';
import type { UnsubscribeTokens } from './unsubscribe-token.js';

const PERIODIC = new Set(['weekly_summary', 'approval_reminder']);
const LINK = /https?:\/\/[^\s<>"]+\/unsubscribe\?token=([A-Za-z0-9_.-]+)/;

export function listUnsubscribeHeaders(tokens: UnsubscribeTokens): (mail: OutboxEmail) => Record<string, string> | undefined {
  return (mail) => {
    if (!PERIODIC.has(mail.template)) return undefined;
    const match = LINK.exec(mail.text);
    if (!match || tokens.verify(match[1]!) === null) return undefined;
    return { 'List-Unsubscribe': `<${match[0]}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
  };
}
