// The New-experiment form: its fields, defaults, the study's preset, client-side validation mirroring the
// engine's parameter schema (src-main/engine/experiments/params.ts), and the params object sent to runs.start.

export type Task = 'kmeans' | 'ae-kmeans' | 'ae-gmm' | 'n2d' | 'pipeline';
export const TASK_OPTIONS: Task[] = ['kmeans', 'ae-kmeans', 'ae-gmm', 'n2d', 'pipeline'];
export const isPipeline = (task: Task): boolean => task === 'n2d' || task === 'pipeline';
export const ENCODER_OPTIONS = ['dense', 'conv', 'none'] as const;
export const LOSS_OPTIONS = ['mse', 'bce'] as const;
export const PROTOCOL_OPTIONS = ['transductive', 'inductive'] as const;
export const CLUSTER_OPTIONS = ['gmm', 'kmeans'] as const;
export const UMAP_INIT_OPTIONS = ['spectral', 'pca', 'random'] as const;
export const MAP2D_OPTIONS = ['umap', 'pca', 'none'] as const;
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
  // Pipeline / N2D components
  encoder: string;
  /** Comma-separated hidden layer sizes of the dense encoder. */
  layers: string;
  codeSize: string;
  loss: string;
  /** 'true' | 'false' (kept as text like every other field). */
  umap: string;
  umapNeighbors: string;
  umapMinDist: string;
  /** Empty = k. */
  umapComponents: string;
  /** Empty = UMAP's default. */
  umapEpochs: string;
  umapInit: string;
  protocol: string;
  cluster: string;
  map2d: string;
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
  encoder: 'dense',
  layers: '500, 500, 2000',
  codeSize: '10',
  loss: 'mse',
  umap: 'true',
  umapNeighbors: '20',
  umapMinDist: '0',
  umapComponents: '',
  umapEpochs: '',
  umapInit: 'spectral',
  protocol: 'transductive',
  cluster: 'gmm',
  map2d: 'umap',
};

/**
 * N2D's recipe (McConville et al.) as the engine's n2d task defaults it: dense autoencoder 784-500-500-2000-10
 * (MSE, Adam 1e-3, batch 256, 15 epochs here instead of 1000), UMAP with 20 neighbours, min dist 0 and k
 * components, transductive, full-covariance GMM.
 */
export const N2D_PRESET: Partial<FormValues> = {
  k: '10',
  encoder: 'dense',
  layers: '500, 500, 2000',
  codeSize: '10',
  loss: 'mse',
  learningRate: '0.001',
  batchSize: '256',
  epochs: '15',
  valSplit: '0',
  patience: '',
  umap: 'true',
  umapNeighbors: '20',
  umapMinDist: '0',
  umapComponents: '',
  umapEpochs: '',
  umapInit: 'spectral',
  protocol: 'transductive',
  cluster: 'gmm',
  covariance: 'full',
  regCovar: '0.000001',
  gmmNInit: '1',
  gmmMaxIter: '100',
  gmmTol: '0.001',
  map2d: 'umap',
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
const PIPELINE: FieldName[] = [
  'encoder', 'layers', 'codeSize', 'loss', ...AUTOENCODER,
  'umap', 'umapNeighbors', 'umapMinDist', 'umapComponents', 'umapEpochs', 'umapInit', 'protocol',
  'cluster', 'nInit', 'maxIter', 'tol', 'covariance', 'gmmNInit', 'gmmMaxIter', 'gmmTol', 'regCovar', 'map2d',
];

/**
 * Which fields each task takes. The engine's schemas are strict (unknown keys are rejected), so only these are
 * sent. Kept in step with src-main/engine/experiments/params.ts.
 */
export const TASK_FIELDS: Record<Task, FieldName[]> = {
  kmeans: [...COMMON, 'nInit', 'maxIter', 'tol'],
  'ae-kmeans': [...COMMON, ...AUTOENCODER, 'nInit', 'maxIter', 'tol'],
  'ae-gmm': [...COMMON, ...AUTOENCODER, 'covariance', 'gmmNInit', 'gmmMaxIter', 'gmmTol', 'regCovar'],
  n2d: [...COMMON, ...PIPELINE],
  pipeline: [...COMMON, ...PIPELINE],
};

/** The fields a pipeline actually uses with its current components (the others are not sent, defaults apply). */
export function activeFields(values: FormValues): FieldName[] {
  if (!isPipeline(values.task)) return TASK_FIELDS[values.task];
  const enc = values.encoder;
  const umap = values.umap !== 'false';
  const gmm = values.cluster !== 'kmeans';
  return TASK_FIELDS[values.task].filter((f) => {
    if (['layers', 'codeSize', 'loss'].includes(f)) return enc === 'dense';
    if (AUTOENCODER.includes(f)) return enc !== 'none';
    if (['umapNeighbors', 'umapMinDist', 'umapComponents', 'umapEpochs', 'umapInit'].includes(f)) return umap;
    if (['nInit', 'maxIter', 'tol'].includes(f)) return !gmm;
    if (['covariance', 'gmmNInit', 'gmmMaxIter', 'gmmTol', 'regCovar'].includes(f)) return gmm;
    return true;
  });
}

/** A numeric field of the form as the New-experiment screen lays it out. */
export interface NumField {
  field: FieldName;
  label: string;
  hint?: string;
  placeholder?: string;
}

const oneOf = (options: readonly string[], error: string): Rule => (t) => (options.includes(t) ? { value: t } : { error });

/** "500, 500, 2000" → [500, 500, 2000]: 1 – 8 positive integers ≤ 4096. */
const layersRule: Rule = (text) => {
  const parts = text.split(/[,\s]+/).filter((p) => p !== '');
  if (parts.length === 0) return { error: 'needs at least one layer' };
  if (parts.length > 8) return { error: 'at most 8 layers' };
  const sizes: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isFinite(n)) return { error: `"${p}" is not a number` };
    if (!Number.isInteger(n) || n < 1) return { error: 'layer sizes must be positive integers' };
    if (n > 4096) return { error: 'layer sizes must be ≤ 4096' };
    sizes.push(n);
  }
  return { value: sizes };
};

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
  encoder: oneOf(ENCODER_OPTIONS, 'must be dense, conv or none'),
  layers: layersRule,
  codeSize: intRule(1, { max: 4096 }),
  loss: oneOf(LOSS_OPTIONS, 'must be mse or bce'),
  umap: (t) => (t === 'true' || t === 'false' ? { value: t === 'true' } : { error: 'must be on or off' }),
  umapNeighbors: intRule(2),
  umapMinDist: numberRule((n) => (n < 0 || n > 1 ? 'must be between 0 and 1' : undefined)),
  umapComponents: intRule(1, { optional: true }),
  umapEpochs: intRule(1, { optional: true }),
  umapInit: oneOf(UMAP_INIT_OPTIONS, 'must be spectral, pca or random'),
  protocol: oneOf(PROTOCOL_OPTIONS, 'must be transductive or inductive'),
  cluster: oneOf(CLUSTER_OPTIONS, 'must be gmm or kmeans'),
  map2d: oneOf(MAP2D_OPTIONS, 'must be umap, pca or none'),
};

