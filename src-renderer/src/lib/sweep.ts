// Sweeps in the UI: the seeds and grid fields of New experiment read as values (each value checked by its
// parameter's own schema, the same one the engine uses), and how a sweep's numbers read (mean ± sd).
import type { MeanSd, SweepRow } from '@contract';
import { paramKind, paramSchemaFor, PARAM_NAMES, specOf, taskParamNames, type ParamName } from '@contract/params';
import { MAX_SEEDS, MAX_SWEEP_RUNS } from '@contract/sweep';
import { formNumber, readField, type Task } from './experiment';
import { duration, paramLabel, paramValue } from './format';

export { DEFAULT_MAX_RUNS, MAX_SEEDS, MAX_SWEEP_RUNS, sweepRunCount } from '@contract/sweep';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const seedSchema = paramSchemaFor('seed', 'kmeans');

/** One seed's text checked by the seed parameter's schema; decimal only, as the CLI reads it ("0x10" is not 16). */
function readSeed(token: string): Parsed<number> {
  const checked = seedSchema.safeParse(formNumber(token));
  return checked.success
    ? { ok: true, value: checked.data as number }
    : { ok: false, error: `${token}: ${checked.error.issues[0].message}` };
}

/** "0, 1, 2", a range "0-4", or both ("0-2, 7"): distinct seeds, in the order given. */
export function parseSeeds(text: string): Parsed<number[]> {
  const tokens = text.split(/[,\s]+/).filter((t) => t !== '');
  if (!tokens.length) return { ok: false, error: 'list at least one seed' };
  const seeds: number[] = [];
  for (const token of tokens) {
    const range = /^(\d+)\s*(?:-|\.\.)\s*(\d+)$/.exec(token);
    if (range) {
      const [from, to] = [readSeed(range[1]), readSeed(range[2])];
      if (!from.ok) return from;
      if (!to.ok) return to;
      if (to.value < from.value) return { ok: false, error: `${token}: a range goes up (${range[2]}-${range[1]}?)` };
      if (to.value - from.value >= MAX_SEEDS) return { ok: false, error: `${token}: more than ${MAX_SEEDS} seeds` };
      for (let s = from.value; s <= to.value; s++) seeds.push(s);
    } else {
      const seed = readSeed(token);
      if (!seed.ok) return seed;
      seeds.push(seed.value);
    }
  }
  const twice = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (twice !== undefined) return { ok: false, error: `seed ${twice} is listed twice` };
  if (seeds.length > MAX_SEEDS) return { ok: false, error: `${seeds.length} seeds: at most ${MAX_SEEDS}` };
  return { ok: true, value: seeds };
}

/** The run-limit field: a whole number from 1 to MAX_SWEEP_RUNS (the engine's hard maximum). */
export function parseMaxRuns(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { ok: false, error: 'the run limit is a whole number of runs' };
  const n = Number(trimmed);
  if (n < 1 || n > MAX_SWEEP_RUNS) return { ok: false, error: `the run limit is from 1 to ${MAX_SWEEP_RUNS.toLocaleString('en')} runs` };
  return { ok: true, value: n };
}

/** The seeds field's text for "the first n seeds". */
export const firstSeeds = (n: number): string => (n <= 1 ? '0' : `0-${n - 1}`);

// ---- The grid: rows of (parameter, its values).

export interface GridRow {
  param: ParamName | '';
  /** Values as typed: "8, 10, 12"; lists (layer sizes) separated by ";"; choices "full, diag". */
  text: string;
}

/** The parameters a grid row can vary for a task: every one the task takes, but the seed (that is the seeds field). */
export const gridParams = (task: Task): ParamName[] => taskParamNames(task).filter((name) => name !== 'seed');

/** A list parameter's values are lists themselves ("500, 500, 2000; 64, 64"): they are separated by semicolons. */
export const valueSeparator = (param: ParamName): RegExp => (paramKind(param) === 'list' ? /\s*;\s*/ : /[,;\s]+/);

