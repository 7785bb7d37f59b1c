/**
 * The simulated X the fake serves: accounts posting about configured topics, mentions of connected
 * users, replies and reposts, and metrics that grow with a post's age.
 *
 * The world is a pure function of the seed and the clock: minute m's posts come from a PRNG seeded
 * with (seed, m), generated lazily when a request first looks past that minute, so the same seed and
 * the same clock always show the same posts whenever they are asked for. Metrics are computed from a
 * post's age when read, so they only ever grow. Posts made through the API join the same timeline.
 */
import { createHash } from 'node:crypto';

/** X's snowflake epoch: post ids encode their creation time, so since_id works as "newer than". */
const TWEPOCH = 1288834974657n;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** How far back the world exists at start, and the most it catches up after a long pause. */
const HISTORY_MS = 2 * 60 * MINUTE;
const MAX_CATCH_UP_MS = 8 * DAY;

export interface WorldUser {
  id: string;
  username: string;
  name: string;
  description: string;
  createdAt: number;
  followers: number;
  following: number;
  listed: number;
  /** Signed in through the consent page: simulated accounts mention these. */
  connected: boolean;
}

export interface WorldPost {
  id: string;
  authorId: string;
  text: string;
  createdAt: number;
  lang: string;
  conversationId: string;
  inReplyToUserId?: string;
  referenced?: { type: 'retweeted' | 'quoted' | 'replied_to'; id: string }[];
  mediaKeys?: string[];
  /** In [0, 1): how well the post does; drives its metrics. */
  appeal: number;
}

export interface PublicMetrics {
  retweet_count: number;
  reply_count: number;
  like_count: number;
  quote_count: number;
  bookmark_count: number;
  impression_count: number;
}

export const DEFAULT_TOPICS = ['typescript', 'indie hacking', 'saas pricing', 'ai agents', 'build in public', 'startup marketing'];

const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Liam', 'Maya', 'Nico', 'Olga', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tariq'];
const LAST = ['Builds', 'Codes', 'Ships', 'Writes', 'Grows', 'Hacks', 'Makes', 'Labs'];
const BIOS = ['Founder. Shipping small things.', 'Engineer, writer, occasional marketer.', 'Building in public.', 'Bootstrapped SaaS, 2 kids, 1 dog.', 'Growth at a seed-stage startup.'];

const EN = [
  'Anyone else struggling with {t} lately? Would love some pointers.',
  'Hot take: most {t} advice online is wrong. Ship first, polish later.',
  'Just shipped a side project built around {t}. Feedback welcome!',
  "What's your favourite tool for {t}? Looking for recommendations.",
  'Spent the weekend learning {t}. The docs are better than I expected.',
  '5 lessons from a year of {t} #buildinpublic',
  'Is {t} worth it for a solo founder this year?',
  'Good primer on {t} here: https://example.com/{slug}',
  'We cut our churn in half by rethinking {t}. Thread soon.',
  '"{t}" is the phrase of the week in my timeline and I am here for it',
];
const ES = ['¿Alguien usa {t} en producción? Busco recomendaciones.', 'Aprendiendo {t} este fin de semana, ¿algún consejo?'];
const DE = ['Hat jemand Erfahrung mit {t}? Suche Tipps.', 'Heute viel über {t} gelernt.'];
const MENTION = [
  '@{u} how do you handle {t} in your product?',
  '@{u} love what you are building! Does it work for {t}?',
  '@{u} quick question about {t}: is there a free tier?',
  'Been following @{u} for tips on {t}, highly recommend.',
];
const REPLY = ['Totally agree with this.', 'Interesting, what made you pick that approach?', 'This is exactly what I needed today, thanks!', 'Not sure I agree, but good points.'];

