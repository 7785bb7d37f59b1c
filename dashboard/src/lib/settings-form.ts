/**
 * The settings form, derived from the settings themselves: GET /api/settings lists every setting by its dotted
 * key with its value (defaults included), so each one gets a control by the shape of its default value, and a
 * section by its key's first part. A new setting in the tenant shows up here without a dashboard change.
 */
export type Control = 'text' | 'textarea' | 'number' | 'checkbox' | 'lines' | 'json' | 'select';

export interface FieldSpec {
  key: string;
  label: string;
  control: Control;
  options?: readonly string[];
  hint?: string;
}

export interface SectionSpec {
  id: string;
  title: string;
  fields: FieldSpec[];
}

const SECTION_TITLES: Record<string, string> = {
  business: 'Business profile',
  persona: 'Content persona',
  automation: 'Automation',
  limits: 'Safety and limits',
  pacing: 'Pacing',
  schedule: 'Schedule',
  scoring: 'Scoring',
  discovery: 'Discovery',
  intervals: 'Intervals',
  retention: 'Data retention',
};

const LONG_TEXT = /description|audience|voice|style/;
const SELECTS: Record<string, readonly string[]> = { mode: ['autopilot', 'composer'] };
const HINTS: Record<string, string> = {
  mode: 'Autopilot acts on its own within your limits; composer only drafts, you post.',
  approval_mode: 'Queue every reply and post for your approval first.',
  timezone: 'An IANA time zone such as Europe/Paris; days and schedules use it.',
  'schedule.preferred_times': 'One HH:MM per line, or "auto". Empty: post at intervals.',
  'schedule.active_days': 'One per line: mon, tue, wed, thu, fri, sat, sun.',
  'limits.product_mention_ratio': 'The share of replies that may mention your product (0 to 1).',
};

function sectionOf(key: string): string {
  if (!key.includes('.')) return key === 'timezone' ? 'schedule' : 'automation';
  return key.slice(0, key.indexOf('.'));
}

/** A setting's name as the settings page shows it (`business.product_name` → "Product name"). */
export function settingLabel(key: string): string {
  const last = key.slice(key.lastIndexOf('.') + 1).replaceAll('_', ' ');
  return last[0]!.toUpperCase() + last.slice(1);
}

function controlOf(key: string, defaultValue: unknown): Control {
  if (SELECTS[key]) return 'select';
  if (typeof defaultValue === 'boolean') return 'checkbox';
  if (typeof defaultValue === 'number') return 'number';
  if (Array.isArray(defaultValue)) return 'lines';
  if (defaultValue !== null && typeof defaultValue === 'object') return 'json';
  return LONG_TEXT.test(key) ? 'textarea' : 'text';
}

export function buildSections(defaults: Record<string, unknown>): SectionSpec[] {
  const sections = new Map<string, SectionSpec>();
  for (const id of Object.keys(SECTION_TITLES)) sections.set(id, { id, title: SECTION_TITLES[id]!, fields: [] });
  for (const [key, value] of Object.entries(defaults)) {
    const id = sectionOf(key);
    if (!sections.has(id)) sections.set(id, { id, title: settingLabel(id), fields: [] });
    sections.get(id)!.fields.push({ key, label: settingLabel(key), control: controlOf(key, value), ...(SELECTS[key] && { options: SELECTS[key] }), ...(HINTS[key] && { hint: HINTS[key] }) });
  }
  return [...sections.values()].filter((section) => section.fields.length > 0);
}

/** A value as the text its control edits. */
export function toText(control: Control, value: unknown): string | boolean {
  if (control === 'checkbox') return value === true;
  if (value === null || value === undefined) return '';
  if (control === 'lines') return (value as unknown[]).join('\n');
  if (control === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

/** The text of a control as the value the API takes; `undefined` when it cannot be read (reported locally). */
export function fromText(control: Control, text: string | boolean, defaultValue: unknown): { value: unknown } | { problem: string } {
  if (control === 'checkbox') return { value: text === true };
  const raw = String(text);
  if (control === 'number') {
    if (raw.trim() === '') return { value: null };
    const n = Number(raw);
    return Number.isFinite(n) ? { value: n } : { problem: 'must be a number' };
  }
  if (control === 'lines') return { value: raw.split('\n').map((line) => line.trim()).filter(Boolean) };
  if (control === 'json') {
    try {
      return { value: raw.trim() === '' ? null : (JSON.parse(raw) as unknown) };
    } catch {
      return { problem: 'is not valid JSON' };
    }
  }
  // An emptied optional text goes back to its default (null), an emptied required one stays '' for the server.
  return { value: raw === '' && defaultValue === null ? null : raw };
}
