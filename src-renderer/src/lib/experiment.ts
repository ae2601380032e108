// The New-experiment form: its fields, defaults, the study's preset, client-side validation mirroring the
// engine's parameter schema (src-main/engine/experiments/params.ts), and the params object sent to runs.start.

export type Task = 'kmeans' | 'ae-kmeans' | 'ae-gmm';
export const TASK_OPTIONS: Task[] = ['kmeans', 'ae-kmeans', 'ae-gmm'];
export const BACKEND_OPTIONS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export const COVARIANCE_OPTIONS = ['full', 'diag', 'spherical'] as const;

/** Form values as typed (numbers as text), so a half-typed value can be shown and explained. */
export interface FormValues {
  task: Task;
  k: string;
  seed: string;
  trainLimit: string;
  testLimit: string;
  backend: string;
  nInit: string;
  maxIter: string;
  tol: string;
  epochs: string;
  batchSize: string;
  learningRate: string;
  valSplit: string;
  patience: string;
  covariance: string;
  regCovar: string;
  gmmNInit: string;
  gmmMaxIter: string;
  gmmTol: string;
  reuseEncoder: string;
}

export type FieldName = Exclude<keyof FormValues, 'task'>;

export const DEFAULTS: FormValues = {
  task: 'kmeans',
  k: '10',
  seed: '0',
  trainLimit: '',
  testLimit: '',
  backend: 'auto',
  nInit: '10',
  maxIter: '300',
  tol: '0.0001',
  epochs: '50',
  batchSize: '128',
  learningRate: '0.01',
  valSplit: '0.1',
  patience: '',
  covariance: 'full',
  regCovar: '0.000001',
  gmmNInit: '1',
  gmmMaxIter: '100',
  gmmTol: '0.001',
  reuseEncoder: '',
};

/**
 * The study's settings: k = 10, 50 epochs, batch 128, learning rate 0.01, 10% validation, n_init 10 (k-means),
 * full covariance. The GMM keeps scikit-learn's defaults (1 initialisation, 100 iterations, tol 1e-3).
 */
export const STUDY_PRESET: Partial<FormValues> = {
  k: '10',
  epochs: '50',
  batchSize: '128',
  learningRate: '0.01',
  valSplit: '0.1',
  nInit: '10',
  covariance: 'full',
  patience: '',
  maxIter: '300',
  tol: '0.0001',
  regCovar: '0.000001',
  gmmNInit: '1',
  gmmMaxIter: '100',
  gmmTol: '0.001',
};

const COMMON: FieldName[] = ['k', 'seed', 'trainLimit', 'testLimit', 'backend'];
const AUTOENCODER: FieldName[] = ['epochs', 'batchSize', 'learningRate', 'valSplit', 'patience', 'reuseEncoder'];

/**
 * Which fields each task takes. The engine's schemas are strict (unknown keys are rejected), so only these are
 * sent. Kept in step with src-main/engine/experiments/params.ts.
 */
export const TASK_FIELDS: Record<Task, FieldName[]> = {
  kmeans: [...COMMON, 'nInit', 'maxIter', 'tol'],
  'ae-kmeans': [...COMMON, ...AUTOENCODER, 'nInit', 'maxIter', 'tol'],
  'ae-gmm': [...COMMON, ...AUTOENCODER, 'covariance', 'gmmNInit', 'gmmMaxIter', 'gmmTol', 'regCovar'],
};

/** A numeric field of the form as the New-experiment screen lays it out. */
export interface NumField {
  field: FieldName;
  label: string;
  hint?: string;
  placeholder?: string;
}

export function taskHasField(task: Task, field: FieldName): boolean {
  return TASK_FIELDS[task].includes(field);
}

type Rule = (text: string) => { value?: unknown; error?: string };

const parseNumber = (text: string): number | undefined => {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : Number.NaN;
};

const intRule = (min: number, opts: { optional?: boolean; max?: number; emptyMeans?: string } = {}): Rule => (text) => {
  const n = parseNumber(text);
  if (n === undefined) return opts.optional ? { value: undefined } : { error: 'required' };
  if (Number.isNaN(n)) return { error: 'must be a number' };
  if (!Number.isInteger(n)) return { error: 'must be an integer' };
  if (n < min) return { error: `must be ≥ ${min}` };
  if (opts.max !== undefined && n > opts.max) return { error: `must be ≤ ${opts.max.toLocaleString('en-US')}` };
  return { value: n };
};

