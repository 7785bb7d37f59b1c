/**
 * The tenant's runtime settings: one row per setting key in `settings` (JSON value), read as one typed,
 * validated config with defaults.
 *
 * A key is the field's dotted path (`limits.max_replies_per_day`), which is also the path an error is
 * reported under, so the dashboard can put each message next to its field. `timezone` keeps the key
 * action-limits.ts already reads. Keys this module does not know (the LLM's, for one) are left alone.
 *
 * A stored value that no longer validates does not stop the runtime: the loader falls back to that
 * field's default and reports the field, because the defaults are the cautious choice (approval on,
 * small limits) and an automation that silently stops is worse than one that says what it ignored.
 */
import type Database from 'better-sqlite3';
import { IANAZone } from 'luxon';
import * as v from 'valibot';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** "auto" in preferred times stands for these (the reference's defaults, in the tenant's zone). */
export const AUTO_SLOTS = ['09:15', '12:30', '17:00'] as const;

const text = (max: number) => v.pipe(v.string(), v.trim(), v.maxLength(max, `must be at most ${max} characters`));
const int = (min: number, max: number) =>
  v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));
const real = (min: number, max: number) => v.pipe(v.number('must be a number'), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));
const list = (maxItems: number, maxLength: number) =>
  v.pipe(
    v.array(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(maxLength, `must be at most ${maxLength} characters`))),
    v.maxLength(maxItems, `at most ${maxItems} entries`),
  );
const weekday = v.pipe(v.string(), v.toLowerCase(), v.picklist(WEEKDAYS, 'must be one of mon, tue, wed, thu, fri, sat, sun'));
const hhmm = v.pipe(v.string(), v.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM'));
const zone = v.pipe(v.string(), v.check((value) => IANAZone.isValidZone(value), 'must be an IANA time zone such as Europe/Paris'));
const url = v.pipe(v.string(), v.trim(), v.url('must be a URL'), v.maxLength(300));

/** Every known setting key with its schema and default. */
export const SETTINGS = {
  'business.product_name': v.optional(text(100), ''),
  'business.product_description': v.optional(text(1000), ''),
  'business.product_url': v.optional(v.nullable(url), null),
  'business.target_audience': v.optional(text(500), ''),
  'business.product_keywords': v.optional(list(50, 100), []),
  'business.competitor_keywords': v.optional(list(50, 100), []),
  'business.industry_topics': v.optional(list(50, 100), []),

  'persona.brand_voice': v.optional(v.nullable(text(1000)), null),
  'persona.reply_style': v.optional(v.nullable(text(1000)), null),
  'persona.content_style': v.optional(v.nullable(text(1000)), null),
  'persona.opinions': v.optional(list(20, 300), []),
  'persona.experiences': v.optional(list(20, 300), []),
  'persona.content_pillars': v.optional(list(20, 100), []),

  mode: v.optional(v.picklist(['autopilot', 'composer'], 'must be autopilot or composer'), 'autopilot'),
  approval_mode: v.optional(v.boolean('must be true or false'), true),

  // 0 turns an action off; the plan ceiling still caps what is asked for here.
  'limits.max_replies_per_day': v.optional(int(0, 500), 5),
  'limits.max_tweets_per_day': v.optional(int(0, 100), 6),
  'limits.max_threads_per_week': v.optional(int(0, 50), 1),
  'limits.max_replies_per_author_per_day': v.optional(int(1, 50), 1),
  'limits.max_target_replies_per_day': v.optional(int(0, 100), 3),
  'limits.product_mention_ratio': v.optional(real(0, 1), 0.2),
  'limits.banned_phrases': v.optional(list(200, 100), ['check out', 'you should try', 'I recommend', 'link in bio']),

  'pacing.min_delay_seconds': v.optional(int(10, 3600), 45),
  'pacing.max_delay_seconds': v.optional(int(10, 3600), 180),

  // Floors protect the X read budget from a runaway cadence.
  'intervals.discovery_seconds': v.optional(int(300, 86_400), 900),
  'intervals.mentions_seconds': v.optional(int(60, 86_400), 300),
  'intervals.targets_seconds': v.optional(int(300, 86_400), 900),
  'intervals.content_seconds': v.optional(int(900, 604_800), 10_800),
  'intervals.thread_seconds': v.optional(int(86_400, 2_419_200), 604_800),

  timezone: v.optional(zone, 'UTC'),
  'schedule.active_hours_start': v.optional(int(0, 23), 8),
  'schedule.active_hours_end': v.optional(int(0, 23), 22),
  'schedule.active_days': v.optional(v.pipe(v.array(weekday), v.minLength(1, 'at least one day')), [...WEEKDAYS]),
  'schedule.preferred_times': v.optional(v.pipe(v.array(v.union([v.literal('auto'), hhmm], 'must be a time HH:MM or "auto"')), v.maxLength(24)), []),
  'schedule.preferred_times_override': v.optional(v.record(weekday, v.pipe(v.array(hhmm), v.maxLength(24))), {}),
  'schedule.thread_preferred_day': v.optional(v.nullable(weekday), null),
  'schedule.thread_preferred_time': v.optional(hhmm, '10:00'),

  'scoring.threshold': v.optional(int(0, 100), 60),
  'scoring.keyword_relevance_max': v.optional(real(0, 50), 25),
  'scoring.follower_count_max': v.optional(real(0, 50), 15),
  'scoring.recency_max': v.optional(real(0, 50), 10),
  'scoring.engagement_rate_max': v.optional(real(0, 50), 15),
  'scoring.reply_count_max': v.optional(real(0, 50), 15),
  'scoring.content_type_max': v.optional(real(0, 50), 10),

  /** `lang:` operator for discovery searches; null searches every language. */
  'discovery.language': v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[a-z]{2}$/, 'must be a two-letter language code'))), null),
  'retention.days': v.optional(int(7, 3650), 90),

  // Mail the supervisor sends on the tenant's word (supervisor/notifications/); each mail's unsubscribe link turns its key off.
  'notifications.weekly_summary': v.optional(v.boolean('must be true or false'), true),
  'notifications.approval_reminders': v.optional(v.boolean('must be true or false'), true),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
