/**
 * Validates X API v2 requests and responses against X's own OpenAPI document
 * (test/specs/x-api-v2.openapi.json, a copy of ../shared/specs), with ajv on the document's component schemas.
 *
 * OpenAPI 3.0 schemas are JSON Schema with a few differences, adapted here:
 *   - formats ajv does not know (`binary`, `integer` on strings, `int32`/`int64` on strings) are accepted;
 *   - `discriminator` is ignored (ajv only supports it on oneOf); a problem is checked against the schema
 *     its `type` maps to instead;
 *   - a few schemas require a property they never declare (e.g. MediaUploadResponse.meta,
 *     ProcessingInfo.type) and X's own documented answers carry none of them: such `required` entries
 *     are dropped. `definitionDefects` lists them so a new spec version is noticed.
 * Query parameters arrive as strings: integers are converted and comma lists split before checking.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;

const SPEC_PATH = fileURLToPath(new URL('../specs/x-api-v2.openapi.json', import.meta.url));
const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Json;

export const definitionDefects: string[] = [];
(function dropUndeclaredRequired(node: unknown, path: string): void {
  if (Array.isArray(node)) return node.forEach((n, i) => dropUndeclaredRequired(n, `${path}/${i}`));
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Json;
  if (Array.isArray(schema['required']) && typeof schema['properties'] === 'object') {
    const undeclared = (schema['required'] as string[]).filter((name) => !(name in schema['properties']));
    if (undeclared.length > 0) {
      definitionDefects.push(`${path}: ${undeclared.join(', ')}`);
      schema['required'] = (schema['required'] as string[]).filter((name) => name in schema['properties']);
    }
  }
  for (const [key, value] of Object.entries(schema)) dropUndeclaredRequired(value, `${path}/${key}`);
})(spec['components'], '#/components');

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats.default(ajv);
for (const format of ['binary', 'integer']) ajv.addFormat(format, true);
ajv.addFormat('int32', { type: 'string', validate: (s: string) => /^-?\d+$/.test(s) });
ajv.addFormat('int64', { type: 'string', validate: (s: string) => /^-?\d+$/.test(s) });
ajv.addSchema({ ...spec, $id: 'x-api-v2' });

const compiled = new Map<string, ValidateFunction>();
function validatorFor(pointer: string): ValidateFunction {
  let validate = compiled.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `x-api-v2${pointer}` });
    compiled.set(pointer, validate);
  }
  return validate;
}

function resolve(node: Json): Json {
  let current = node;
  while (typeof current['$ref'] === 'string') {
    current = (current['$ref'] as string).slice(2).split('/').reduce((at: Json, key) => at[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return current;
}

function pointerOf(schema: Json, fallback: string): string {
  return typeof schema['$ref'] === 'string' ? (schema['$ref'] as string) : fallback;
}

function check(pointer: string, value: unknown, what: string): string[] {
  const validate = validatorFor(pointer);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${what}: ${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

interface Operation {
  template: string;
  pattern: RegExp;
  method: string;
  op: Json;
}

const operations: Operation[] = Object.entries(spec['paths'] as Json)
  .flatMap(([template, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => ['get', 'post', 'put', 'delete', 'patch'].includes(method))
      .map(([method, op]) => ({
        template,
        method: method.toUpperCase(),
        op: op as Json,
        pattern: new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      })),
  )
  // A literal segment wins over a parameter: /2/tweets/search/recent is not /2/tweets/{id}.
  .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));

export function operationFor(method: string, path: string): Operation | undefined {
  return operations.find((o) => o.method === method && o.pattern.test(path));
}

/** Problems with a request our client sent, as X's document describes the operation. */
export function requestProblems(method: string, path: string, query: Record<string, string>, body: unknown): string[] {
  const operation = operationFor(method, path);
  if (!operation) return [`${method} ${path}: no such operation in X's OpenAPI document`];
  const where = `${method} ${operation.template}`;
  const problems: string[] = [];
  const parameters = ((operation.op['parameters'] ?? []) as Json[]).map(resolve);
  const known = new Set(parameters.filter((p) => p['in'] === 'query').map((p) => p['name'] as string));
  for (const name of Object.keys(query)) if (!known.has(name)) problems.push(`${where}: unknown query parameter ${name}`);
  const segments = path.split('/');
  const templateSegments = operation.template.split('/');
  for (const parameter of parameters) {
    const name = parameter['name'] as string;
    let raw: string | undefined;
    if (parameter['in'] === 'query') raw = query[name];
    else if (parameter['in'] === 'path') raw = decodeURIComponent(segments[templateSegments.indexOf(`{${name}}`)] ?? '');
    else continue;
    if (raw === undefined) {
      if (parameter['required']) problems.push(`${where}: missing required parameter ${name}`);
      continue;
    }
    const schema = resolve(parameter['schema'] ?? {});
    const value = schema['type'] === 'integer' ? Number(raw) : schema['type'] === 'array' ? raw.split(',') : raw;
    const pointer = typeof (parameter['schema'] as Json)?.['$ref'] === 'string' ? pointerOf(parameter['schema'], '') : null;
    if (pointer) problems.push(...check(pointer, value, `${where} ?${name}`));
    else problems.push(...checkInline(parameter['schema'], value, `${where} ?${name}`));
  }
  const content = (operation.op['requestBody'] as Json | undefined)?.['content'] as Json | undefined;
  if (content && body !== undefined) {
    const media = content['application/json'] ?? content['multipart/form-data'];
    const schema = (media as Json | undefined)?.['schema'] as Json | undefined;
    if (schema) problems.push(...checkSchema(schema, body, `${where} body`));
  }
  return problems;
}

