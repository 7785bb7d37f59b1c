#!/usr/bin/env node
/**
 * `tuitbot`: the one binary of the product.
 *
 *   tuitbot serve [--cloud]                       run the supervisor (HTTP, tenants, scheduler, backups)
 *   tuitbot migrate [--tenants]                   migrate management.db (and every tenant DB)
 *   tuitbot tenants list [--json] [--usage]       every tenant: status, account, plan, size (and usage)
 *   tuitbot tenants show <id|email>               one tenant with its account, crashes, usage and backups
 *   tuitbot tenants release <id|email>            lift a quarantine
 *   tuitbot tenants suspend <id|email>            stop a tenant (no activation; requests answer 410)
 *   tuitbot tenants resume <id|email>             undo a suspension
 *   tuitbot tenants purge <id|email> --yes        delete a tenant's DB and backups for good
 *   tuitbot invite create [--email <address>]     a signup link for REGISTRATION=invite
 *   tuitbot rotate-key [--generate]               re-seal every secret under the current key
 *   tuitbot backup [--tenant <id|email>]          back up management.db and every tenant DB now
 *   tuitbot restore <id|email> [--from <file>]    put a tenant's newest (or the given) backup back
 *   tuitbot export --tenant <id|email> [--format json] [--passphrase-file <f>] [--out <file>]
 *   tuitbot import --tenant <id|email> <file> [--passphrase-file <f>] [--replace]
 *
 * Configuration comes from the environment (see .env.example). The commands that touch tenant files
 * work beside a running server: see docs/operations.md.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { listBackups, tenantBackupDir } from './backups/files.js';
import { holdTenant, isFileFree, TenantStillActiveError } from './backups/hold.js';
import { RestoreError, restoreTenant } from './backups/restore.js';
import { backupEverything, type BackupOutcome } from './backups/run.js';
import { isBusy } from './backups/snapshot.js';
import { findTenant, purgeTenantFiles, resumeTenant, summarize, suspendTenant, type TenantSummary } from './backups/tenant-admin.js';
import { exportTenantJson, importTenant } from '../tenant-worker/api/export.js';

const USAGE = `usage:
  tuitbot serve [--cloud]
  tuitbot migrate [--tenants]
  tuitbot tenants list [--json] [--usage]
  tuitbot tenants show <id|email>
  tuitbot tenants release|suspend|resume <id|email>
  tuitbot tenants purge <id|email> --yes
  tuitbot invite create [--email <address>]
  tuitbot rotate-key [--generate]
  tuitbot backup [--tenant <id|email>]
  tuitbot restore <id|email> [--from <file>] [--wait <seconds>]
  tuitbot export --tenant <id|email> [--format json] [--passphrase-file <file>] [--out <file>]
  tuitbot import --tenant <id|email> <file> [--passphrase-file <file>] [--replace] [--wait <seconds>]`;

class UsageError extends Error {}

type Options = {
  cloud?: boolean;
  tenants?: boolean;
  json?: boolean;
  usage?: boolean;
  email?: string;
  generate?: boolean;
  tenant?: string;
  format?: string;
  'passphrase-file'?: string;
  out?: string;
  from?: string;
  replace?: boolean;
  yes?: boolean;
  wait?: string;
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      cloud: { type: 'boolean' },
      tenants: { type: 'boolean' },
      json: { type: 'boolean' },
      usage: { type: 'boolean' },
      email: { type: 'string' },
      generate: { type: 'boolean' },
      tenant: { type: 'string' },
      format: { type: 'string' },
      'passphrase-file': { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      replace: { type: 'boolean' },
      yes: { type: 'boolean' },
      wait: { type: 'string' },
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
      return tenants(config, sub, arg, values);
    case 'invite':
      // `tuitbot invite` alone is the older spelling of `invite create`.
      if (sub !== undefined && sub !== 'create') throw new UsageError(`unknown invite subcommand "${sub}"`);
      return invite(config, values.email ?? null);
    case 'rotate-key':
      return rotateKey(config, values.generate ?? false);
    case 'backup':
      return backup(config, values.tenant);
    case 'restore':
      return restore(config, sub, values);
    case 'export':
      return exportCommand(config, values);
    case 'import':
      return importCommand(config, sub, values);
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

async function tenants(config: Config, sub: string | undefined, idOrEmail: string | undefined, options: Options): Promise<number> {
  const db = openManagement(config);
  try {
    const registry = new TenantRegistry(db, config.dataDir);
    const tenant = () => requireTenant(db, registry, idOrEmail);
    switch (sub) {
      case 'list': {
        const all = registry.list().map((record) => summarize(db, registry, record, { usage: options.usage ?? false }));
        if (options.json) console.log(JSON.stringify(all, null, 2));
        else printTable(all, options.usage ?? false);
        return 0;
      }
      case 'show': {
        const record = tenant();
        const backups = listBackups(tenantBackupDir(config.dataDir, record.id)).map(({ name, bytes }) => ({ name, bytes }));
        console.log(JSON.stringify({ ...summarize(db, registry, record, { usage: true }), crashes: registry.crashes(record.id), backups }, null, 2));
        return 0;
      }
      case 'release': {
        const record = tenant();
        if (!registry.release(record.id)) {
          console.error(`tenant ${record.id} is not quarantined (status: ${record.status})`);
          return 1;
        }
        console.log(`tenant ${record.id} released; it wakes on its next alarm or request`);
        return 0;
      }
      case 'suspend': {
        const record = tenant();
        if (!suspendTenant(registry, record.id)) {
          console.error(`tenant ${record.id} is not running (status: ${record.status})`);
          return 1;
        }
        console.log(`tenant ${record.id} suspended: it is not woken again and its requests answer 410`);
        if (!isFileFreeNow(registry, record.id)) console.log('it is active in the running server right now; it stops running when that activation ends (idle)');
        return 0;
      }
      case 'resume': {
        const record = tenant();
        const outcome = resumeTenant(db, registry, record.id);
        if (outcome !== 'resumed') {
          console.error(outcome === 'account_deleted' ? `tenant ${record.id} belongs to a deleted account; it stays stopped` : `tenant ${record.id} is not suspended (status: ${record.status})`);
          return 1;
        }
        console.log(`tenant ${record.id} resumed`);
        return 0;
      }
      case 'purge': {
        const record = tenant();
        if (!options.yes) {
          console.error(`this deletes the DB and every backup of tenant ${record.id} for good; run again with --yes`);
          return 1;
        }
        await purgeTenantFiles(registry, config.dataDir, record.id, { timeoutMs: waitMs(options) });
        console.log(`tenant ${record.id}: data and backups deleted (status stays ${record.status})`);
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

function backup(config: Config, only: string | undefined): Promise<number> {
  return withManagement(config, async (db, registry) => {
    const tenantId = only === undefined ? undefined : requireTenant(db, registry, only).id;
    const report = await backupEverything(
      { dataDir: config.dataDir, registry, retention: config.backups },
      tenantId === undefined ? {} : { only: [tenantId], includeManagement: false },
    );
    for (const outcome of report.outcomes) console.log(describeOutcome(outcome));
    const count = (status: string) => report.outcomes.filter((o) => o.status === status).length;
    console.log(`${count('done')} backed up, ${count('unchanged')} unchanged, ${count('busy')} busy, ${count('failed')} failed in ${report.ms} ms`);
    if (count('busy') > 0) console.log('busy tenants are active in the running server, which backs them up itself on its schedule; or run this again when they are idle');
    return count('failed') > 0 ? 1 : 0;
  });
}

function describeOutcome(outcome: BackupOutcome): string {
  const detail = outcome.status === 'done' ? `${outcome.file} (${outcome.bytes} bytes, ${outcome.ms} ms)` : (outcome.error ?? '');
  return `${outcome.target.padEnd(36)}  ${outcome.status.padEnd(9)}  ${detail}`.trimEnd();
}

function restore(config: Config, idOrEmail: string | undefined, options: Options): Promise<number> {
  return withManagement(config, async (db, registry) => {
    const tenant = requireTenant(db, registry, idOrEmail);
    const result = await restoreTenant({ registry, dataDir: config.dataDir }, tenant.id, { from: options.from, timeoutMs: waitMs(options) });
    console.log(`tenant ${tenant.id} restored from ${result.from}`);
    if (result.replacedKeptAt) console.log(`the replaced DB is kept at ${result.replacedKeptAt}`);
    return 0;
  });
}

function exportCommand(config: Config, options: Options): Promise<number> {
  if ((options.format ?? 'json') !== 'json') throw new UsageError('the only export format is json');
  return withManagement(config, async (db, registry) => {
    const tenant = requireTenant(db, registry, options.tenant);
    const passphrase = readPassphrase(options);
    const path = registry.dbPath(tenant.id);
    if (!readdirSync(join(config.dataDir, 'tenants')).includes(`${tenant.id}.db`)) throw new UsageError(`tenant ${tenant.id} has no data yet`);
    let tenantDb;
    try {
      tenantDb = openDatabase(path, 'tenant');
    } catch (error) {
      if (isBusy(error)) {
        console.error(`tenant ${tenant.id} is active in the running server; try again when it is idle, or download the export from its account page`);
        return 1;
      }
      throw error;
    }
    try {
      const text = `${await exportTenantJson(tenantDb, passphrase === null ? null : secretsOf(config).forTenant(tenant.id), { passphrase })}\n`;
      if (options.out) {
        writeFileSync(options.out, text, { mode: 0o600 });
        chmodSync(options.out, 0o600);
        console.error(`exported tenant ${tenant.id} to ${options.out} (${text.length} bytes; secrets ${passphrase === null ? 'excluded' : 'sealed with the passphrase'})`);
      } else process.stdout.write(text);
      return 0;
    } finally {
      checkpointAndClose(tenantDb);
    }
  });
}

function importCommand(config: Config, file: string | undefined, options: Options): Promise<number> {
  if (!file) throw new UsageError('the export file to import is required');
  return withManagement(config, async (db, registry) => {
    const tenant = requireTenant(db, registry, options.tenant);
    const passphrase = readPassphrase(options);
    const content = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const secrets = passphrase === null ? null : secretsOf(config).forTenant(tenant.id);
    // The tenant must not run while its DB is rewritten underneath it.
    const hold = await holdTenant(registry, tenant.id, 'import', { timeoutMs: waitMs(options) });
    try {
      mkdirSync(join(config.dataDir, 'tenants'), { recursive: true });
      const tenantDb = openDatabase(registry.dbPath(tenant.id), 'tenant', { exclusive: true });
      let outcome;
      try {
        outcome = await importTenant(tenantDb, secrets, content, { passphrase, replace: options.replace ?? false, allowPrivateNetwork: config.mode !== 'cloud' });
      } finally {
        checkpointAndClose(tenantDb);
      }
      if (!outcome.ok) {
        console.error(`import refused (${outcome.code}): ${outcome.message}`);
        for (const [path, message] of Object.entries(outcome.fields ?? {})) console.error(`  ${path}: ${message}`);
        return 1;
      }
      // Wake it soon: its imported jobs decide its next alarm.
      registry.setNextAlarm(tenant.id, Date.now());
      const rows = Object.values(outcome.tables).reduce((n, count) => n + count, 0);
      console.log(`imported ${rows} rows into tenant ${tenant.id} (secrets: ${outcome.secrets})`);
      for (const what of outcome.dropped) console.log(`left out: ${what}`);
      return 0;
    } finally {
      hold.release();
    }
  });
}

async function withManagement(config: Config, run: (db: ReturnType<typeof openManagement>, registry: TenantRegistry) => Promise<number>): Promise<number> {
  const db = openManagement(config);
  try {
    return await run(db, new TenantRegistry(db, config.dataDir));
  } finally {
    db.close();
  }
}

function secretsOf(config: Config): SecretBox {
  return new SecretBox(loadEncryptionKey(config, pino({ level: 'warn' })));
}

/** The passphrase file's first line; null without --passphrase-file. */
function readPassphrase(options: Options): string | null {
  const path = options['passphrase-file'];
  if (path === undefined) return null;
  const passphrase = readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
  if (passphrase.length < 8) throw new UsageError(`the passphrase in ${path} must be at least 8 characters`);
  return passphrase;
}

