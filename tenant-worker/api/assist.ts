/**
 * AI assist: text the user asked for (a tweet, a reply, a thread, a better draft) from the tenant's
 * content generator, and the hints around it (best topics, best hours, the mode). Nothing is stored
 * or posted here; the user takes the text to compose, schedule or a draft.
 *
 * The LLM is the one the loops use (the tenant's own key, else the sandbox's in sandbox mode), metered
 * per call in llm_usage under the purpose `assist.<kind>`, so the costs page tells assist apart from
 * the automation. Someone is waiting for the answer, so the client fails fast: a provider asking us to
 * wait more than a few seconds is an error to show, not a minute to sit through. No LLM → `llm_not_configured`; a failing LLM → `llm_error` with its message (the
 * provider's word is the user's best clue: a wrong key, a model name, a quota).
 */
import { DateTime } from 'luxon';
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import type { Handler, HandlerContext } from '../handlers.js';
import { validate } from '../handlers.js';
import type { ContentGenerator, Completer } from '../llm/content/generator.js';
import { LlmClient } from '../llm/client.js';
import { effectiveLlmSettings, LlmConfig } from '../llm/config.js';
import { LlmError, LlmNotConfiguredError } from '../llm/errors.js';
import { LlmUsageLedger } from '../llm/usage.js';
import { loadRuntimeConfig } from '../runtime/config.js';
import { actorLoopDeps, ownLlm } from '../runtime/loops/deps.js';
import { contentGenerator } from '../runtime/loops/replying.js';

const text = (max: number) => v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(max, `must be at most ${max} characters`));

const TopicBody = v.object({ topic: text(200) });
const ReplyBody = v.object({ tweetText: text(2000), tweetAuthor: v.pipe(v.string(), v.trim(), v.regex(/^@?\w{1,15}$/, 'must be an X username')), mentionProduct: v.optional(v.boolean()) });
const ImproveBody = v.object({ draft: text(2000), context: v.optional(text(1000)) });

/** Per HTTP call, and the most one completion waits between attempts (the loops allow 30 s each). */
const CALL_TIMEOUT_MS = 25_000;
const RETRY_BUDGET_MS = 5_000;

/** The generator on the tenant's LLM, each call metered as `assist.<purpose>`. */
function generator(context: HandlerContext, purpose: string): ContentGenerator {
  const settings = effectiveLlmSettings(ownLlm(new LlmConfig(context.db, context.secrets)), context.llmFallback);
  if (!settings) throw new RemoteError('llm_not_configured', 'No LLM is configured: add a provider and API key in the LLM settings.');
  const ledger = new LlmUsageLedger(context.db);
  const llm = new LlmClient({ settings, onCall: (call) => ledger.record(call), timeoutMs: CALL_TIMEOUT_MS, retryBudgetMs: RETRY_BUDGET_MS });
  const metered: Completer = { complete: (request) => llm.complete({ ...request, purpose: `assist.${purpose}` }) };
  const deps = actorLoopDeps({ db: context.db, ceilings: () => context.ceilings, x: () => context.xAccount(), emit: context.emit, secrets: context.secrets, llmFallback: context.llmFallback });
  return contentGenerator({ ...deps, llm: () => metered }, loadRuntimeConfig(context.db).config)!;
}

export async function generate<T>(context: HandlerContext, purpose: string, work: (generator: ContentGenerator) => Promise<T>): Promise<T> {
  const writer = generator(context, purpose);
  try {
    return await work(writer);
  } catch (error) {
    if (error instanceof LlmNotConfiguredError) throw new RemoteError('llm_not_configured', error.message);
    if (error instanceof LlmError) throw new RemoteError('llm_error', `The LLM failed: ${error.message}`);
    throw error;
  }
}

export const assistHandlers: Record<string, Handler> = {
  'assist.tweet': (context, params) => {
    const { topic } = validate(TopicBody, params);
    return generate(context, 'tweet', async (writer) => {
      const tweet = await writer.tweet(topic);
      return { content: tweet.text, topic, format: tweet.format, truncated: tweet.truncated };
    });
  },

  'assist.reply': (context, params) => {
    const { tweetText, tweetAuthor, mentionProduct } = validate(ReplyBody, params);
    return generate(context, 'reply', async (writer) => {
      const reply = await writer.reply({ authorUsername: tweetAuthor.replace(/^@/, ''), text: tweetText }, { mentionProduct: mentionProduct ?? false });
      return { content: reply.text, archetype: reply.archetype, mentionProduct: reply.mentionProduct, truncated: reply.truncated };
    });
  },

  'assist.thread': (context, params) => {
    const { topic } = validate(TopicBody, params);
    return generate(context, 'thread', async (writer) => {
      const thread = await writer.thread(topic);
      return { tweets: thread.tweets, topic, structure: thread.structure };
    });
  },

  /** A tweet on the draft's point, held to the same length rules (the reference's approach). */
  'assist.improve': (context, params) => {
    const { draft, context: about } = validate(ImproveBody, params);
    const ask = `the same point as this draft, rewritten to be clearer and more engaging while keeping its meaning and facts: """${draft}"""${about ? ` (context: ${about})` : ''}`;
    return generate(context, 'improve', async (writer) => {
      const tweet = await writer.tweet(ask);
      return { content: tweet.text, truncated: tweet.truncated };
    });
  },

  /** The best topics by measured performance (content_scores over every format). */
  'assist.topics': (context) => {
    const rows = context.db
      .prepare<[], { topic: string; score: number; posts: number }>(
        'SELECT topic, sum(avg_score * posts) / sum(posts) AS score, sum(posts) AS posts FROM content_scores GROUP BY topic ORDER BY score DESC, posts DESC LIMIT 10',
      )
      .all();
    return { topics: rows.map((row) => ({ topic: row.topic, score: Math.round(row.score * 100) / 100, posts: row.posts })) };
  },

  /** Hours of the tenant's day by the mean score of the tweets and threads posted in them, best first. */
  'assist.optimal-times': (context) => {
    const zone = loadRuntimeConfig(context.db).config.schedule.timezone;
    const rows = context.db
      .prepare<[], { postedAt: number; score: number }>(
        `SELECT p.postedAt, m.score FROM (
           SELECT tweet_id AS tweetId, posted_at AS postedAt FROM original_tweets
           UNION ALL SELECT root_tweet_id, posted_at FROM threads WHERE status = 'posted' AND root_tweet_id IS NOT NULL
         ) p JOIN post_metrics m ON m.tweet_id = p.tweetId AND m.gone = 0`,
      )
      .all();
    const hours = new Map<number, { total: number; posts: number }>();
    for (const { postedAt, score } of rows) {
      const hour = DateTime.fromMillis(postedAt, { zone }).hour;
      const slot = hours.get(hour) ?? { total: 0, posts: 0 };
      slot.total += score;
      slot.posts += 1;
      hours.set(hour, slot);
    }
    const times = [...hours].map(([hour, { total, posts }]) => ({ hour, avgScore: Math.round((total / posts) * 100) / 100, posts }));
    return { timeZone: zone, times: times.sort((a, b) => b.avgScore - a.avgScore || b.posts - a.posts || a.hour - b.hour) };
  },

  'assist.mode': (context) => {
    const { config } = loadRuntimeConfig(context.db);
    return { mode: config.mode, approvalMode: config.effectiveApprovalMode, approvalModeSetting: config.approvalMode };
  },
};
