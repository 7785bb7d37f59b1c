/**
 * The account page's data routes: download everything the caller's tenant holds as a TuitBot
 * export, and load such a file into it (moving from a self-hosted install, or back).
 *
 * The tenant builds and loads the file (tenant-worker/api/export.ts, where the format is); these
 * routes authenticate, rate-limit (both read or write the whole DB), and map the tenant's refusals,
 * which it answers as values, to HTTP. A download never carries secrets (X tokens, LLM key): a
 * browser session is not enough to take them off the server; `tuitbot export --passphrase-file`
 * can. An upload is limited by HTTP_MAX_BODY_BYTES like every body; larger files go through
 * `tuitbot import` on the server.
 */
import * as v from 'valibot';
import type { ApiDocument } from '../api/openapi.js';
import type { RateLimits } from '../auth/rate-limits.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { HttpError } from '../http/errors.js';
import { json, JSON_CONTENT_TYPE } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';

export interface AccountDataRouteDeps {
  auth: RequestAuth;
  limits: RateLimits;
  host: TenantHost;
  requestTimeoutMs: number;
}

export const AccountImportBody = v.strictObject({
  file: v.record(v.string(), v.unknown(), 'must be the contents of a TuitBot export (a JSON object)'),
  passphrase: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.minLength(8, 'must be at least 8 characters'), v.maxLength(1024, 'is too long')))),
  replace: v.optional(v.boolean('must be true or false')),
});

type ExportAnswer = { ok: true; json: string } | { ok: false; code: string; message: string };

type ImportAnswer =
  | { ok: true; tables: Record<string, number>; secrets: string; dropped: string[] }
  | { ok: false; code: string; message: string; fields?: Record<string, string> };

/** The tenant's refusals, as HTTP. */
const REFUSALS: Record<string, number> = { not_empty: 409, invalid_file: 422, format_too_new: 422, schema_too_new: 422, wrong_passphrase: 422 };

export function addAccountDataRoutes(router: Router<Handler>, deps: AccountDataRouteDeps): void {
  const { auth, limits, host } = deps;

  router.add('GET', '/api/account/export', async (ctx) => {
    const caller = auth.require(ctx);
    await limits.consume(['account_data_account', caller.user.id]);
    // The tenant answers the document as text: passed through, never parsed here.
    const answer = (await callTenant(host, caller.user.tenant_id, 'export.json', {}, deps.requestTimeoutMs)) as ExportAnswer;
    if (!answer.ok) throw new HttpError(413, 'export_too_large', answer.message);
    const day = new Date().toISOString().slice(0, 10);
    return {
      status: 200,
      headers: { 'Content-Type': JSON_CONTENT_TYPE, 'Content-Disposition': `attachment; filename="tuitbot-export-${day}.json"`, 'Cache-Control': 'no-store' },
      body: answer.json,
    };
  });

  router.add('POST', '/api/account/import', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(AccountImportBody);
    await limits.consume(['account_data_account', caller.user.id]);
    const answer = (await callTenant(host, caller.user.tenant_id, 'import.json', { file: body.file, passphrase: body.passphrase ?? null, replace: body.replace ?? false }, deps.requestTimeoutMs)) as ImportAnswer;
    if (answer.ok) return json(200, { tables: answer.tables, secrets: answer.secrets, dropped: answer.dropped });
    const fields =
      answer.code === 'wrong_passphrase'
        ? { passphrase: 'does not open the secrets of this export' }
        : answer.fields && Object.fromEntries(Object.entries(answer.fields).map(([path, message]) => [`file.${path}`, message]));
    throw new HttpError(REFUSALS[answer.code] ?? 422, answer.code, answer.message, fields);
  });
}

export function describeAccountDataRoutes(doc: ApiDocument): void {
  const tag = 'Account data';
  doc.add(
    {
      method: 'GET',
      path: '/api/account/export',
      tag,
      auth: 'session',
      summary: 'Download all your data',
      description:
        'A TuitBot export (format `tuitbot-export`, version 1): every table of your data with `schema` (the migrations it was written under). Secrets (X tokens, LLM key) are not included; reconnect X and enter the key again after an import. A few per minute.',
      responses: {
        200: { description: '`{ format, version, exportedAt, schema, secrets: "excluded", tables: { <table>: { columns, rows } } }`, as an attachment.' },
        413: { description: '`export_too_large`: more than a tenant thread can build; the operator can export it with `tuitbot export`.' },
        429: { description: '`rate_limited`.' },
      },
    },
    {
      method: 'POST',
      path: '/api/account/import',
      tag,
      auth: 'session',
      summary: 'Load an export into your account',
      description:
        'All or nothing. Refused for an account that already has data unless `replace` is true (which deletes it first), for a newer format or schema, and after a subscription ended. With `passphrase`, secrets sealed by `tuitbot export --passphrase-file` are loaded too. A few per minute.',
      body: AccountImportBody,
      responses: {
        200: { description: '`{ tables: { <table>: rows }, secrets: imported | excluded | dropped, dropped: [what was left out and why] }`.' },
        409: { description: '`not_empty` (use `replace`) or `read_only`.' },
        422: { description: '`invalid_file`, `format_too_new`, `schema_too_new`, `wrong_passphrase`, with field paths.' },
        429: { description: '`rate_limited`.' },
      },
    },
  );
}