function waitMs(options: Options): number {
  if (options.wait === undefined) return 60_000;
  const seconds = Number(options.wait);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError('--wait takes a number of seconds');
  return seconds * 1000;
}

function isFileFreeNow(registry: TenantRegistry, tenantId: string): boolean {
  try {
    return isFileFree(registry.dbPath(tenantId));
  } catch {
    return true;
  }
}

function requireTenant(db: ReturnType<typeof openManagement>, registry: TenantRegistry, idOrEmail: string | undefined): TenantRecord {
  if (!idOrEmail) throw new UsageError('a tenant id or email address is required');
  const tenant = findTenant(db, registry, idOrEmail);
  if (!tenant) throw new UsageError(`no tenant ${idOrEmail}`);
  return tenant;
}

function printTable(all: TenantSummary[], withUsage: boolean): void {
  const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().slice(0, 16).replace('T', ' '));
  const size = (bytes: number | null) => (bytes === null ? '-' : bytes < 1_048_576 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 1_048_576).toFixed(1)} MiB`);
  const usage = (t: TenantSummary) =>
    t.usage === 'active' ? 'active' : !t.usage ? '-' : `$${(t.usage.xSpendMicrosThisMonth / 1e6).toFixed(2)} X, $${(t.usage.llmCostMicrosThisMonth / 1e6).toFixed(2)} LLM, ${t.usage.postsLast30Days} posts`;
  const columns = ['id'.padEnd(36), 'status'.padEnd(11), 'plan'.padEnd(9), 'size'.padEnd(9), 'last active'.padEnd(16), 'account', ...(withUsage ? ['usage (month; posts 30 d)'] : [])];
  console.log(columns.join('  '));
  for (const t of all) {
    const account = t.email === null ? '-' : `${t.email}${t.accountDeleted ? ' (deleted)' : ''}`;
    console.log([t.id, t.status.padEnd(11), t.plan.padEnd(9), size(t.dbBytes).padEnd(9), iso(t.lastActiveAt).padEnd(16), account.padEnd(withUsage ? 30 : 0), ...(withUsage ? [usage(t)] : [])].join('  ').trimEnd());
  }
  console.log(`${all.length} tenant(s)`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof RestoreError || error instanceof TenantStillActiveError) {
      // Expected refusals: the operator reads why and nothing was changed.
      console.error(`tuitbot: ${error.message}`);
      process.exit(1);
    }
    if (error instanceof ConfigError) console.error(error.message);
    else if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`tuitbot: ${(error as Error).message}\n${USAGE}`);
    } else console.error(error);
    process.exit(2);
  },
);
