// What a handler returns: a plain value describing the response, never a live socket.
//
// Handlers stay testable without a server and cannot touch a uWS response that may already be aborted;
// server.ts is the only place that turns a Reply into bytes on the wire.

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers }, body: JSON.stringify(value) };
}

export function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): Reply {
  return { status, headers: { 'Content-Type': contentType }, body };
}

export function noContent(): Reply {
  return { status: 204 };
}

export function redirect(location: string, status = 302): Reply {
  return { status, headers: { Location: location } };
}