type Flat = { [K in SettingKey]: v.InferOutput<(typeof SETTINGS)[K]> };

const FlatSchema = v.object(SETTINGS);

/** Field path → message. */
export type FieldErrors = Record<string, string>;

export interface Schedule {
  timezone: string;
  activeHoursStart: number;
  activeHoursEnd: number;
  activeDays: Weekday[];
  /** Empty = interval mode for content; "auto" already expanded. */
  preferredTimes: string[];
  preferredTimesOverride: Partial<Record<Weekday, string[]>>;
  threadPreferredDay: Weekday | null;
  threadPreferredTime: string;
}

export interface ScoringWeights {
  threshold: number;
  keywordRelevanceMax: number;
  followerCountMax: number;
  recencyMax: number;
  engagementRateMax: number;
  replyCountMax: number;
  contentTypeMax: number;
}

export interface BusinessProfile {
  productName: string;
  productDescription: string;
  productUrl: string | null;
  targetAudience: string;
  productKeywords: string[];
  competitorKeywords: string[];
  industryTopics: string[];
}

export interface RuntimeConfig {
  business: BusinessProfile;
  persona: {
    brandVoice: string | null;
    replyStyle: string | null;
    contentStyle: string | null;
    opinions: string[];
    experiences: string[];
    contentPillars: string[];
  };
  mode: 'autopilot' | 'composer';
  /** As set by the user. */
  approvalMode: boolean;
  /** What the runtime obeys: composer mode always queues for approval. */
  effectiveApprovalMode: boolean;
  limits: {
    maxRepliesPerDay: number;
    maxTweetsPerDay: number;
    maxThreadsPerWeek: number;
    maxRepliesPerAuthorPerDay: number;
    maxTargetRepliesPerDay: number;
    productMentionRatio: number;
    bannedPhrases: string[];
  };
  pacing: { minDelayMs: number; maxDelayMs: number };
  intervals: { discoveryMs: number; mentionsMs: number; targetsMs: number; contentMs: number; threadMs: number };
  schedule: Schedule;
  scoring: ScoringWeights;
  discovery: { language: string | null };
  retentionDays: number;
  notifications: { weeklySummary: boolean; approvalReminders: boolean };
}

