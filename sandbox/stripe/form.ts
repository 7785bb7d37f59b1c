/**
 * Stripe's request parameters: form-encoded bodies (and query strings) in bracket notation, as the SDK
 * writes them: `line_items[0][price]=price_1&metadata[tenant]=t1&expand[0]=subscription`. Parsed into
 * plain nested values; a hash whose keys are all indices becomes an array (metadata excepted: its
 * keys are the user's, so `metadata[0]` stays a key). Every leaf is a string, as on the wire.
 */
import { parameterInvalid, parameterUnknown } from './errors.js';

export type Param = string | Param[] | { [key: string]: Param };
export type Params = { [key: string]: Param };

export function parseParams(encoded: string): Params {
  const root: Params = {};
  for (const [name, value] of new URLSearchParams(encoded)) {
    const path = splitName(name);
    let node: Params = root;
    path.forEach((key, i) => {
      // `expand[]=a&expand[]=b` appends, as Rails-style parsers (and Stripe) do.
      const slot = key === '' ? String(Object.keys(node).length) : key;
      if (i === path.length - 1) {
        node[slot] = value;
        return;
      }
      const next = node[slot];
      if (next === undefined || typeof next === 'string' || Array.isArray(next)) node[slot] = {};
      node = node[slot] as Params;
    });
  }
  return arraysOf(root, false) as Params;
}

function splitName(name: string): string[] {
  const open = name.indexOf('[');
  if (open < 0) return [name];
  const keys = [name.slice(0, open)];
  for (const m of name.slice(open).matchAll(/\[([^\]]*)\]/g)) keys.push(m[1] ?? '');
  return keys;
}

function arraysOf(value: Param, isMetadata: boolean): Param {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!isMetadata && keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => arraysOf(value[k]!, false));
  }
  const out: Params = {};
  for (const k of keys) out[k] = arraysOf(value[k]!, k === 'metadata');
  return out;
}

/** Typed reads that fail the way Stripe does ("Invalid integer: abc") and name the bracketed param. */
export class Reader {
  constructor(
    readonly params: Params,
    private readonly prefix = '',
  ) {}

  name(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}[${key}]`;
  }

  has(key: string): boolean {
    return this.params[key] !== undefined;
  }

  string(key: string): string | undefined {
    const v = this.params[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw parameterInvalid(this.name(key), `Invalid string: ${JSON.stringify(v)}`);
    return v;
  }

  integer(key: string): number | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw parameterInvalid(this.name(key), `Invalid integer: ${v}`, 'parameter_invalid_integer');
    return Number(v);
  }

  boolean(key: string): boolean | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw parameterInvalid(this.name(key), `Invalid boolean: ${v}`, 'parameter_invalid_boolean');
    return v === 'true';
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      throw parameterInvalid(this.name(key), `Invalid ${key}: must be one of ${allowed.join(', ')}`, 'parameter_invalid_string');
    }
    return v as T;
  }

  hash(key: string): Reader | undefined {
    const v = this.params[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' || Array.isArray(v)) {
      // `metadata=` (empty) is how Stripe clients clear a hash; callers treat an empty Reader that way.
      if (v === '') return new Reader({}, this.name(key));
      throw parameterInvalid(this.name(key), `Invalid hash`, 'parameter_invalid_hash');
    }
    return new Reader(v, this.name(key));
  }

  list(key: string): Reader[] | undefined {
    const v = this.params[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw parameterInvalid(this.name(key), `Invalid array`, 'parameter_invalid_array');
    return v.map((item, i) => {
      if (typeof item === 'string' || Array.isArray(item)) throw parameterInvalid(`${this.name(key)}[${i}]`, `Invalid hash`);
      return new Reader(item, `${this.name(key)}[${i}]`);
    });
  }

  strings(key: string): string[] {
    const v = this.params[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw parameterInvalid(this.name(key), `Invalid array`, 'parameter_invalid_array');
    return v as string[];
  }

  /** Metadata as Stripe stores it: values are strings, `''` deletes a key on update. */
  metadata(key = 'metadata'): Record<string, string> | undefined {
    const h = this.hash(key);
    if (!h) return undefined;
    const out: Record<string, string> = {};
    for (const k of Object.keys(h.params)) out[k] = h.string(k) ?? '';
    return out;
  }

  /** Stripe rejects parameters it does not know; `known` lists the real API's (implemented or merely accepted). */
  only(known: readonly string[]): void {
    for (const k of Object.keys(this.params)) if (!known.includes(k)) throw parameterUnknown(this.name(k));
  }
}

