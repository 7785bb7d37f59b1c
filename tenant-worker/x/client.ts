/**
 * The X API v2 calls the runtime makes, typed and metered.
 *
 * Every billable call asks the X budget first and is written to its ledger after (x-budget.ts):
 *   - post reads: check('read', max_results × $0.005), then recordRead(endpoint, ids of the posts in `data`)
 *     — X bills a post once per UTC day, and the ledger knows which were already read today;
 *   - user reads (users/me, by username): check('read', $0.010), then recordRead(endpoint, ['user:<id>'],
 *     X_PRICES.userRead) — the same once-a-day rule, ids prefixed so they never meet a post id;
 *   - posts: check('create' | 'create_url') — a URL anywhere in the text makes it the $0.20 kind —
 *     then recordCreate(endpoint, withUrl).
 * Only successful answers are recorded: X does not bill errors. Expanded authors (`includes.users`)
 * are not billed separately. Media uploads are not billed by X and are not metered.
 */
import type { Logger } from 'pino';
import twitter from 'twitter-text';
import { X_PRICES, type BudgetDecision, type XBudget, type XCallKind } from '../x-budget.js';
import { XApiError, XBudgetRefusedError, XError } from './errors.js';
import { uploadMedia, uploadMediaWithExpiry, type UploadedMedia } from './media-upload.js';
import type { TokenManager } from './token-manager.js';
import { XTransport, type TransportOptions } from './transport.js';
import { POST_FIELDS, USER_FIELDS, authorsOf, toPage, toPost, toUser, type RawEnvelope, type RawPost, type RawUser, type XPage, type XPost, type XUser } from './types.js';

export interface XClientOptions extends Omit<TransportOptions, 'tokens'> {
  /** X's API base, `https://api.x.com/2` (a setting, so the sandbox and tests use this same code). */
  apiUrl: string;
  /** Defaults to `${apiUrl}/media/upload`. */
  uploadUrl?: string;
  tokens: TokenManager | TransportOptions['tokens'];
  budget: XBudget;
  log?: Logger;
}

export interface PageOptions {
  maxResults?: number;
  sinceId?: string;
  nextToken?: string;
}

export interface SearchOptions extends PageOptions {
  /** RFC 3339; at most 7 days ago (recent search). */
  startTime?: string;
}

export interface KeywordSearch extends PageOptions {
  keyword: string;
  /** `lang:` operator, e.g. 'en'. */
  lang?: string;
  /** Adds `-is:retweet` (default true): a retweet is someone else's words. */
  excludeRetweets?: boolean;
  /** Adds `-is:reply`. */
  excludeReplies?: boolean;
}

export interface NewPost {
  text: string;
  replyTo?: string;
  mediaIds?: string[];
}

export type ThreadResult =
  | { complete: true; ids: string[] }
  /** Posts 0..failedAt-1 are live at X (their ids); the rest were not sent. */
  | { complete: false; ids: string[]; failedAt: number; error: XError };

const MAX_QUERY = 512;

export class XClient {
  readonly #transport: XTransport;
  readonly #budget: XBudget;
  readonly #api: string;
  readonly #uploadUrl: string;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;

  constructor(options: XClientOptions) {
    this.#transport = new XTransport({ ...options, tokens: options.tokens });
    this.#budget = options.budget;
    this.#api = options.apiUrl.replace(/\/+$/, '');
    this.#uploadUrl = options.uploadUrl ?? `${this.#api}/media/upload`;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? Date.now;
  }

  /** What X last announced for an endpoint's rate-limit window. */
  rateWindow(endpoint: string) {
    return this.#transport.window(endpoint);
  }

  async me(): Promise<XUser> {
    const user = await this.#userRead('GET /2/users/me', `${this.#api}/users/me`);
    if (!user) throw new XApiError(404, 'Not Found', 'X did not return the connected account');
    return user;
  }

