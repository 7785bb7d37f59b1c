/**
 * X's search query language, as recent search understands it: keywords and "quoted phrases" are
 * ANDed by spaces, `OR` joins alternatives (AND binds tighter), parentheses group, `-` negates, and
 * operators filter (`from:`, `to:`, `lang:`, `is:retweet`, `is:reply`, `is:quote`, `has:links`,
 * `has:media`, `has:mentions`, `has:hashtags`, `conversation_id:`, `url:`, `#tag`, `@user`).
 *
 * As on X, `is:`, `has:` and `lang:` cannot stand alone: a query needs at least one positive
 * standalone term (a keyword, phrase, #, @, from:, to:, url: or conversation_id:).
 */

export interface Candidate {
  text: string;
  lang: string;
  authorUsername: string;
  inReplyToUsername: string | undefined;
  conversationId: string;
  isRetweet: boolean;
  isReply: boolean;
  isQuote: boolean;
  hasMedia: boolean;
}

type Node =
  | { kind: 'and' | 'or'; items: Node[] }
  | { kind: 'not'; item: Node }
  | { kind: 'test'; standalone: boolean; test: (c: Candidate, words: ReadonlySet<string>, sequence: readonly string[]) => boolean };

export class QueryError extends Error {}

export interface CompiledQuery {
  matches(candidate: Candidate): boolean;
}

const TOKEN = /\s*(\(|\)|-?"(?:[^"\\]|\\.)*"|-?[^\s()"]+(?:"[^"]*")?)/y;

export function compileQuery(query: string): CompiledQuery {
  if (query.trim() === '') throw new QueryError('The query is empty.');
  if (query.length > 512) throw new QueryError(`The query is ${query.length} characters long; the limit is 512.`);
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < query.length) {
    const match = TOKEN.exec(query);
    if (!match) {
      if (query.slice(TOKEN.lastIndex).trim() === '') break;
      throw new QueryError(`Unbalanced quotes in the query at position ${TOKEN.lastIndex}.`);
    }
    tokens.push(match[1]!);
  }
  let at = 0;
  const parseOr = (): Node => {
    const items = [parseAnd()];
    while (tokens[at] === 'OR') {
      at++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  };
  const parseAnd = (): Node => {
    const items: Node[] = [];
    while (at < tokens.length && tokens[at] !== ')' && tokens[at] !== 'OR') items.push(parseUnary());
    if (items.length === 0) throw new QueryError('An operator or group is missing its terms.');
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  };
  const parseUnary = (): Node => {
    const token = tokens[at++]!;
    if (token === '(') {
      const inner = parseOr();
      if (tokens[at++] !== ')') throw new QueryError('Unbalanced parentheses in the query.');
      return inner;
    }
    if (token === '-(') throw new QueryError('Unsupported negated group.');
    if (token.startsWith('-') && token.length > 1) return { kind: 'not', item: term(token.slice(1)) };
    return term(token);
  };
  const root = parseOr();
  if (at < tokens.length) throw new QueryError('Unbalanced parentheses in the query.');
  if (!hasPositiveStandalone(root)) {
    throw new QueryError('The query needs at least one keyword, phrase or standalone operator (is:, has: and lang: cannot stand alone).');
  }
  return {
    matches(candidate) {
      const sequence = words(candidate.text);
      return evaluate(root, candidate, new Set(sequence), sequence);
    },
  };
}

function evaluate(node: Node, c: Candidate, set: ReadonlySet<string>, sequence: readonly string[]): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.every((n) => evaluate(n, c, set, sequence));
    case 'or':
      return node.items.some((n) => evaluate(n, c, set, sequence));
    case 'not':
      return !evaluate(node.item, c, set, sequence);
    case 'test':
      return node.test(c, set, sequence);
  }
}

function hasPositiveStandalone(node: Node): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.some(hasPositiveStandalone);
    case 'or':
      return node.items.every(hasPositiveStandalone);
    case 'not':
      return false;
    case 'test':
      return node.standalone;
  }
}

/** Tokenized like X matches: case-insensitive words, hashtags and mentions also as bare words. */
function words(text: string): string[] {
  return text.toLowerCase().match(/[#@$]?[\p{L}\p{N}_]+/gu) ?? [];
}

function containsSequence(haystack: readonly string[], needle: readonly string[]): boolean {
  const bare = haystack.map((w) => w.replace(/^[#@$]/, ''));
  outer: for (let i = 0; i + needle.length <= bare.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bare[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const test = (standalone: boolean, fn: (c: Candidate, set: ReadonlySet<string>, seq: readonly string[]) => boolean): Node => ({ kind: 'test', standalone, test: fn });

function term(token: string): Node {
  if (token.startsWith('"')) {
    const phrase = words(token.slice(1, -1).replace(/\\"/g, '"')).map((w) => w.replace(/^[#@$]/, ''));
    if (phrase.length === 0) throw new QueryError('An empty phrase is not a valid query term.');
    return test(true, (c, set, seq) => containsSequence(seq, phrase));
  }
  if (token.startsWith('#') || token.startsWith('@') || token.startsWith('$')) {
    const wanted = token.toLowerCase();
    return test(true, (c, set) => set.has(wanted));
  }
  const colon = token.indexOf(':');
  if (colon > 0 && !/^https?:/i.test(token)) {
    const name = token.slice(0, colon).toLowerCase();
    const value = token.slice(colon + 1).replace(/^"|"$/g, '');
    return operator(name, value);
  }
  const parts = words(token);
  if (parts.length === 0) throw new QueryError(`"${token}" is not a valid query term.`);
  return test(true, (c, set, seq) => (parts.length === 1 ? set.has(parts[0]!) || set.has(`#${parts[0]}`) : containsSequence(seq, parts)));
}

function operator(name: string, value: string): Node {
  const lower = value.toLowerCase();
  if (value === '') throw new QueryError(`The ${name}: operator needs a value.`);
  switch (name) {
    case 'from':
      return test(true, (c) => c.authorUsername.toLowerCase() === lower.replace(/^@/, ''));
    case 'to':
      return test(true, (c) => c.inReplyToUsername?.toLowerCase() === lower.replace(/^@/, ''));
    case 'conversation_id':
      return test(true, (c) => c.conversationId === value);
    case 'url':
      return test(true, (c) => c.text.toLowerCase().includes(lower));
    case 'lang':
      if (!/^[a-z]{2,3}$/.test(lower)) throw new QueryError(`"${value}" is not a language code.`);
      return test(false, (c) => c.lang === lower);
    case 'is':
      if (lower === 'retweet') return test(false, (c) => c.isRetweet);
      if (lower === 'reply') return test(false, (c) => c.isReply);
      if (lower === 'quote') return test(false, (c) => c.isQuote);
      if (lower === 'verified') return test(false, () => false);
      break;
    case 'has':
      if (lower === 'links') return test(false, (c) => /https?:\/\//i.test(c.text));
      if (lower === 'media') return test(false, (c) => c.hasMedia);
      if (lower === 'mentions') return test(false, (c, set) => [...set].some((w) => w.startsWith('@')));
      if (lower === 'hashtags') return test(false, (c, set) => [...set].some((w) => w.startsWith('#')));
      break;
  }
  throw new QueryError(`Reference to invalid operator '${name}:${value}'.`);
}