export type SettingsCheck = { ok: true } | { ok: false; errors: FieldErrors };

/** Errors by field path, and the setting keys they belong to. */
function issuesToErrors(issues: readonly v.BaseIssue<unknown>[]): { errors: FieldErrors; keys: Set<string> } {
  const errors: FieldErrors = {};
  const keys = new Set<string>();
  for (const issue of issues) {
    // The first path item is the setting key (it contains dots itself); the rest index into its value.
    const [head, ...rest] = issue.path ?? [];
    const key = head ? String(head.key) : '(settings)';
    keys.add(key);
    errors[[key, ...rest.map((item) => String(item.key))].join('.')] ??= issue.message;
  }
  return { errors, keys };
}

/** The rules between fields; reported on the field the user is most likely to change. */
function crossFieldErrors(flat: Flat): FieldErrors {
  const errors: FieldErrors = {};
  if (flat['pacing.min_delay_seconds'] > flat['pacing.max_delay_seconds']) {
    errors['pacing.min_delay_seconds'] = 'must not be more than the maximum delay';
  }
  const slots = Math.max(
    expandSlots(flat['schedule.preferred_times']).length,
    ...Object.values(flat['schedule.preferred_times_override']).map((times) => times?.length ?? 0),
  );
  if (slots > flat['limits.max_tweets_per_day']) {
    errors['schedule.preferred_times'] = `has ${slots} slots a day but at most ${flat['limits.max_tweets_per_day']} tweets a day are allowed`;
  }
  return errors;
}

function expandSlots(times: readonly string[]): string[] {
  return [...new Set(times.flatMap((time) => (time === 'auto' ? [...AUTO_SLOTS] : [time])))].sort();
}

/** Validates stored or proposed values by key (unknown keys are not ours and are ignored). */
export function checkSettings(values: Partial<Record<string, unknown>>): SettingsCheck {
  const known = Object.fromEntries(SETTING_KEYS.filter((key) => values[key] !== undefined).map((key) => [key, values[key]]));
  const parsed = v.safeParse(FlatSchema, known);
  const errors = parsed.success ? crossFieldErrors(parsed.output) : issuesToErrors(parsed.issues).errors;
  return Object.keys(errors).length === 0 ? { ok: true } : { ok: false, errors };
}

/**
 * Builds the config from raw values by key; invalid fields fall back to their defaults and are
 * reported. Both fields of a broken cross-field rule fall back.
 */
export function parseRuntimeSettings(values: Partial<Record<string, unknown>>): { config: RuntimeConfig; errors: FieldErrors } {
  const known: Record<string, unknown> = Object.fromEntries(SETTING_KEYS.filter((key) => values[key] !== undefined).map((key) => [key, values[key]]));
  let errors: FieldErrors = {};
  let parsed = v.safeParse(FlatSchema, known);
  if (!parsed.success) {
    const invalid = issuesToErrors(parsed.issues);
    errors = invalid.errors;
    for (const key of invalid.keys) delete known[key];
    parsed = v.safeParse(FlatSchema, known);
  }
  if (!parsed.success) throw new Error('runtime settings defaults do not validate'); // a bug in SETTINGS
  let flat = parsed.output;
  const cross = crossFieldErrors(flat);
  if (cross['pacing.min_delay_seconds']) {
    delete known['pacing.min_delay_seconds'];
    delete known['pacing.max_delay_seconds'];
  }
  if (cross['schedule.preferred_times']) {
    delete known['schedule.preferred_times'];
    delete known['schedule.preferred_times_override'];
  }
  if (Object.keys(cross).length > 0) flat = v.parse(FlatSchema, known);
  return { config: toConfig(flat), errors: { ...errors, ...cross } };
}

export function defaultRuntimeConfig(): RuntimeConfig {
  return parseRuntimeSettings({}).config;
}