/** Problems with an answer the sandbox gave, as X's document describes the operation. */
export function responseProblems(method: string, path: string, status: number, body: unknown): string[] {
  const operation = operationFor(method, path);
  if (!operation) return [`${method} ${path}: no such operation in X's OpenAPI document`];
  const where = `${method} ${operation.template} → ${status}`;
  if (status >= 400) return problemProblems(body, where);
  const responses = operation.op['responses'] as Json;
  const response = resolve(responses[String(status)] ?? responses['default'] ?? {});
  const schema = ((response['content'] as Json | undefined)?.['application/json'] as Json | undefined)?.['schema'] as Json | undefined;
  if (!schema) return body === undefined ? [] : [`${where}: the document declares no JSON body for this status`];
  return checkSchema(schema, body, where);
}

function problemProblems(body: unknown, where: string): string[] {
  const problems = check('#/components/schemas/Problem', body, where);
  const type = (body as Json | undefined)?.['type'];
  const mapping = (spec['components']['schemas']['Problem']['discriminator']?.['mapping'] ?? {}) as Record<string, string>;
  if (typeof type === 'string' && mapping[type]) problems.push(...check(mapping[type], body, `${where} as ${mapping[type]}`));
  else if (typeof type === 'string') problems.push(`${where}: problem type ${type} is not one X's document names`);
  return problems;
}

let inline = 0;
function checkSchema(schema: Json, value: unknown, what: string): string[] {
  if (typeof schema['$ref'] === 'string') return check(pointerOf(schema, ''), value, what);
  return checkInline(schema, value, what);
}

function checkInline(schema: Json, value: unknown, what: string): string[] {
  // Inline schemas may $ref the document; give them an id inside it so those refs resolve.
  const id = `x-api-v2-inline-${inline++}`;
  const validate = ajv.compile({ $id: id, ...rewriteRefs(schema) });
  ajv.removeSchema(id);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${what}: ${e.instancePath || '(root)'} ${e.message ?? ''}`);
}

function rewriteRefs(node: unknown): any {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `x-api-v2${v}` : rewriteRefs(v)]));
}
