/**
 * The supervisor's backup timer: one pass (`run.ts`) every `intervalMs`, counted from the newest
 * management backup so that restarts (deploys) neither skip a day nor back up on every start.
 */
import type { Logger } from 'pino';
import { listBackups, managementBackupDir } from './files.js';
import { backupEverything, type BackupDeps, type BackupReport } from './run.js';

export interface BackupSchedule {
  /** Runs a pass now (or joins the one running). */
  runNow(): Promise<BackupReport>;
  /** Stops the timer; a pass in progress stops after its current tenant. */
  stop(): Promise<void>;
}

export function startBackupSchedule(deps: BackupDeps & { intervalMs: number; log: Logger; firstDelayMs?: number }): BackupSchedule {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<BackupReport> | null = null;

  const arm = () => {
    if (abort.signal.aborted || deps.intervalMs <= 0) return;
    const newest = listBackups(managementBackupDir(deps.dataDir))[0]?.at;
    const now = Date.now();
    const due = newest === undefined ? now : newest + deps.intervalMs;
    // Never at the very start: the server has better things to do while it comes up.
    const delay = Math.min(Math.max(due - now, deps.firstDelayMs ?? 60_000), 2 ** 31 - 1);
    timer = setTimeout(() => void runNow().catch(() => {}), delay);
    timer.unref();
  };

  const runNow = (): Promise<BackupReport> => {
    if (timer) clearTimeout(timer);
    timer = null;
    running ??= backupEverything(deps, { signal: abort.signal })
      .then((report) => {
        const count = (status: string) => report.outcomes.filter((o) => o.status === status).length;
        const failed = report.outcomes.filter((o) => o.status === 'failed' || o.status === 'busy');
        const slowest = Math.max(0, ...report.outcomes.filter((o) => o.via === 'file').map((o) => o.ms));
        deps.log.info({ ms: report.ms, done: count('done'), unchanged: count('unchanged'), busy: count('busy'), failed: count('failed'), slowestInlineCopyMs: slowest }, 'backups done');
        for (const outcome of failed) deps.log.warn({ target: outcome.target, status: outcome.status, error: outcome.error }, 'backup not made');
        return report;
      })
      .finally(() => {
        running = null;
        arm();
      });
    return running;
  };

  arm();
  return {
    runNow,
    async stop() {
      abort.abort();
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