const numberRule = (check: (n: number) => string | undefined): Rule => (text) => {
  const n = parseNumber(text);
  if (n === undefined) return { error: 'required' };
  if (Number.isNaN(n)) return { error: 'must be a number' };
  const error = check(n);
  return error ? { error } : { value: n };
};

const RULES: Record<FieldName, Rule> = {
  k: intRule(2),
  seed: intRule(0),
  trainLimit: intRule(1, { optional: true, max: 60_000 }),
  testLimit: intRule(1, { optional: true, max: 10_000 }),
  backend: (t) => (BACKEND_OPTIONS.includes(t as (typeof BACKEND_OPTIONS)[number]) ? { value: t } : { error: 'unknown backend' }),
  nInit: intRule(1),
  maxIter: intRule(1),
  tol: numberRule((n) => (n < 0 ? 'must be ≥ 0' : undefined)),
  epochs: intRule(1),
  batchSize: intRule(1),
  learningRate: numberRule((n) => (n <= 0 ? 'must be > 0' : undefined)),
  valSplit: numberRule((n) => (n < 0 || n > 0.5 ? 'must be between 0 and 0.5' : undefined)),
  patience: intRule(1, { optional: true }),
  covariance: (t) => (COVARIANCE_OPTIONS.includes(t as (typeof COVARIANCE_OPTIONS)[number]) ? { value: t } : { error: 'must be full, diag or spherical' }),
  regCovar: numberRule((n) => (n < 0 ? 'must be ≥ 0' : undefined)),
  gmmNInit: intRule(1),
  gmmMaxIter: intRule(1),
  gmmTol: numberRule((n) => (n < 0 ? 'must be ≥ 0' : undefined)),
  reuseEncoder: intRule(1, { optional: true }),
};

export interface Validation {
  params: Record<string, unknown>;
  errors: Partial<Record<FieldName, string>>;
  ok: boolean;
}

/** Validates the fields the task takes and builds the params for runs.start. */
export function validate(values: FormValues): Validation {
  const params: Record<string, unknown> = { task: values.task };
  const errors: Partial<Record<FieldName, string>> = {};
  for (const field of TASK_FIELDS[values.task]) {
    const result = RULES[field](String(values[field] ?? ''));
    if (result.error) errors[field] = result.error;
    else if (result.value !== undefined) params[field] = result.value;
    else if (field === 'patience') params.patience = null;
  }
  const k = params.k as number | undefined;
  const fit = params.trainLimit as number | undefined;
  if (!errors.k && !errors.trainLimit && k !== undefined && fit !== undefined && k > fit) {
    errors.k = `must be ≤ the fit subset (${fit})`;
  }
  const bs = params.batchSize as number | undefined;
  const val = params.valSplit as number | undefined;
  if (!errors.batchSize && bs !== undefined && fit !== undefined && params.reuseEncoder === undefined) {
    const trainCount = fit - Math.floor(fit * (val ?? 0));
    if (bs > trainCount) errors.batchSize = `must be ≤ the ${trainCount} training images left after the validation split`;
  }
  return { params, errors, ok: Object.keys(errors).length === 0 };
}

/** Form values from a stored run's params (for "re-run with the same settings"). */
export function valuesFromParams(params: Record<string, unknown>): FormValues {
  const values: FormValues = { ...DEFAULTS };
  const task = params.task;
  if (task === 'kmeans' || task === 'ae-kmeans' || task === 'ae-gmm') values.task = task;
  for (const field of Object.keys(DEFAULTS) as (keyof FormValues)[]) {
    if (field === 'task') continue;
    const v = params[field];
    if (v === undefined) continue;
    values[field] = v === null ? '' : String(v);
  }
  if (params.trainLimit === undefined) values.trainLimit = '';
  if (params.testLimit === undefined) values.testLimit = '';
  if (params.reuseEncoder === undefined) values.reuseEncoder = '';
  return values;
}