/** mulberry32: small, fast and good enough for a simulation; never for secrets. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(...parts: number[]): number {
  let h = 2166136261;
  for (const part of parts) {
    h = Math.imul(h ^ (part & 0xffffffff), 16777619);
    h = Math.imul(h ^ Math.floor(part / 4294967296), 16777619);
  }
  return h >>> 0;
}

const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + TWEPOCH);
}

export interface WorldOptions {
  seed: number;
  topics: string[];
  postsPerMinute: number;
  /** The clock at start: history is generated up to it. */
  start: number;
}

export class World {
  readonly users = new Map<string, WorldUser>();
  readonly #byName = new Map<string, string>();
  /** Every post, in id (= time) order. */
  readonly posts: WorldPost[] = [];
  readonly #postsById = new Map<string, WorldPost>();
  readonly #simulated: WorldUser[] = [];
  readonly #options: WorldOptions;
  #lastId = 0n;
  /** Start of the first minute not yet generated. */
  #generatedTo: number;

  constructor(options: WorldOptions) {
    this.#options = options;
    const rng = prng(mix(options.seed, 1));
    for (let i = 0; i < 40; i++) {
      const first = FIRST[i % FIRST.length]!;
      const last = LAST[Math.floor(i / FIRST.length + i) % LAST.length]!;
      const followers = Math.floor(Math.exp(4 + rng() * 7));
      const user: WorldUser = {
        id: String(1_400_000_000 + i * 7_919),
        username: `${first}${last}${i}`.slice(0, 15),
        name: `${first} ${last.replace(/s$/, 'er')}`,
        description: pick(rng, BIOS),
        createdAt: Date.UTC(2012 + (i % 12), i % 12, 1 + (i % 27)),
        followers,
        following: Math.floor(followers * (0.1 + rng())),
        listed: Math.floor(followers / 50),
        connected: false,
      };
      this.#addUser(user);
      this.#simulated.push(user);
    }
    this.#generatedTo = Math.floor((options.start - HISTORY_MS) / MINUTE) * MINUTE;
    this.catchUp(options.start);
  }

  userByName(username: string): WorldUser | undefined {
    const id = this.#byName.get(username.toLowerCase());
    return id === undefined ? undefined : this.users.get(id);
  }

  /** The account behind a consent; its id is stable for a username, as an X account's is. */
  connect(username: string): WorldUser {
    const existing = this.userByName(username);
    if (existing) {
      existing.connected = true;
      return existing;
    }
    const digest = createHash('sha256').update(username.toLowerCase()).digest();
    const user: WorldUser = {
      id: (digest.readBigUInt64BE(0) % 9_000_000_000_000_000_000n + 1_000_000_000_000_000_000n).toString(),
      username,
      name: username.replace(/_/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
      description: 'Connected through the sandbox X.',
      createdAt: Date.UTC(2019, 4, 1),
      followers: 1_200,
      following: 300,
      listed: 12,
      connected: true,
    };
    this.#addUser(user);
    return user;
  }

  post(id: string): WorldPost | undefined {
    return this.#postsById.get(id);
  }

  tweetCount(userId: string): number {
    let n = 0;
    for (const post of this.posts) if (post.authorId === userId) n++;
    return n + 500;
  }

  /** Generates every minute up to `now`, once. */
  catchUp(now: number): void {
    const until = Math.floor(now / MINUTE) * MINUTE;
    if (until - this.#generatedTo > MAX_CATCH_UP_MS) this.#generatedTo = until - MAX_CATCH_UP_MS;
    while (this.#generatedTo < until) {
      this.#generateMinute(this.#generatedTo);
      this.#generatedTo += MINUTE;
    }
  }

  /** A post made through the API, stamped `at`. */
  add(fields: Omit<WorldPost, 'id' | 'conversationId' | 'appeal'> & { conversationId?: string }): WorldPost {
    const id = this.#nextId(fields.createdAt);
    const post: WorldPost = { ...fields, id, conversationId: fields.conversationId ?? id, appeal: (mix(Number(BigInt(id) % 4294967296n)) % 1000) / 1000 };
    this.posts.push(post);
    this.#postsById.set(id, post);
    return post;
  }

  metrics(post: WorldPost, now: number): PublicMetrics {
    const minutes = Math.max(0, (now - post.createdAt) / MINUTE);
    // Fast at first, then slower, never shrinking: reach grows with log(age).
    const impressions = Math.floor((15 + 600 * post.appeal * post.appeal) * Math.log2(1 + minutes / 3));
    const likes = Math.floor(impressions * (0.005 + 0.04 * post.appeal));
    const retweets = Math.floor(likes * 0.2);
    return {
      retweet_count: retweets,
      reply_count: Math.floor(likes * 0.15),
      like_count: likes,
      quote_count: Math.floor(retweets * 0.3),
      bookmark_count: Math.floor(likes * 0.1),
      impression_count: impressions,
    };
  }

  #addUser(user: WorldUser): void {
    this.users.set(user.id, user);
    this.#byName.set(user.username.toLowerCase(), user.id);
  }

  #nextId(at: number): string {
    const candidate = (BigInt(Math.floor(at)) - TWEPOCH) << 22n;
    // Posts at the same millisecond take the next sequence number, as on X.
    this.#lastId = candidate > this.#lastId ? candidate : this.#lastId + 1n;
    return this.#lastId.toString();
  }

