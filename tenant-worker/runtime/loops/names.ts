/** The runtime's jobs by name (the `jobs` rows), and how far apart their first runs land. */
export const RUNTIME_JOBS = {
  discovery: { firstRunSpreadMs: 120_000 },
  mentions: { firstRunSpreadMs: 180_000 },
  targets: { firstRunSpreadMs: 300_000 },
  content: { firstRunSpreadMs: 240_000 },
  threads: { firstRunSpreadMs: 600_000 },
  'approval-poster': { firstRunSpreadMs: 30_000 },
  'scheduled-poster': { firstRunSpreadMs: 60_000 },
  analytics: { firstRunSpreadMs: 900_000 },
  cleanup: { firstRunSpreadMs: 3_600_000 },
  strategy: { firstRunSpreadMs: 3_600_000 },
  'approval-reminder': { firstRunSpreadMs: 3_600_000 },
} as const;

export type RuntimeJobName = keyof typeof RUNTIME_JOBS;
export const RUNTIME_JOB_NAMES = Object.keys(RUNTIME_JOBS) as RuntimeJobName[];
