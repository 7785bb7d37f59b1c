#!/usr/bin/env node
/**
 * `tuitbot`: the one binary of the product.
 *
 *   tuitbot serve [--cloud]            run the supervisor (HTTP, tenants, scheduler)
 *   tuitbot migrate [--tenants]        migrate management.db (and every tenant DB)
 *   tuitbot tenants list [--json]      the registry
 *   tuitbot tenants show <id>          one tenant with its crash history
 *   tuitbot tenants release <id>       lift a quarantine
 *   tuitbot invite [--email <address>] a signup link for REGISTRATION=invite
 *   tuitbot rotate-key [--generate]    re-seal every secret under the current key (--generate: new key file first)
 *
 * Configuration comes from the environment (see .env.example).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { checkpointAndClose, openDatabase } from '../migrations/runner.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createInvite } from './auth/invites.js';
import { TenantRegistry, type TenantRecord } from './tenants/registry.js';
import { SecretBox } from '../protocol/index.js';
import { generateNextKeyFile, KEY_FILE, loadEncryptionKey, PREVIOUS_KEYS_FILE } from './secrets/master-key.js';
import { rotateSecrets } from './secrets/rotate.js';

const USAGE = `usage:
  tuitbot serve [--cloud]
  tuitbot migrate [--tenants]
  tuitbot tenants list [--json]
  tuitbot tenants show <id>
  tuitbot tenants release <id>
  tuitbot invite [--email <address>]
  tuitbot rotate-key [--generate]`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      cloud: { type: 'boolean' },
      tenants: { type: 'boolean' },
      json: { type: 'boolean' },
      email: { type: 'string' },
      generate: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig(values.cloud ? { ...process.env, TUITBOT_MODE: 'cloud' } : process.env);
  switch (command) {
    case 'serve':
      return serve(config);
    case 'migrate':
      return migrateAll(config, values.tenants ?? false);
    case 'tenants':
      return tenants(config, sub, arg, values.json ?? false);
    case 'invite':
      return invite(config, values.email ?? null);
    case 'rotate-key':
      return rotateKey(config, values.generate ?? false);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function serve(config: Config): Promise<number> {
  const log = pino({ level: config.logLevel });
  // Imported here so `tuitbot tenants list` does not load the native HTTP server.
  const { startSupervisor } = await import('./app.js');
  const supervisor = await startSupervisor(config, log);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      // Wrappers (npm, tsx, timeout) may forward the same signal twice: stop once, never die mid-way.
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'signal received');
      // The last resort if something ignores the shutdown budget.
      setTimeout(() => {
        log.error('shutdown exceeded its budget; exiting');
        resolve(1);
      }, config.shutdownTimeoutMs + 1_000).unref();
      supervisor.close().then(
        () => resolve(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

function openManagement(config: Config) {
  mkdirSync(config.dataDir, { recursive: true });
  return openDatabase(join(config.dataDir, 'management.db'), 'management');
}

function migrateAll(config: Config, includeTenants: boolean): number {
  const db = openManagement(config);
  console.log('management.db: up to date');
  if (includeTenants) {
    const registry = new TenantRegistry(db, config.dataDir);
    for (const tenant of registry.list()) {
      const path = registry.dbPath(tenant.id);
      if (!readdirSync(join(config.dataDir, 'tenants')).includes(`${tenant.id}.db`)) continue;
      checkpointAndClose(openDatabase(path, 'tenant'));
      console.log(`tenants/${tenant.id}.db: up to date`);
    }
  }
  checkpointAndClose(db);
  return 0;
}

function tenants(config: Config, sub: string | undefined, id: string | undefined, asJson: boolean): number {
  const db = openManagement(config);
  try {
    const registry = new TenantRegistry(db, config.dataDir);
    switch (sub) {
      case 'list': {
        const all = registry.list();
        if (asJson) console.log(JSON.stringify(all, null, 2));
        else printTable(all);
        return 0;
      }
      case 'show': {
        const tenant = requireTenant(registry, id);
        console.log(JSON.stringify({ ...tenant, crashes: registry.crashes(tenant.id) }, null, 2));
        return 0;
      }
      case 'release': {
        const tenant = requireTenant(registry, id);
        if (!registry.release(tenant.id)) {
          console.error(`tenant ${tenant.id} is not quarantined (status: ${tenant.status})`);
          return 1;
        }
        console.log(`tenant ${tenant.id} released; it wakes on its next alarm or request`);
        return 0;
      }
      default:
        throw new UsageError(`unknown tenants subcommand "${sub ?? ''}"`);
    }
  } finally {
    db.close();
  }
}

function invite(config: Config, email: string | null): number {
  const db = openManagement(config);
  try {
    const token = createInvite(db, email);
    const base = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
    if (config.registration !== 'invite') console.error(`note: REGISTRATION is "${config.registration}", so this link is only needed with REGISTRATION=invite`);
    console.log(`${base}/signup?invite=${token}`);
    console.log(`valid for 7 days${email ? ` and only for ${email}` : ''}; it works once`);
    return 0;
  } finally {
    db.close();
  }
}

function rotateKey(config: Config, generate: boolean): number {
  const log = pino({ level: 'warn' });
  if (generate) {
    if (config.encryptionKey) {
      throw new UsageError('ENCRYPTION_KEY is set: rotate it there (new key in ENCRYPTION_KEY, the old one in ENCRYPTION_KEYS_PREVIOUS), then run rotate-key');
    }
    const { previousId, currentId } = generateNextKeyFile(config.dataDir);
    console.log(`new key ${currentId} in ${join(config.dataDir, KEY_FILE)}; the old key ${previousId} is kept in ${PREVIOUS_KEYS_FILE}`);
    console.log('restart the server so it seals with the new key, then run `tuitbot rotate-key` again to re-seal what exists');
  }
  const secrets = new SecretBox(loadEncryptionKey(config, log));
  const report = rotateSecrets(config.dataDir, secrets);
  console.log(`re-sealed under key ${report.keyId}: ${report.management} value(s) in management.db, ${report.tenants.resealed} in ${report.tenants.done} tenant DB(s)`);
  if (report.tenants.busy.length > 0) {
    console.log(`${report.tenants.busy.length} tenant DB(s) were in use; they re-seal their tokens when they read them, or run this again later:`);
    for (const id of report.tenants.busy) console.log(`  ${id}`);
  }
  return 0;
}

function requireTenant(registry: TenantRegistry, id: string | undefined): TenantRecord {
  if (!id) throw new UsageError('a tenant id is required');
  const tenant = registry.get(id);
  if (!tenant) throw new UsageError(`no tenant ${id}`);
  return tenant;
}

function printTable(all: TenantRecord[]): void {
  const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  console.log(['id'.padEnd(36), 'status'.padEnd(11), 'next alarm'.padEnd(24), 'last active'].join('  '));
  for (const t of all) {
    console.log([t.id, t.status.padEnd(11), iso(t.nextAlarmAt).padEnd(24), iso(t.lastActiveAt)].join('  '));
  }
  console.log(`${all.length} tenant(s)`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`tuitbot: ${(error as Error).message}\n${USAGE}`);
    } else console.error(error);
    process.exit(2);
  },
);
