/**
 * The one way the app talks to the supervisor: JSON over fetch with the session cookie.
 *
 * Every failure the server answers is `{ error: { code, message, fields? } }`; it becomes an ApiError so a page
 * can show the message and put each field's problem next to its input. A network failure is an ApiError with
 * status 0, so callers handle one type.
 */
const base = (import.meta.env.VITE_API_BASE ?? '').replace(/\/$/, '');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field path → problem, e.g. { "limits.max_replies_per_day": "must be at most 5" }. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The credentials mode for fetches to the server: a cross-origin API base (desktop build) still needs the session
 * cookie. The server must list this app's origin in TRUSTED_ORIGINS, and be same-site with it (SameSite=Lax).
 */
export const apiCredentials: RequestCredentials = base ? 'include' : 'same-origin';

/** The URL of a server path, for links and the WebSocket (the desktop build's API may live elsewhere). */
export function apiUrl(path: string): string {
  return `${base}${path}`;
}

/**
 * The URL of a flow the server finishes after other sites (GitHub login, Connect X, the billing portal). When the
 * server is another origin (desktop build), it asks to end on this app's page rather than the server's:
 * `return_to=<this origin>`, honoured only for an origin in the server's TRUSTED_ORIGINS (any other is refused).
 */
export function serverFlowUrl(path: string): string {
  if (!base || typeof location === 'undefined' || new URL(base).origin === location.origin) return apiUrl(path);
  return `${apiUrl(path)}${path.includes('?') ? '&' : '?'}return_to=${encodeURIComponent(location.origin)}`;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(apiUrl(path), {
      method,
      credentials: apiCredentials,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const data: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string; fields?: Record<string, string> } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `The server answered ${response.status}.`, error?.fields ?? {});
  }
  return data as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string, body?: unknown) => request<T>('DELETE', path, body),
};

/** The message to show for any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}

export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  role: string;
  tenantId: string;
  twoFactorEnabled: boolean;
  hasPassword: boolean;
  createdAt: number;
}

export interface Me {
  user: User;
  session: { id: string; expiresAt: number };
  subscription: { status: string; plan: string | null };
}