  #generateMinute(minuteStart: number): void {
    const { seed, topics, postsPerMinute } = this.#options;
    if (topics.length === 0) return;
    const rng = prng(mix(seed, minuteStart / MINUTE));
    const whole = Math.floor(postsPerMinute);
    const count = whole + (rng() < postsPerMinute - whole ? 1 : 0);
    const offsets = Array.from({ length: count }, () => Math.floor(rng() * MINUTE)).sort((a, b) => a - b);
    for (const offset of offsets) this.#generatePost(rng, minuteStart + offset, topics);
    // Connected users hear from their audience now and then.
    for (const user of this.users.values()) {
      if (!user.connected || rng() >= 0.2) continue;
      const author = pick(rng, this.#simulated);
      const topic = pick(rng, topics);
      const text = pick(rng, MENTION).replace('{u}', user.username).replace('{t}', topic);
      this.add({ authorId: author.id, text, createdAt: minuteStart + Math.floor(rng() * MINUTE), lang: 'en' });
    }
  }

  #generatePost(rng: () => number, at: number, topics: string[]): void {
    const author = pick(rng, this.#simulated);
    const roll = rng();
    const recent = this.posts.length > 0 ? this.posts[this.posts.length - 1 - Math.floor(rng() * Math.min(50, this.posts.length))] : undefined;
    if (recent && roll < 0.1) {
      const original = this.users.get(recent.authorId)!;
      const text = `RT @${original.username}: ${recent.text}`;
      this.add({ authorId: author.id, text, createdAt: at, lang: recent.lang, referenced: [{ type: 'retweeted', id: recent.id }] });
      return;
    }
    if (recent && roll < 0.25 && recent.authorId !== author.id) {
      const original = this.users.get(recent.authorId)!;
      this.add({
        authorId: author.id,
        text: `@${original.username} ${pick(rng, REPLY)}`,
        createdAt: at,
        lang: 'en',
        conversationId: recent.conversationId,
        inReplyToUserId: original.id,
        referenced: [{ type: 'replied_to', id: recent.id }],
      });
      return;
    }
    const topic = pick(rng, topics);
    const langRoll = rng();
    const [lang, templates] = langRoll < 0.85 ? ['en', EN] : langRoll < 0.95 ? ['es', ES] : ['de', DE];
    const slug = topic.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    this.add({ authorId: author.id, text: pick(rng, templates).replace('{t}', topic).replace('{slug}', slug), createdAt: at, lang });
  }
}

export const SEARCH_WINDOW_MS = 7 * DAY;