/** What one value of a grid row reads as, checked by its parameter's schema for this task. */
function readGridValue(param: ParamName, token: string, task: Task): Parsed<unknown> {
  // The parameter's "unset" word (off, auto, k…) means null where null is a setting.
  const unset = specOf(param).unset?.toLowerCase();
  const read = unset !== undefined && token.toLowerCase() === unset ? { value: null } : readField(param, token, task);
  if ('error' in read) return { ok: false, error: `${token}: ${read.error}` };
  const checked = paramSchemaFor(param, task).safeParse(read.value);
  return checked.success ? { ok: true, value: checked.data } : { ok: false, error: `${token}: ${checked.error.issues[0].message}` };
}

/** A grid row's values, or the first problem with it in one line. */
export function parseGridRow(row: GridRow, task: Task): Parsed<unknown[]> {
  if (row.param === '') return { ok: false, error: 'pick a parameter' };
  if (!PARAM_NAMES.includes(row.param)) return { ok: false, error: `unknown parameter ${row.param}` };
  if (!gridParams(task).includes(row.param)) return { ok: false, error: `${paramLabel(row.param)} is not a parameter of this task` };
  const tokens = row.text
    .split(valueSeparator(row.param))
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (!tokens.length) return { ok: false, error: 'list at least one value' };
  const values: unknown[] = [];
  for (const token of tokens) {
    const value = readGridValue(row.param, token, task);
    if (!value.ok) return value;
    if (values.some((v) => JSON.stringify(v) === JSON.stringify(value.value))) return { ok: false, error: `${token} is listed twice` };
    values.push(value.value);
  }
  return { ok: true, value: values };
}

// ---- How a sweep's numbers and combinations read.

export type SweepMetric = 'accuracy' | 'nmi' | 'ari' | 'silhouette' | 'totalMs';

/** The label scores, the label-free silhouette (all a sweep of an unlabelled data set has), and the time. */
export const SWEEP_METRICS: { key: SweepMetric; label: string }[] = [
  { key: 'accuracy', label: 'Accuracy' },
  { key: 'nmi', label: 'NMI' },
  { key: 'ari', label: 'ARI' },
  { key: 'silhouette', label: 'Silhouette' },
  { key: 'totalMs', label: 'Time' },
];

/** The metric a sweep's best row is chosen by: the mean accuracy, or the mean silhouette when no row has labels. */
export const bestMetric = (rows: Pick<SweepRow, 'accuracy'>[]): SweepMetric =>
  rows.some((r) => r.accuracy.mean !== null) || rows.length === 0 ? 'accuracy' : 'silhouette';

export const metricName = (metric: SweepMetric): string => SWEEP_METRICS.find((m) => m.key === metric)!.label;

/** One number of a metric as the tables show it: accuracy in %, NMI and ARI to 4 places, time as a duration. */
export function metricText(metric: SweepMetric, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (metric === 'accuracy') return `${(value * 100).toFixed(2)}%`;
  if (metric === 'totalMs') return duration(value);
  return value.toFixed(4);
}

/** "55.12% ± 1.30" (the sd in the mean's unit, percentage points for accuracy); the mean alone when n < 2. */
export function meanSdText(metric: SweepMetric, ms: MeanSd | null | undefined): string {
  if (!ms || ms.mean === null) return '—';
  const mean = metricText(metric, ms.mean);
  if (ms.sd === null) return mean;
  const sd = metric === 'accuracy' ? (ms.sd * 100).toFixed(2) : metric === 'totalMs' ? duration(ms.sd) : ms.sd.toFixed(4);
  return `${mean} ± ${sd}`;
}

/** A varied value as a table cell shows it ("500, 500, 2000", "on", "full"). */
export const valueText = (param: string, value: unknown): string => paramValue(param, value);

/** A combination in one line: "k (clusters) 8 · Covariance diag". */
export const combinationText = (values: Record<string, unknown>): string =>
  Object.entries(values)
    .map(([param, value]) => `${paramLabel(param)} ${valueText(param, value)}`)
    .join(' · ') || 'base settings';
