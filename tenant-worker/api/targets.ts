/**
 * Target accounts as the tenant API reads and edits them (table `target_accounts`; the targets job
 * in runtime/loops/targets.ts checks one per run and answers their posts).
 *
 * Adding validates the name against X when it can: with X connected, the user lookup decides at once
 * (unknown → a field error; the row stores X's id and spelling, `active`). Without a connection, or
 * when X cannot answer now (budget, rate limit, outage), the name is stored `unresolved` and the job
 * resolves it (or marks it `not_found`) — the reference never checked at all. Interactions are our
 * replies to the account's X id, whatever found the post; "today" is the tenant's calendar day.
 */
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { tenantZone, windowStart } from '../action-limits.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';
import { remoteErrorOfX } from '../x-account.js';
import { refuseWhenReadOnly } from './read-only.js';

/** X's rule: letters, digits and underscores, at most 15; a leading @ is the user's habit, not the name. */
export const TargetUsername = v.pipe(
  v.string(),
  v.trim(),
  v.transform((name) => name.replace(/^@/, '')),
  v.regex(/^[A-Za-z0-9_]{1,15}$/, 'must be an X username: 1–15 letters, digits or underscores'),
);

const ByName = v.object({ username: TargetUsername });
const Page = {
  before: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1)))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
};
const TimelineParams = v.object({ ...ByName.entries, ...Page });

interface TargetRow {
  id: number;
  username: string;
  x_user_id: string | null;
  status: 'unresolved' | 'active' | 'not_found';
  last_checked_at: number | null;
  added_at: number;
  resolved_at: number | null;
}

/**
 * Interactions are counted from `replies` (every reply of ours to the account, whatever found the
 * post, before or after it was listed), not from the row's counters, which only the targets loop moves.
 */
function targetView(context: HandlerContext, row: TargetRow, dayStart: number) {
  const replies = context.db
    .prepare<{ author: string | null; today: number }, { n: number; today: number; first: number | null; last: number | null }>(
      'SELECT count(*) AS n, count(*) FILTER (WHERE posted_at >= @today) AS today, min(posted_at) AS first, max(posted_at) AS last FROM replies WHERE target_author_id = @author',
    )
    .get({ author: row.x_user_id, today: dayStart })!;
  return {
    username: row.username,
    xUserId: row.x_user_id,
    status: row.status,
    repliesSent: replies.n,
    firstEngagementAt: replies.first,
    lastReplyAt: replies.last,
    interactionsToday: replies.today,
    lastCheckedAt: row.last_checked_at,
    addedAt: row.added_at,
    resolvedAt: row.resolved_at,
  };
}

function findTarget(context: HandlerContext, username: string): TargetRow {
  const row = context.db.prepare<[string], TargetRow>('SELECT * FROM target_accounts WHERE username = ?').get(username);
  if (!row) throw new RemoteError('not_found', 'No such target account.');
  return row;
}

function today(context: HandlerContext): number {
  return windowStart('day', tenantZone(context.db), Date.now());
}

/** X's answer for a name: the account, null (no such account), or undefined (X could not be asked now). */
async function lookUp(context: HandlerContext, username: string): Promise<{ id: string; username: string } | null | undefined> {
  const account = context.xAccount();
  const client = account.client();
  if (!client || !account.connection.status().connected) return undefined;
  try {
    return await client.userByUsername(username);
  } catch (error) {
    if (remoteErrorOfX(error)) return undefined;
    throw error;
  }
}

async function addTarget(context: HandlerContext, params: unknown) {
  refuseWhenReadOnly(context);
  const { username } = validate(ByName, params);
  const { db } = context;
  const taken = () => db.prepare<[string], { username: string }>('SELECT username FROM target_accounts WHERE username = ?').get(username);
  const exists = (name: string) => new RemoteError('already_exists', `@${name} is already a target account.`, { username: 'is already a target account' });
  const ceiling = context.ceilings?.targets ?? null;
  const full = () => ceiling !== null && db.prepare<[], { n: number }>('SELECT count(*) AS n FROM target_accounts').get()!.n >= ceiling;
  const atCeiling = () => new RemoteError('limit_reached', `Your plan allows ${ceiling} target account${ceiling === 1 ? '' : 's'}; remove one first or upgrade.`, { username: `at most ${ceiling} target accounts on this plan` });
  // Checked before asking X: a refusal costs no read.
  const known = taken();
  if (known) throw exists(known.username);
  if (full()) throw atCeiling();

  const user = await lookUp(context, username);
  if (user === null) throw new RemoteError('invalid_params', `X has no account @${username}.`, { username: 'no such account on X' });
  const now = Date.now();
  // Checked again after the await: another request may have added it (or filled the plan) meanwhile.
  const id = db.transaction(() => {
    const raced = taken() ?? (user ? db.prepare<[string], { username: string }>('SELECT username FROM target_accounts WHERE x_user_id = ?').get(user.id) : undefined);
    if (raced) throw exists(raced.username);
    if (full()) throw atCeiling();
    return Number(
      user
        ? db.prepare("INSERT INTO target_accounts (username, x_user_id, status, added_at, resolved_at) VALUES (?, ?, 'active', ?, ?)").run(user.username, user.id, now, now).lastInsertRowid
        : db.prepare('INSERT INTO target_accounts (username, added_at) VALUES (?, ?)').run(username, now).lastInsertRowid,
    );
  }).immediate();
  const row = db.prepare<[number], TargetRow>('SELECT * FROM target_accounts WHERE id = ?').get(id)!;
  context.emit({ kind: 'targets.changed', at: now, data: { added: row.username } });
  return { target: targetView(context, row, today(context)), validated: user !== undefined };
}

