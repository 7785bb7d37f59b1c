/**
 * `/api/ws`: the dashboard's live line to its tenant.
 *
 * The handshake is authenticated by the session cookie (never a token in the URL) and must come
 * from our own origin (a cross-site page cannot open it with the user's cookie). Each connection
 * subscribes to its tenant's topic, so uWS pub/sub delivers a tenant's events to its own
 * dashboards only; it first receives a snapshot, then every event as it happens and a heartbeat.
 * An open dashboard keeps its tenant active (attach); the last one to close lets it hibernate
 * after the idle timeout. A client that does not read is dropped when its send buffer passes the
 * backpressure limit instead of growing the server's memory. A connection whose session ended is
 * closed at the next heartbeat.
 */
import type { Logger } from 'pino';
import type { TenantEvent } from '../../protocol/index.js';
import type { RequestAuth } from '../auth/request-auth.js';
import type { UserRow } from '../auth/users.js';
import { parseCookies } from '../http/cookies.js';
import type { TemplatedApp } from '../http/uws.js';
import type { TenantHost } from '../tenants/host.js';

export const LIVE_PATH = '/api/ws';

export interface LiveOptions {
  auth: RequestAuth;
  host: TenantHost;
  log: Logger;
  /** The first message of a connection: what the dashboard shows before any event. */
  snapshot(user: UserRow): Promise<unknown>;
  heartbeatMs?: number;
  /** Bytes a client may fall behind before it is dropped. */
  maxBackpressureBytes?: number;
}

export interface LiveSocket {
  /** Closes every connection of a session (logout, revoked session). */
  closeSession(sessionId: string): void;
  connections(): number;
  /** Ends every connection (shutdown). */
  close(): void;
}

interface Attached {
  userId: string;
  tenantId: string;
  sessionId: string;
  closed: boolean;
}

interface LiveWebSocket {
  getUserData(): Attached;
  send(message: string): number;
  subscribe(topic: string): boolean;
  end(code?: number, reason?: string): void;
}

const topicOf = (tenantId: string) => `tenant:${tenantId}`;
const HEARTBEAT_TOPIC = 'heartbeat';
const DECODER = new TextDecoder();

export function addLiveSocket(app: TemplatedApp, options: LiveOptions): LiveSocket {
  const { auth, host, log } = options;
  const sockets = new Set<LiveWebSocket>();

  app.ws<Attached>(LIVE_PATH, {
    maxPayloadLength: 4 * 1024,
    maxBackpressure: options.maxBackpressureBytes ?? 1024 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,

    upgrade(res, req, context) {
      // The request object is only valid synchronously: read everything now.
      const headers = {
        authorization: req.getHeader('authorization'),
        origin: req.getHeader('origin'),
        host: req.getHeader('host'),
        cookie: req.getHeader('cookie'),
      };
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const refuse = (status: string, code: string, message: string): void => {
        res.cork(() => res.writeStatus(status).writeHeader('Content-Type', 'application/json; charset=utf-8').end(JSON.stringify({ error: { code, message } })));
      };
      const caller = auth.caller({ headers: headers.authorization ? { authorization: headers.authorization } : {}, cookies: parseCookies(headers.cookie) });
      if (!caller) return refuse('401 Unauthorized', 'unauthenticated', 'Log in to continue.');
      // Browsers always send Origin on a WebSocket handshake; only bearer clients may omit it.
      const originOk = headers.origin ? auth.acceptsOrigin(headers.origin, headers.host) : caller.via === 'bearer';
      if (!originOk) return refuse('403 Forbidden', 'cross_origin', 'This connection must come from the TuitBot site itself.');
      res.upgrade<Attached>({ userId: caller.user.id, tenantId: caller.user.tenant_id, sessionId: caller.session.id, closed: false }, key, protocol, extensions, context);
    },

    open(ws) {
      const socket = ws as unknown as LiveWebSocket;
      const data = socket.getUserData();
      sockets.add(socket);
      socket.subscribe(topicOf(data.tenantId));
      socket.subscribe(HEARTBEAT_TOPIC);
      host.attach(data.tenantId);
      const user = auth.userById(data.userId);
      if (!user) return socket.end(1008, 'account gone');
      options.snapshot(user).then(
        (snapshot) => {
          if (!data.closed) socket.send(JSON.stringify({ type: 'snapshot', at: Date.now(), ...(snapshot as object) }));
        },
        (error: unknown) => {
          log.warn({ err: error, tenantId: data.tenantId }, 'live snapshot failed');
          if (!data.closed) socket.send(JSON.stringify({ type: 'error', code: 'snapshot_failed', message: 'The current state could not be loaded; events still arrive.' }));
        },
      );
    },

    message(ws, message) {
      const socket = ws as unknown as LiveWebSocket;
      let parsed: unknown;
      try {
        parsed = JSON.parse(DECODER.decode(message));
      } catch {
        parsed = null;
      }
      if ((parsed as { type?: unknown } | null)?.type === 'ping') socket.send(JSON.stringify({ type: 'pong', at: Date.now() }));
    },

    close(ws) {
      const socket = ws as unknown as LiveWebSocket;
      const data = socket.getUserData();
      data.closed = true;
      sockets.delete(socket);
      host.detach(data.tenantId);
    },
  });

  const onEvent = (tenantId: string, event: TenantEvent) => {
    app.publish(topicOf(tenantId), JSON.stringify({ type: 'event', event }));
  };
  host.on('event', onEvent);
  const heartbeat = setInterval(() => {
    app.publish(HEARTBEAT_TOPIC, JSON.stringify({ type: 'heartbeat', at: Date.now() }));
    // A session that ended (logout, revoked, password changed) loses its live connections too.
    for (const socket of [...sockets]) if (!auth.sessionAlive(socket.getUserData().sessionId)) socket.end(4001, 'session ended');
  }, options.heartbeatMs ?? 25_000);
  heartbeat.unref();

  return {
    closeSession(sessionId) {
      for (const socket of [...sockets]) if (socket.getUserData().sessionId === sessionId) socket.end(4001, 'session ended');
    },
    connections: () => sockets.size,
    close() {
      clearInterval(heartbeat);
      host.off('event', onEvent);
      for (const socket of [...sockets]) socket.end(1001, 'server shutting down');
    },
  };
}
