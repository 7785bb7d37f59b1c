// A JSON request body, checked in the order a client can fix things: media type (415), syntax (400), shape (422).
// Validation failures name every offending field by dot path so the dashboard can put the message next to
// the input; an issue about the body as a whole is reported under '(body)'.
import * as v from 'valibot';
import { HttpError } from './errors.js';

export type AnySchema = v.GenericSchema | v.GenericSchemaAsync;

export async function parseJsonBody<S extends AnySchema>(
  contentType: string | undefined,
  body: () => Promise<Buffer>,
  schema: S,
): Promise<v.InferOutput<S>> {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new HttpError(415, 'unsupported_media_type', 'expected Content-Type: application/json');
  }
  let value: unknown;
  try {
    value = JSON.parse((await body()).toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
    throw err;
  }
  const result = await v.safeParseAsync(schema, value);
  if (!result.success) {
    throw new HttpError(422, 'validation_failed', 'request body failed validation', issueFields(result.issues));
  }
  return result.output;
}

export function issueFields(issues: readonly v.BaseIssue<unknown>[]): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const issue of issues) {
    const key = v.getDotPath(issue) || '(body)';
    // The first issue per field is the one the user should fix first.
    fields[key] ??= issue.message;
  }
  return fields;
}