/** Reads every known key from `settings`; a value that is not JSON counts as invalid. */
export function loadRuntimeConfig(db: Database.Database): { config: RuntimeConfig; errors: FieldErrors } {
  const rows = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings').all();
  const values: Record<string, unknown> = {};
  const unreadable: FieldErrors = {};
  for (const { key, value } of rows) {
    if (!(key in SETTINGS)) continue;
    try {
      values[key] = JSON.parse(value) as unknown;
    } catch {
      unreadable[key] = 'is not valid JSON';
    }
  }
  const { config, errors } = parseRuntimeSettings(values);
  return { config, errors: { ...unreadable, ...errors } };
}

/** What automation still needs from the user before it can do anything useful. */
export function missingSetup(config: RuntimeConfig): FieldErrors {
  const missing: FieldErrors = {};
  if (config.business.productName === '') missing['business.product_name'] = 'is required';
  if (config.business.productKeywords.length + config.business.competitorKeywords.length === 0) {
    missing['business.product_keywords'] = 'at least one keyword is needed for discovery';
  }
  if (config.business.industryTopics.length === 0) missing['business.industry_topics'] = 'at least one topic is needed for tweets and threads';
  return missing;
}

function toConfig(f: Flat): RuntimeConfig {
  const override: Partial<Record<Weekday, string[]>> = {};
  for (const [day, times] of Object.entries(f['schedule.preferred_times_override'])) {
    if (times) override[day as Weekday] = expandSlots(times);
  }
  return {
    business: {
      productName: f['business.product_name'],
      productDescription: f['business.product_description'],
      productUrl: f['business.product_url'],
      targetAudience: f['business.target_audience'],
      productKeywords: f['business.product_keywords'],
      competitorKeywords: f['business.competitor_keywords'],
      industryTopics: f['business.industry_topics'],
    },
    persona: {
      brandVoice: f['persona.brand_voice'],
      replyStyle: f['persona.reply_style'],
      contentStyle: f['persona.content_style'],
      opinions: f['persona.opinions'],
      experiences: f['persona.experiences'],
      contentPillars: f['persona.content_pillars'],
    },
    mode: f.mode,
    approvalMode: f.approval_mode,
    effectiveApprovalMode: f.approval_mode || f.mode === 'composer',
    limits: {
      maxRepliesPerDay: f['limits.max_replies_per_day'],
      maxTweetsPerDay: f['limits.max_tweets_per_day'],
      maxThreadsPerWeek: f['limits.max_threads_per_week'],
      maxRepliesPerAuthorPerDay: f['limits.max_replies_per_author_per_day'],
      maxTargetRepliesPerDay: f['limits.max_target_replies_per_day'],
      productMentionRatio: f['limits.product_mention_ratio'],
      bannedPhrases: f['limits.banned_phrases'],
    },
    pacing: { minDelayMs: f['pacing.min_delay_seconds'] * 1000, maxDelayMs: f['pacing.max_delay_seconds'] * 1000 },
    intervals: {
      discoveryMs: f['intervals.discovery_seconds'] * 1000,
      mentionsMs: f['intervals.mentions_seconds'] * 1000,
      targetsMs: f['intervals.targets_seconds'] * 1000,
      contentMs: f['intervals.content_seconds'] * 1000,
      threadMs: f['intervals.thread_seconds'] * 1000,
    },
    schedule: {
      timezone: f.timezone,
      activeHoursStart: f['schedule.active_hours_start'],
      activeHoursEnd: f['schedule.active_hours_end'],
      activeDays: [...new Set(f['schedule.active_days'])],
      preferredTimes: expandSlots(f['schedule.preferred_times']),
      preferredTimesOverride: override,
      threadPreferredDay: f['schedule.thread_preferred_day'],
      threadPreferredTime: f['schedule.thread_preferred_time'],
    },
    scoring: {
      threshold: f['scoring.threshold'],
      keywordRelevanceMax: f['scoring.keyword_relevance_max'],
      followerCountMax: f['scoring.follower_count_max'],
      recencyMax: f['scoring.recency_max'],
      engagementRateMax: f['scoring.engagement_rate_max'],
      replyCountMax: f['scoring.reply_count_max'],
      contentTypeMax: f['scoring.content_type_max'],
    },
    discovery: { language: f['discovery.language'] },
    retentionDays: f['retention.days'],
    notifications: { weeklySummary: f['notifications.weekly_summary'], approvalReminders: f['notifications.approval_reminders'] },
  };
}
