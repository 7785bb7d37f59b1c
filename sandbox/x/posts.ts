/**
 * The users and posts endpoints of the fake X over the simulated world: lookups, timelines,
 * mentions, recent search and creating posts, with X's field selection (`tweet.fields`,
 * `user.fields`, `expansions`), `meta` and pagination tokens bound to the query that made them.
 */
import { createHash } from 'node:crypto';
import twitter from 'twitter-text';
import type { Answer, Caller } from './api.js';
import type { FakeXMedia } from './media.js';
import { invalidRequest, notFound, problem } from './problems.js';
import { QueryError, compileQuery } from './search-query.js';
import { SEARCH_WINDOW_MS, snowflakeTime, type World, type WorldPost, type WorldUser } from './world.js';

export interface Params {
  query: URLSearchParams;
  path: string[];
}

const TWEET_FIELDS = new Set([
  'article', 'attachments', 'author_id', 'card_uri', 'community_id', 'context_annotations', 'conversation_id', 'created_at',
  'display_text_range', 'edit_controls', 'edit_history_tweet_ids', 'entities', 'geo', 'id', 'in_reply_to_user_id', 'lang',
  'media_metadata', 'non_public_metrics', 'note_tweet', 'organic_metrics', 'possibly_sensitive', 'promoted_metrics',
  'public_metrics', 'referenced_tweets', 'reply_settings', 'scopes', 'source', 'suggested_source_links', 'text', 'withheld',
]);
const USER_FIELDS = new Set([
  'affiliation', 'connection_status', 'created_at', 'description', 'entities', 'id', 'is_identity_verified', 'location',
  'most_recent_tweet_id', 'name', 'parody', 'pinned_tweet_id', 'profile_banner_url', 'profile_image_url', 'protected',
  'public_metrics', 'receives_your_dm', 'subscription', 'subscription_type', 'url', 'username', 'verified', 'verified_type', 'withheld',
]);
const TWEET_EXPANSIONS = new Set([
  'article.cover_media', 'article.media_entities', 'attachments.media_keys', 'attachments.media_source_tweet', 'attachments.poll_ids',
  'author_id', 'edit_history_tweet_ids', 'entities.mentions.username', 'geo.place_id', 'in_reply_to_user_id', 'entities.note.mentions.username',
  'referenced_tweets.id', 'referenced_tweets.id.attachments.media_keys', 'referenced_tweets.id.author_id',
]);
const USER_EXPANSIONS = new Set(['affiliation.user_id', 'most_recent_tweet_id', 'pinned_tweet_id']);
const ID = /^[0-9]{1,19}$/;
const USERNAME = /^[A-Za-z0-9_]{1,15}$/;

