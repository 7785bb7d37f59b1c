// Method + path → handler, as a segment trie.
//
// Patterns are `/`-separated segments: literals, `:name` params, and an optional trailing `*` that captures the
// rest of the path (zero or more segments) as params['*']. Lookup prefers a literal over a param over the
// wildcard at every segment, backtracking when a more specific branch dead-ends, so `/users/me` beats
// `/users/:id` without registration order mattering. Matching is per method: when the path exists only under
// other methods the answer is method_not_allowed with the full Allow list, so a client learns what would work.
// Segments are percent-decoded before matching; a malformed escape matches nothing rather than throwing.

export type RouteMatch<H> =
  | { kind: 'found'; handler: H; params: Record<string, string>; pattern: string }
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed'; allow: string[] };

interface Route<H> {
  handler: H;
  pattern: string;
  /** Names of the captured values in order: param names, then '*' if the pattern ends in a wildcard. */
  names: string[];
}

interface Node<H> {
  literals: Map<string, Node<H>>;
  param?: Node<H>;
  /** Routes whose pattern ends in `*` right after this node, by method. */
  wildcard?: Map<string, Route<H>>;
  routes: Map<string, Route<H>>;
}

const newNode = <H>(): Node<H> => ({ literals: new Map(), routes: new Map() });

export class Router<H> {
  readonly #root: Node<H> = newNode();
  readonly #registered: { method: string; pattern: string }[] = [];

  add(method: string, pattern: string, handler: H): this {
    if (!pattern.startsWith('/')) throw new Error(`route pattern must start with '/': ${pattern}`);
    const upper = method.toUpperCase();
    const segments = splitPath(pattern);
    const names: string[] = [];
    let node = this.#root;
    let routes = node.routes;
    for (const [i, segment] of segments.entries()) {
      if (segment === '*') {
        if (i !== segments.length - 1) throw new Error(`'*' must be the last segment: ${pattern}`);
        names.push('*');
        routes = node.wildcard ??= new Map();
        break;
      }
      if (segment.startsWith(':')) {
        const name = segment.slice(1);
        if (!name || names.includes(name)) throw new Error(`bad or repeated param name in ${pattern}`);
        names.push(name);
        node = node.param ??= newNode();
      } else {
        let next = node.literals.get(segment);
        if (!next) node.literals.set(segment, (next = newNode()));
        node = next;
      }
      routes = node.routes;
    }
    if (routes.has(upper)) throw new Error(`duplicate route ${upper} ${pattern}`);
    routes.set(upper, { handler, pattern, names });
    this.#registered.push({ method: upper, pattern });
    return this;
  }

  /** Every route added, in order (for the API document and its completeness test). */
  routes(): readonly { method: string; pattern: string }[] {
    return this.#registered;
  }

  match(method: string, path: string): RouteMatch<H> {
    const segments = decodeSegments(path);
    if (!segments) return { kind: 'not_found' };
    const upper = method.toUpperCase();
    const values: string[] = [];
    // HEAD is GET without a body (the server drops it), unless a route asked for HEAD explicitly.
    const route = find(this.#root, segments, 0, values, upper) ?? (upper === 'HEAD' ? find(this.#root, segments, 0, values, 'GET') : undefined);
    if (route) {
      const params: Record<string, string> = Object.create(null);
      for (let i = 0; i < route.names.length; i++) params[route.names[i]!] = values[i] ?? '';
      return { kind: 'found', handler: route.handler, params, pattern: route.pattern };
    }
    const allow = new Set<string>();
    walk(this.#root, segments, 0, [], (routes) => {
      for (const m of routes.keys()) allow.add(m);
      return false;
    });
    if (allow.size === 0) return { kind: 'not_found' };
    if (allow.has('GET')) allow.add('HEAD');
    return { kind: 'method_not_allowed', allow: [...allow].sort() };
  }
}

/**
 * The most specific route for `method` under `node` (the order `walk` visits, without its allocations: the hot
 * path of every request). Captured values are pushed onto `values` and left there only on success.
 */
function find<H>(node: Node<H>, segments: string[], i: number, values: string[], method: string): Route<H> | undefined {
  if (i === segments.length) {
    const route = node.routes.get(method);
    if (route) return route;
  } else {
    const segment = segments[i]!;
    const literal = node.literals.get(segment);
    if (literal) {
      const route = find(literal, segments, i + 1, values, method);
      if (route) return route;
    }
    // An empty segment (`/a//b`, a trailing slash) never fills a param.
    if (node.param && segment !== '') {
      values.push(segment);
      const route = find(node.param, segments, i + 1, values, method);
      if (route) return route;
      values.pop();
    }
  }
  const route = node.wildcard?.get(method);
  if (route) values.push(segments.slice(i).join('/'));
  return route;
}

/** Visits route tables that match `segments`, most specific first; stops when `visit` returns true. */
function walk<H>(
  node: Node<H>,
  segments: string[],
  i: number,
  values: string[],
  visit: (routes: Map<string, Route<H>>, values: string[]) => boolean,
): boolean {
  if (i === segments.length) {
    if (visit(node.routes, values)) return true;
  } else {
    const segment = segments[i]!;
    const literal = node.literals.get(segment);
    if (literal && walk(literal, segments, i + 1, values, visit)) return true;
    // An empty segment (`/a//b`, a trailing slash) never fills a param.
    if (node.param && segment !== '' && walk(node.param, segments, i + 1, [...values, segment], visit)) return true;
  }
  return node.wildcard !== undefined && visit(node.wildcard, [...values, segments.slice(i).join('/')]);
}

function splitPath(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

function decodeSegments(path: string): string[] | undefined {
  if (!path.startsWith('/')) return undefined;
  const segments = splitPath(path);
  if (!path.includes('%')) return segments;
  try {
    return segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}