/** Optional fields whose empty value means null to the engine (not "use the default"). */
const EMPTY_IS_NULL: FieldName[] = ['patience', 'umapComponents', 'umapEpochs'];

export interface Validation {
  params: Record<string, unknown>;
  errors: Partial<Record<FieldName, string>>;
  ok: boolean;
}

/** Validates the fields the task takes and builds the params for runs.start. */
export function validate(values: FormValues): Validation {
  const params: Record<string, unknown> = { task: values.task };
  const errors: Partial<Record<FieldName, string>> = {};
  for (const field of activeFields(values)) {
    const result = RULES[field](String(values[field] ?? ''));
    if (result.error) errors[field] = result.error;
    else if (result.value !== undefined) params[field] = result.value;
    else if (EMPTY_IS_NULL.includes(field)) params[field] = null;
  }
  const k = params.k as number | undefined;
  const fit = params.trainLimit as number | undefined;
  if (!errors.k && !errors.trainLimit && k !== undefined && fit !== undefined && k > fit) {
    errors.k = `must be ≤ the fit subset (${fit})`;
  }
  const bs = params.batchSize as number | undefined;
  const val = params.valSplit as number | undefined;
  const transductive = isPipeline(values.task) && params.protocol === 'transductive';
  const aeFit = transductive ? (fit !== undefined && params.testLimit !== undefined ? fit + (params.testLimit as number) : undefined) : fit;
  if (!errors.batchSize && bs !== undefined && aeFit !== undefined && params.reuseEncoder === undefined) {
    const trainCount = aeFit - Math.floor(aeFit * (val ?? 0));
    if (bs > trainCount) errors.batchSize = `must be ≤ the ${trainCount} training images left after the validation split`;
  }
  return { params, errors, ok: Object.keys(errors).length === 0 };
}

/** Training settings that differ between the study's conv autoencoder and the N2D recipe. */
export const TRAINING_FIELDS: FieldName[] = ['epochs', 'batchSize', 'learningRate', 'valSplit', 'patience'];

/** Values when switching task: moving between the study's tasks and the pipelines swaps the training defaults. */
export function valuesForTask(values: FormValues, task: Task): FormValues {
  const next = { ...values, task };
  if (isPipeline(task) === isPipeline(values.task)) return next;
  const preset = isPipeline(task) ? N2D_PRESET : STUDY_PRESET;
  for (const f of TRAINING_FIELDS) next[f] = preset[f] ?? '';
  if (task === 'pipeline') next.valSplit = '0.1';
  return next;
}

/** The preset the toolbar button applies for a task: the study's settings, or N2D's for the pipelines. */
export function presetFor(task: Task): Partial<FormValues> {
  if (!isPipeline(task)) return STUDY_PRESET;
  return task === 'pipeline' ? { ...N2D_PRESET, protocol: 'inductive', valSplit: '0.1' } : N2D_PRESET;
}

/** Form values from a stored run's params (for "re-run with the same settings"). */
export function valuesFromParams(params: Record<string, unknown>): FormValues {
  const values: FormValues = { ...DEFAULTS };
  const task = params.task;
  if (typeof task === 'string' && (TASK_OPTIONS as string[]).includes(task)) values.task = task as Task;
  if (isPipeline(values.task)) Object.assign(values, N2D_PRESET, values.task === 'pipeline' ? { protocol: 'inductive', valSplit: '0.1' } : {});
  for (const field of Object.keys(DEFAULTS) as (keyof FormValues)[]) {
    if (field === 'task') continue;
    const v = params[field];
    if (v === undefined) continue;
    values[field] = v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v);
  }
  if (params.trainLimit === undefined) values.trainLimit = '';
  if (params.testLimit === undefined) values.testLimit = '';
  if (params.reuseEncoder === undefined) values.reuseEncoder = '';
  return values;
}
