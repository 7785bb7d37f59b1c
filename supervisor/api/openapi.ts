/**
 * The API document (`GET /api/openapi.json`, OpenAPI 3.1): each route module describes its
 * operations next to the routes, with the same valibot schemas the routes validate with, turned
 * into JSON Schema by @valibot/to-json-schema, so the document cannot drift from what is enforced.
 * A test fails when an /api route is not described.
 *
 * Conventions shared by every operation (written once here): JSON bodies; ids are strings;
 * timestamps are epoch milliseconds (UTC); errors are `{ "error": { "code", "message", "fields"? } }`
 * with field paths for validation errors; browser clients authenticate with the session cookie,
 * API clients with `Authorization: Bearer <token>` from `POST /auth/login` with `"client": "api"`.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';

type AnySchema = v.GenericSchema;

export interface ResponseSpec {
  description: string;
  schema?: AnySchema;
  /** A redirect's target, described in words. */
  location?: string;
}

export interface OperationSpec {
  method: string;
  /** The router's pattern (`/api/things/:id`). */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Who may call it; 'session' adds 401 and the security requirement. */
  auth: 'session' | 'none' | 'stripe-signature';
  query?: AnySchema;
  body?: AnySchema;
  /** A body that is a file's bytes, not JSON (media upload). */
  binaryBody?: { mediaTypes: string[]; description: string };
  responses: Record<number, ResponseSpec>;
}

const ErrorEnvelope = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'A stable, machine-readable code, e.g. invalid_request.' },
        message: { type: 'string', description: 'A plain explanation for people.' },
        fields: { type: 'object', additionalProperties: { type: 'string' }, description: 'Field path → problem, for validation errors.' },
      },
    },
  },
};

function jsonSchema(schema: AnySchema): object {
  // Transforms (trim, lower-case) have no JSON Schema form: the shape is what matters to a client.
  const { $schema: _ignored, ...rest } = toJsonSchema(schema, { errorMode: 'ignore' }) as Record<string, unknown>;
  return rest;
}

export class ApiDocument {
  readonly #operations: OperationSpec[] = [];

  add(...operations: OperationSpec[]): void {
    this.#operations.push(...operations);
  }

  has(method: string, path: string): boolean {
    return this.#operations.some((op) => op.method === method.toUpperCase() && op.path === path);
  }

  toJSON(info: { version: string; serverUrl: string }): object {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of this.#operations) {
      const path = op.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const parameters = [
        ...[...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
        ...(op.query ? queryParameters(op.query) : []),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, spec] of Object.entries(op.responses)) {
        responses[status] = {
          description: spec.description,
          ...(spec.schema && { content: { 'application/json': { schema: jsonSchema(spec.schema) } } }),
          ...(spec.location && { headers: { Location: { description: spec.location, schema: { type: 'string' } } } }),
        };
      }
      const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
      if (op.body) responses['422'] ??= error('The body is not valid: `fields` names each problem by path.');
      if (op.auth === 'session') responses['401'] ??= error('Not logged in.');
      responses['429'] ??= error('Too many requests; see Retry-After.');
      (paths[path] ??= {})[op.method.toLowerCase()] = {
        summary: op.summary,
        ...(op.description && { description: op.description }),
        tags: [op.tag],
        operationId: `${op.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[/_-](\w)/g, (_, c: string) => c.toUpperCase())}`,
        ...(parameters.length > 0 && { parameters }),
        ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } }),
        ...(op.binaryBody && { requestBody: { required: true, description: op.binaryBody.description, content: Object.fromEntries(op.binaryBody.mediaTypes.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }])) } }),
        security: op.auth === 'session' ? [{ session: [] }, { bearer: [] }] : [],
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'TuitBot API',
        version: info.version,
        description:
          'JSON over HTTPS. Timestamps are epoch milliseconds (UTC); ids are strings; errors are `{ "error": { "code", "message", "fields"? } }`. Browsers use the session cookie (state-changing requests must come from our origin); API clients send `Authorization: Bearer <token>` from `POST /auth/login` with `"client": "api"`. Live events: a WebSocket at `/api/ws`.',
      },
      servers: [{ url: info.serverUrl }],
      components: {
        schemas: { Error: ErrorEnvelope },
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'tuitbot_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      paths,
    };
  }
}

function queryParameters(schema: AnySchema): object[] {
  const json = jsonSchema(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: property }));
}