  /** null when X has no such account. */
  userByUsername(username: string): Promise<XUser | null> {
    return this.#userRead('GET /2/users/by/username/:username', `${this.#api}/users/by/username/${encodeURIComponent(username.replace(/^@/, ''))}`);
  }

  async searchRecent(query: string, options: SearchOptions = {}): Promise<XPage> {
    if (query.length > MAX_QUERY) throw new XApiError(400, 'Invalid Request', `X search queries are at most ${MAX_QUERY} characters (this one has ${query.length})`);
    const maxResults = clamp(options.maxResults ?? 20, 10, 100);
    return this.#pageRead('GET /2/tweets/search/recent', `${this.#api}/tweets/search/recent`, maxResults, {
      query,
      ...(options.startTime !== undefined && { start_time: options.startTime }),
      ...pageQuery(options),
    });
  }

  /** One discovery keyword: quoted when it is a phrase, with its operators; pass each keyword's own since_id. */
  searchKeyword(search: KeywordSearch): Promise<XPage> {
    const term = /\s/.test(search.keyword.trim()) ? `"${search.keyword.trim().replaceAll('"', '')}"` : search.keyword.trim();
    const parts = [term];
    if (search.excludeRetweets ?? true) parts.push('-is:retweet');
    if (search.excludeReplies) parts.push('-is:reply');
    if (search.lang) parts.push(`lang:${search.lang}`);
    return this.searchRecent(parts.join(' '), search);
  }

  mentions(userId: string, options: PageOptions = {}): Promise<XPage> {
    const maxResults = clamp(options.maxResults ?? 20, 5, 100);
    return this.#pageRead('GET /2/users/:id/mentions', `${this.#api}/users/${encodeURIComponent(userId)}/mentions`, maxResults, pageQuery(options));
  }

  userPosts(userId: string, options: PageOptions & { exclude?: ('retweets' | 'replies')[] } = {}): Promise<XPage> {
    const maxResults = clamp(options.maxResults ?? 10, 5, 100);
    return this.#pageRead('GET /2/users/:id/tweets', `${this.#api}/users/${encodeURIComponent(userId)}/tweets`, maxResults, {
      ...pageQuery(options),
      ...(options.exclude?.length && { exclude: options.exclude.join(',') }),
    });
  }

  /** One post with its public metrics (impressions included); null when it is gone. */
  async post(id: string): Promise<XPost | null> {
    const endpoint = 'GET /2/tweets/:id';
    this.#allow('read', X_PRICES.postRead);
    const answer = await this.#transport.send({ method: 'GET', endpoint, url: `${this.#api}/tweets/${encodeURIComponent(id)}`, query: POST_FIELDS, idempotent: true });
    const envelope = (answer.body ?? {}) as RawEnvelope;
    const raw = envelope.data as RawPost | undefined;
    this.#budget.recordRead(endpoint, raw ? [raw.id] : []);
    return raw ? toPost(raw, authorsOf(envelope)) : null;
  }

  /** Creates a post (or a reply). Never retried here: a failure may still have posted. */
  async createPost(post: NewPost): Promise<{ id: string; text: string }> {
    const endpoint = 'POST /2/tweets';
    const parsed = twitter.parseTweet(post.text);
    if (post.text !== '' && !parsed.valid) {
      throw new XApiError(400, 'Invalid Request', `A post is at most 280 weighted characters (this one has ${parsed.weightedLength})`);
    }
    const withUrl = hasUrl(post.text);
    this.#allow(withUrl ? 'create_url' : 'create');
    const answer = await this.#transport.send({
      method: 'POST',
      endpoint,
      url: `${this.#api}/tweets`,
      json: {
        text: post.text,
        ...(post.replyTo !== undefined && { reply: { in_reply_to_tweet_id: post.replyTo } }),
        ...(post.mediaIds?.length && { media: { media_ids: post.mediaIds } }),
      },
      idempotent: false,
    });
    const data = (answer.body as { data?: { id?: string; text?: string } } | undefined)?.data;
    if (typeof data?.id !== 'string') throw new XApiError(502, 'Bad Gateway', 'X accepted the post but returned no id');
    this.#budget.recordCreate(endpoint, withUrl);
    return { id: data.id, text: data.text ?? post.text };
  }

  /**
   * A thread: each post replies to the one before. Stops at the first failure and says which posts
   * are live, so the caller can record them and resume or clean up; it never re-sends a post.
   */
  async postThread(texts: string[], options: { replyTo?: string; mediaIds?: string[][] } = {}): Promise<ThreadResult> {
    if (texts.length === 0) return { complete: true, ids: [] };
    // Refuse a thread the allowance cannot finish rather than post half of it.
    const urls = texts.filter(hasUrl).length;
    const total = urls * X_PRICES.createWithUrl + (texts.length - urls) * X_PRICES.create;
    this.#allow(urls > 0 ? 'create_url' : 'create', total);
    const ids: string[] = [];
    let previous = options.replyTo;
    for (const [index, text] of texts.entries()) {
      try {
        const mediaIds = options.mediaIds?.[index];
        const created = await this.createPost({ text, ...(previous !== undefined && { replyTo: previous }), ...(mediaIds && { mediaIds }) });
        ids.push(created.id);
        previous = created.id;
      } catch (error) {
        if (!(error instanceof XError)) throw error;
        return { complete: false, ids, failedAt: index, error };
      }
    }
    return { complete: true, ids };
  }

  /** Uploads an image (≤ 5 MB, one request), GIF (≤ 15 MB) or MP4 (≤ 512 MB, chunked); returns the media id. */
  uploadMedia(bytes: Uint8Array, mediaType: string): Promise<string> {
    return uploadMedia({ transport: this.#transport, uploadUrl: this.#uploadUrl, sleep: this.#sleep, now: this.#now }, bytes, mediaType);
  }

  /** The same, with when X will forget the upload (for callers that reuse X's id). */
  uploadMediaWithExpiry(bytes: Uint8Array, mediaType: string): Promise<UploadedMedia> {
    return uploadMediaWithExpiry({ transport: this.#transport, uploadUrl: this.#uploadUrl, sleep: this.#sleep, now: this.#now }, bytes, mediaType);
  }

  async #userRead(endpoint: string, url: string): Promise<XUser | null> {
    this.#allow('read', X_PRICES.userRead);
    const answer = await this.#transport.send({ method: 'GET', endpoint, url, query: USER_FIELDS, idempotent: true });
    const raw = ((answer.body ?? {}) as RawEnvelope).data as RawUser | undefined;
    this.#budget.recordRead(endpoint, raw ? [`user:${raw.id}`] : [], X_PRICES.userRead);
    return raw ? toUser(raw) : null;
  }

  async #pageRead(endpoint: string, url: string, maxResults: number, query: Record<string, string | number | undefined>): Promise<XPage> {
    this.#allow('read', maxResults * X_PRICES.postRead);
    const answer = await this.#transport.send({ method: 'GET', endpoint, url, query: { ...query, max_results: maxResults, ...POST_FIELDS }, idempotent: true });
    const page = toPage((answer.body ?? {}) as RawEnvelope);
    this.#budget.recordRead(endpoint, page.posts.map((p) => p.id));
    return page;
  }

  #allow(kind: XCallKind, estimateMicros?: number): void {
    // check()'s estimate parameter is inferred from its default as a union of the price literals.
    const check = this.#budget.check.bind(this.#budget) as (kind: XCallKind, estimateMicros?: number) => BudgetDecision;
    const decision = check(kind, estimateMicros);
    if (!decision.allowed) throw new XBudgetRefusedError(decision.reason, decision.message);
  }
}

export function hasUrl(text: string): boolean {
  return twitter.extractUrls(text).length > 0;
}

function pageQuery(options: PageOptions): Record<string, string | undefined> {
  return {
    ...(options.sinceId !== undefined && { since_id: options.sinceId }),
    ...(options.nextToken !== undefined && { pagination_token: options.nextToken }),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(value)));
}
