/** `GET /api/openapi.json`: the API document (see supervisor/api/openapi.ts). */
import type { ApiDocument } from '../api/openapi.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';

export function addApiDocumentRoute(router: Router<Handler>, doc: ApiDocument, options: { appUrl: () => string; version: string }): void {
  doc.add({ method: 'GET', path: '/api/openapi.json', tag: 'Meta', auth: 'none', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1.' } } });
  router.add('GET', '/api/openapi.json', () => json(200, doc.toJSON({ version: options.version, serverUrl: options.appUrl() }), { 'Cache-Control': 'no-cache' }));
}