export const targetHandlers: Record<string, Handler> = {
  'targets.list': (context) => {
    const dayStart = today(context);
    const rows = context.db.prepare<[], TargetRow>('SELECT * FROM target_accounts ORDER BY added_at, id').all();
    return { items: rows.map((row) => targetView(context, row, dayStart)), ceiling: context.ceilings?.targets ?? null };
  },

  'targets.add': addTarget,

  'targets.remove': (context, params) => {
    refuseWhenReadOnly(context);
    const { username } = validate(ByName, params);
    const row = findTarget(context, username);
    // Posts found through it stay (ON DELETE SET NULL); our replies to it stay in the reports.
    context.db.prepare('DELETE FROM target_accounts WHERE id = ?').run(row.id);
    context.emit({ kind: 'targets.changed', at: Date.now(), data: { removed: row.username } });
    return { removed: row.username };
  },

  /** Their posts we stored (newest found first), each with our reply if we sent one. */
  'targets.timeline': (context, params) => {
    const { username, before, limit = 50 } = validate(TimelineParams, params);
    const target = findTarget(context, username);
    const rows = context.db
      .prepare<
        { id: number; author: string | null; before: number | null; limit: number },
        {
          cursor: number;
          tweet_id: string;
          text: string;
          created_at: number | null;
          discovered_at: number;
          likes: number;
          replies: number;
          retweets: number;
          status: string;
          reply_tweet_id: string | null;
          reply_content: string | null;
          reply_posted_at: number | null;
        }
      >(
        `SELECT d.rowid AS cursor, d.tweet_id, d.text, d.created_at, d.discovered_at, d.likes, d.replies, d.retweets, d.status,
                r.tweet_id AS reply_tweet_id, r.content AS reply_content, r.posted_at AS reply_posted_at
         FROM discovered_tweets d LEFT JOIN replies r ON r.target_tweet_id = d.tweet_id
         WHERE (d.target_account_id = @id OR d.author_id = @author) AND (@before IS NULL OR d.rowid < @before)
         ORDER BY d.rowid DESC LIMIT @limit`,
      )
      .all({ id: target.id, author: target.x_user_id, before: before ?? null, limit: limit + 1 });
    const items = rows.slice(0, limit).map((row) => ({
      tweetId: row.tweet_id,
      text: row.text,
      postedAt: row.created_at,
      discoveredAt: row.discovered_at,
      metrics: { likes: row.likes, replies: row.replies, retweets: row.retweets },
      status: row.status,
      reply: row.reply_tweet_id === null ? null : { tweetId: row.reply_tweet_id, content: row.reply_content, postedAt: row.reply_posted_at },
    }));
    return { items, nextCursor: rows.length > limit ? rows[limit - 1]!.cursor : null };
  },

  'targets.stats': (context, params) => {
    const { username } = validate(ByName, params);
    const target = findTarget(context, username);
    // An unresolved target has no X id yet: null matches no row.
    const author = target.x_user_id;
    const totals = context.db
      .prepare<[string | null], { n: number; avg_score: number | null; first: number | null; last: number | null }>(
        'SELECT count(*) AS n, avg(score) AS avg_score, min(posted_at) AS first, max(posted_at) AS last FROM replies WHERE target_author_id = ?',
      )
      .get(author)!;
    // "Best" is measured, not guessed: the reply that did best at X once it was a day old.
    const best = context.db
      .prepare<[string | null], { tweet_id: string; content: string; score: number; posted_at: number }>(
        `SELECT r.tweet_id, r.content, m.score, r.posted_at FROM replies r JOIN post_metrics m ON m.tweet_id = r.tweet_id
         WHERE r.target_author_id = ? AND m.gone = 0 ORDER BY m.score DESC, r.posted_at DESC LIMIT 1`,
      )
      .get(author);
    const postsSeen = context.db.prepare<[number, string | null], { n: number }>('SELECT count(*) AS n FROM discovered_tweets WHERE target_account_id = ? OR author_id = ?').get(target.id, author)!.n;
    return {
      username: target.username,
      status: target.status,
      totalReplies: totals.n,
      postsSeen,
      avgRelevanceScore: totals.avg_score,
      bestReply: best ? { tweetId: best.tweet_id, content: best.content, performanceScore: best.score, postedAt: best.posted_at } : null,
      firstInteractionAt: totals.first,
      lastInteractionAt: totals.last,
      // Only meaningful with two interactions or more: the mean gap between them.
      interactionFrequencyDays: totals.n >= 2 ? (totals.last! - totals.first!) / (totals.n - 1) / 86_400_000 : null,
    };
  },
};
