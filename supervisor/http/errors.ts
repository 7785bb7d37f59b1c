// Expected failures at the HTTP edge and the one envelope every error response uses:
//   { "error": { "code", "message", "fields"? } }
// A handler throws HttpError (or returns errorReply) for anything the client caused; server.ts maps it once.
// Anything else thrown is a bug and is answered 500 without internals.
import { json, type Reply } from './reply.js';

export interface ErrorEnvelope {
  error: { code: string; message: string; fields?: Record<string, string> };
}

export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }

  toReply(): Reply {
    return errorReply(this.status, this.code, this.message, this.fields);
  }
}

export function errorReply(status: number, code: string, message: string, fields?: Record<string, string>): Reply {
  const error: ErrorEnvelope['error'] = fields ? { code, message, fields } : { code, message };
  return json(status, { error } satisfies ErrorEnvelope);
}