class BadRequest extends Error {
  constructor(
    readonly parameter: string,
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

interface Shape {
  tweetFields: Set<string>;
  userFields: Set<string>;
  expansions: Set<string>;
}

export class Posts {
  media: FakeXMedia | undefined;
  readonly #world: World;
  readonly #now: () => number;

  constructor(world: World, now: () => number) {
    this.#world = world;
    this.#now = now;
  }

  me(caller: Caller, params: Params): Answer {
    return this.#guard(() => {
      const shape = this.#shape(params, USER_EXPANSIONS);
      return { status: 200, body: { data: this.#user(this.#world.users.get(caller.userId)!, shape) } };
    });
  }

  userByUsername(params: Params): Answer {
    return this.#guard(() => {
      const username = params.path[0]!;
      if (!USERNAME.test(username)) throw new BadRequest('username', username, `The \`username\` query parameter value [${username}] does not match ^[A-Za-z0-9_]{1,15}$`);
      const shape = this.#shape(params, USER_EXPANSIONS);
      const user = this.#world.userByName(username);
      if (!user) return { status: 200, body: { errors: [notFound('username', username, 'user')] } };
      return { status: 200, body: { data: this.#user(user, shape) } };
    });
  }

  userTweets(params: Params): Answer {
    return this.#guard(() => {
      const user = this.#userParam(params);
      const exclude = new Set((params.query.get('exclude') ?? '').split(',').filter(Boolean));
      return this.#timeline(params, 5, (p) =>
        p.authorId === user.id && !(exclude.has('retweets') && isRetweet(p)) && !(exclude.has('replies') && p.inReplyToUserId !== undefined),
      );
    });
  }

  mentions(params: Params): Answer {
    return this.#guard(() => {
      const user = this.#userParam(params);
      const handle = new RegExp(`(^|[^A-Za-z0-9_])@${user.username}(?![A-Za-z0-9_])`, 'i');
      return this.#timeline(params, 5, (p) => p.authorId !== user.id && handle.test(p.text));
    });
  }

  search(params: Params): Answer {
    return this.#guard(() => {
      const query = params.query.get('query');
      if (query === null) throw new BadRequest('query', '', 'The `query` query parameter can not be empty');
      let compiled;
      try {
        compiled = compileQuery(query);
      } catch (error) {
        if (error instanceof QueryError) throw new BadRequest('query', query, `There were errors processing your request: ${error.message}`);
        throw error;
      }
      const now = this.#now();
      const from = this.#time(params, 'start_time') ?? now - SEARCH_WINDOW_MS;
      const to = this.#time(params, 'end_time') ?? now;
      if (from < now - SEARCH_WINDOW_MS) throw new BadRequest('start_time', params.query.get('start_time')!, 'Invalid \'start_time\'. \'start_time\' must be on or after the last 7 days.');
      if (to > now - 10_000 && params.query.has('end_time')) throw new BadRequest('end_time', params.query.get('end_time')!, "Invalid 'end_time'. 'end_time' must be a minimum of 10 seconds prior to the request time.");
      return this.#timeline(params, 10, (p) => p.createdAt >= from && p.createdAt <= to && compiled.matches(this.#candidate(p)));
    });
  }

  lookup(params: Params): Answer {
    return this.#guard(() => {
      const id = params.path[0]!;
      if (!ID.test(id)) throw new BadRequest('id', id, `The \`id\` query parameter value [${id}] does not match ^[0-9]{1,19}$`);
      const shape = this.#shape(params, TWEET_EXPANSIONS);
      const post = this.#world.post(id);
      if (!post || post.createdAt > this.#now()) return { status: 200, body: { errors: [notFound('id', id, 'tweet')] } };
      return { status: 200, body: { data: this.#tweet(post, shape), ...this.#includes([post], shape) } };
    });
  }

  create(caller: Caller, body: unknown): Answer {
    return this.#guard(() => {
      if (typeof body !== 'object' || body === null) throw new BadRequest('body', '', 'The request body must be a JSON object.');
      const request = body as { text?: unknown; reply?: { in_reply_to_tweet_id?: unknown }; media?: { media_ids?: unknown } };
      const text = typeof request.text === 'string' ? request.text : '';
      const mediaIds = Array.isArray(request.media?.media_ids) ? (request.media.media_ids as unknown[]).map(String) : [];
      if (text === '' && mediaIds.length === 0) throw new BadRequest('text', '', 'You must provide text or media.');
      const parsed = twitter.parseTweet(text);
      if (parsed.weightedLength > 280) {
        throw new BadRequest('text', text, `Your Tweet text is too long (${parsed.weightedLength} weighted characters; the limit is 280).`);
      }
      const mediaKeys = mediaIds.map((id) => {
        const key = this.media?.attachable(caller.userId, id);
        if (key === undefined) throw new BadRequest('media.media_ids', id, `Your media IDs are invalid: ${id} is unknown, not yours, or still processing.`);
        return key;
      });
      let replyTo: WorldPost | undefined;
      if (request.reply !== undefined) {
        const target = String(request.reply.in_reply_to_tweet_id ?? '');
        replyTo = this.#world.post(target);
        if (!replyTo) throw new BadRequest('reply.in_reply_to_tweet_id', target, 'The Tweet you are replying to could not be found or is not visible to you.');
      }
      const normalized = text.trim();
      if (normalized !== '' && this.#world.posts.some((p) => p.authorId === caller.userId && p.text.trim() === normalized)) {
        return { status: 403, body: problem(403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.') };
      }
      const post = this.#world.add({
        authorId: caller.userId,
        text,
        createdAt: this.#now(),
        lang: 'en',
        ...(replyTo && { conversationId: replyTo.conversationId, inReplyToUserId: replyTo.authorId, referenced: [{ type: 'replied_to' as const, id: replyTo.id }] }),
        ...(mediaKeys.length > 0 && { mediaKeys }),
      });
      return { status: 201, body: { data: { id: post.id, text: post.text, edit_history_tweet_ids: [post.id] } } };
    });
  }

  #guard(run: () => Answer): Answer {
    try {
      return run();
    } catch (error) {
      if (error instanceof BadRequest) return { status: 400, body: invalidRequest(error.parameter, error.value, error.message) };
      throw error;
    }
  }

  #userParam(params: Params): WorldUser {
    const id = params.path[0]!;
    if (!ID.test(id)) throw new BadRequest('id', id, `The \`id\` query parameter value [${id}] does not match ^[0-9]{1,19}$`);
    const user = this.#world.users.get(id);
    if (!user) throw new BadRequest('id', id, `Could not find user with id: [${id}].`);
    return user;
  }

  #time(params: Params, name: string): number | undefined {
    const value = params.query.get(name);
    if (value === null) return undefined;
    const at = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at)) throw new BadRequest(name, value, `Invalid '${name}': expected an RFC 3339 timestamp.`);
    return at;
  }

  #shape(params: Params, expansions: Set<string>): Shape {
    const list = (name: string, allowed: Set<string>) => {
      const values = (params.query.get(name) ?? '').split(',').filter(Boolean);
      for (const value of values) if (!allowed.has(value)) throw new BadRequest(name, value, `The \`${name}\` query parameter value [${value}] is not one of [${[...allowed].join(',')}]`);
      return new Set(values);
    };
    return { tweetFields: list('tweet.fields', TWEET_FIELDS), userFields: list('user.fields', USER_FIELDS), expansions: list('expansions', expansions) };
  }

  /** Newest first, `max_results` per page, since_id/until_id, and a next_token for the same query only. */
  #timeline(params: Params, minResults: number, keep: (post: WorldPost) => boolean): Answer {
    const q = params.query;
    const shape = this.#shape(params, TWEET_EXPANSIONS);
    const raw = q.get('max_results');
    const max = raw === null ? 10 : Number(raw);
    if (!Number.isInteger(max) || max < minResults || max > 100) {
      throw new BadRequest('max_results', raw ?? '', `The \`max_results\` query parameter value [${raw}] is not between ${minResults} and 100`);
    }
    const sinceId = this.#idParam(params, 'since_id');
    let untilId = this.#idParam(params, 'until_id');
    const token = q.get('pagination_token') ?? q.get('next_token');
    const binding = queryBinding(params);
    if (token !== null) {
      const decoded = decodeToken(token);
      if (!decoded || decoded.binding !== binding) throw new BadRequest('pagination_token', token, 'The `pagination_token` query parameter value is invalid for this request.');
      untilId = decoded.untilId;
    }
    const now = this.#now();
    const found: WorldPost[] = [];
    let more = false;
    const posts = this.#world.posts;
    for (let i = posts.length - 1; i >= 0; i--) {
      const post = posts[i]!;
      if (post.createdAt > now) continue;
      if (sinceId !== undefined && BigInt(post.id) <= sinceId) break;
      if (untilId !== undefined && BigInt(post.id) >= untilId) continue;
      if (now - snowflakeTime(post.id) > SEARCH_WINDOW_MS + 60_000 && sinceId === undefined) break;
      if (!keep(post)) continue;
      if (found.length === max) {
        more = true;
        break;
      }
      found.push(post);
    }
    if (found.length === 0) return { status: 200, body: { meta: { result_count: 0 } } };
    const meta: Record<string, unknown> = { newest_id: found[0]!.id, oldest_id: found[found.length - 1]!.id, result_count: found.length };
    if (more) meta['next_token'] = encodeToken(binding, BigInt(found[found.length - 1]!.id));
    return { status: 200, body: { data: found.map((p) => this.#tweet(p, shape)), ...this.#includes(found, shape), meta } };
  }

  #idParam(params: Params, name: string): bigint | undefined {
    const value = params.query.get(name);
    if (value === null) return undefined;
    if (!ID.test(value)) throw new BadRequest(name, value, `The \`${name}\` query parameter value [${value}] does not match ^[0-9]{1,19}$`);
    return BigInt(value);
  }

  #candidate(post: WorldPost) {
    return {
      text: post.text,
      lang: post.lang,
      authorUsername: this.#world.users.get(post.authorId)?.username ?? '',
      inReplyToUsername: post.inReplyToUserId === undefined ? undefined : this.#world.users.get(post.inReplyToUserId)?.username,
      conversationId: post.conversationId,
      isRetweet: isRetweet(post),
      isReply: post.inReplyToUserId !== undefined,
      isQuote: post.referenced?.some((r) => r.type === 'quoted') ?? false,
      hasMedia: (post.mediaKeys?.length ?? 0) > 0,
    };
  }

  #tweet(post: WorldPost, shape: Shape): Record<string, unknown> {
    const fields = shape.tweetFields;
    const out: Record<string, unknown> = { id: post.id, text: post.text, edit_history_tweet_ids: [post.id] };
    if (fields.has('author_id')) out['author_id'] = post.authorId;
    if (fields.has('created_at')) out['created_at'] = new Date(post.createdAt).toISOString();
    if (fields.has('conversation_id')) out['conversation_id'] = post.conversationId;
    if (fields.has('lang')) out['lang'] = post.lang;
    if (fields.has('public_metrics')) out['public_metrics'] = this.#world.metrics(post, this.#now());
    if (fields.has('in_reply_to_user_id') && post.inReplyToUserId !== undefined) out['in_reply_to_user_id'] = post.inReplyToUserId;
    if (fields.has('referenced_tweets') && post.referenced) out['referenced_tweets'] = post.referenced;
    if (fields.has('attachments') && post.mediaKeys) out['attachments'] = { media_keys: post.mediaKeys };
    if (fields.has('possibly_sensitive')) out['possibly_sensitive'] = false;
    if (fields.has('reply_settings')) out['reply_settings'] = 'everyone';
    return out;
  }

  #user(user: WorldUser, shape: Shape): Record<string, unknown> {
    const fields = shape.userFields;
    const out: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
    if (fields.has('created_at')) out['created_at'] = new Date(user.createdAt).toISOString();
    if (fields.has('description')) out['description'] = user.description;
    if (fields.has('protected')) out['protected'] = false;
    if (fields.has('verified')) out['verified'] = false;
    if (fields.has('profile_image_url')) out['profile_image_url'] = `https://pbs.twimg.invalid/profile_images/${user.id}/normal.png`;
    if (fields.has('public_metrics')) {
      out['public_metrics'] = { followers_count: user.followers, following_count: user.following, tweet_count: this.#world.tweetCount(user.id), listed_count: user.listed, like_count: 0 };
    }
    return out;
  }

  #includes(posts: WorldPost[], shape: Shape): { includes?: Record<string, unknown[]> } {
    const users = new Map<string, WorldUser>();
    const tweets = new Map<string, WorldPost>();
    const addUser = (id: string | undefined) => {
      const user = id === undefined ? undefined : this.#world.users.get(id);
      if (user) users.set(user.id, user);
    };
    for (const post of posts) {
      if (shape.expansions.has('author_id')) addUser(post.authorId);
      if (shape.expansions.has('in_reply_to_user_id')) addUser(post.inReplyToUserId);
      for (const ref of post.referenced ?? []) {
        const referenced = this.#world.post(ref.id);
        if (!referenced) continue;
        if (shape.expansions.has('referenced_tweets.id')) tweets.set(referenced.id, referenced);
        if (shape.expansions.has('referenced_tweets.id.author_id')) addUser(referenced.authorId);
      }
    }
    const includes: Record<string, unknown[]> = {};
    if (users.size > 0) includes['users'] = [...users.values()].map((u) => this.#user(u, shape));
    if (tweets.size > 0) includes['tweets'] = [...tweets.values()].map((p) => this.#tweet(p, shape));
    return Object.keys(includes).length > 0 ? { includes } : {};
  }
}

function isRetweet(post: WorldPost): boolean {
  return post.referenced?.some((r) => r.type === 'retweeted') ?? false;
}

/** A pagination token names the request it continues: a token from another query is refused. */
function queryBinding(params: Params): string {
  const kept = [...params.query].filter(([k]) => k !== 'pagination_token' && k !== 'next_token' && k !== 'max_results').sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify([params.path, kept])).digest('base64url').slice(0, 16);
}

function encodeToken(binding: string, untilId: bigint): string {
  return Buffer.from(`${binding}.${untilId}`).toString('base64url');
}

function decodeToken(token: string): { binding: string; untilId: bigint } | null {
  const [binding, id] = Buffer.from(token, 'base64url').toString('utf8').split('.');
  return binding && id && ID.test(id) ? { binding, untilId: BigInt(id) } : null;
}
