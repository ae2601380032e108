/**
 * The experiments' parameter schemas, built from the one parameter table (param-table.ts), and what is derived
 * from it for every caller: validation (parseExperimentParams, the one `_validate_params`), defaults per task,
 * the range and default texts of the docs, and which parameters a run actually used. Pure zod: the renderer
 * bundles it.
 */
import { z } from 'zod';
import {
  PARAM_NAMES,
  PRESETS,
  specOf,
  TASKS,
  UMAP_COMPONENTS_MAX,
  type Estimator,
  type ParamName,
  type ParamTable,
  type ParamValues,
  type TaskName,
} from './param-table';

export {
  AE_LOSSES,
  BACKENDS,
  CLUSTERERS,
  COVARIANCES,
  ENCODERS,
  MAP2D_METHODS,
  N2D_DEFAULT_EPOCHS,
  PARAM_NAMES,
  PARAMS,
  PRESETS,
  PROTOCOLS,
  TASKS,
  UMAP_INITS,
  specOf,
} from './param-table';
export type { Estimator, ParamName, ParamSection, ParamSpec, ParamValues, TaskName } from './param-table';

/** The names of the parameters a task takes, in the table's order (the order of a run's stored params). */
type NamesOf<T extends TaskName> = { [K in ParamName]: T extends ParamTable[K]['tasks'][number] ? K : never }[ParamName];
type TaskShape<T extends TaskName> = { task: z.ZodLiteral<T> } & { [K in NamesOf<T>]: ParamTable[K]['schema'] };

/** Whether a task takes a parameter. */
export const taskTakes = (task: string, name: ParamName): boolean => (specOf(name).tasks as readonly string[]).includes(task);

/** The parameters a task takes, in the table's order. */
export const taskParamNames = (task: TaskName): ParamName[] => PARAM_NAMES.filter((name) => taskTakes(task, name));

/** The component pipelines (encoder → optional UMAP → k-means or GMM): the tasks that take an encoder. */
export const isPipelineTask = (task: string): boolean => taskTakes(task, 'encoder');

/** Tasks that may train an autoencoder (pipelines do unless their encoder is 'none'). */
export const isAutoencoderTask = (task: string): boolean => taskTakes(task, 'epochs');

/** A parameter's schema for one task: the table's, with the task's preset (PRESETS) as its default where it sets one. */
export function paramSchemaFor(name: ParamName, task: TaskName): z.ZodType {
  const spec = specOf(name);
  const own = PRESETS[task][name];
  return own === undefined ? spec.schema : ((spec.schema as z.ZodDefault).unwrap() as z.ZodType).default(own);
}

function taskSchema<T extends TaskName>(task: T) {
  const shape: Record<string, z.ZodType> = { task: z.literal(task) };
  for (const name of taskParamNames(task)) shape[name] = paramSchemaFor(name, task);
  // The shape is built from the table at run time; this states the type the table gives it.
  return z.strictObject(shape) as unknown as z.ZodObject<TaskShape<T>, z.core.$strict>;
}

export const kmeansTaskSchema = taskSchema('kmeans');
export const aeKmeansTaskSchema = taskSchema('ae-kmeans');
export const aeGmmTaskSchema = taskSchema('ae-gmm');
/** Any combination of encoder → UMAP → clusterer; defaults: dense N2D autoencoder, UMAP, GMM, inductive. */
export const pipelineTaskSchema = taskSchema('pipeline');
/**
 * The N2D preset (McConville et al.): dense autoencoder 784-500-500-2000-10 (MSE, Adam 1e-3, batch 256) → UMAP
 * (20 neighbours, min_dist 0, 10 components) → full-covariance GMM, transductive like the paper. Every component
 * can still be changed, as in 'pipeline'.
 */
export const n2dTaskSchema = taskSchema('n2d');
/**
 * N2D with an augmentation-invariant autoencoder (DEC-DA's idea on N2D's recipe): each training batch is randomly
 * rotated (±10°) and shifted (±10 %) before the step; codes, UMAP and GMM as in 'n2d'.
 */
export const n2dAugTaskSchema = taskSchema('n2d-aug');

const TASK_SCHEMAS = {
  kmeans: kmeansTaskSchema,
  'ae-kmeans': aeKmeansTaskSchema,
  'ae-gmm': aeGmmTaskSchema,
  n2d: n2dTaskSchema,
  'n2d-aug': n2dAugTaskSchema,
  pipeline: pipelineTaskSchema,
} satisfies Record<TaskName, z.ZodType>;

export const experimentSchema = z.discriminatedUnion(
  'task',
  [kmeansTaskSchema, aeKmeansTaskSchema, aeGmmTaskSchema, pipelineTaskSchema, n2dTaskSchema, n2dAugTaskSchema],
  {
    error: (issue) => (issue.code === 'invalid_union' ? `unknown task (expected one of: ${TASKS.join(', ')})` : undefined),
  },
);

export type KmeansTaskParams = z.infer<typeof kmeansTaskSchema>;
export type AeKmeansTaskParams = z.infer<typeof aeKmeansTaskSchema>;
export type AeGmmTaskParams = z.infer<typeof aeGmmTaskSchema>;
export type AutoencoderTaskParams = AeKmeansTaskParams | AeGmmTaskParams;
export type PipelineTaskParams = z.infer<typeof pipelineTaskSchema> | z.infer<typeof n2dTaskSchema> | z.infer<typeof n2dAugTaskSchema>;
export type ExperimentParams = z.infer<typeof experimentSchema>;
export type TaskParams<T extends TaskName> = Extract<ExperimentParams, { task: T }>;

/**
 * The parameters of one estimator that a run's values set, under the estimator's own names (the table's `sets`):
 * `estimatorParams('gmm', { gmmMaxIter: 50, covariance: 'diag', k: 10, … })` is `{ maxIter: 50, covarianceType:
 * 'diag', k: 10, … }`. Absent values are left out, so the estimator's defaults apply.
 */
export function estimatorParams(estimator: Estimator, values: ParamValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of PARAM_NAMES) {
    const target = specOf(name).sets?.[estimator];
    if (target !== undefined && values[name] !== undefined) out[target] = values[name];
  }
  return out;
}

/** The table's name of an estimator's parameter (`nNeighbors` of umap → `umapNeighbors`), for messages. */
export function tableParamName(estimator: Estimator, param: string): string | undefined {
  return PARAM_NAMES.find((name) => specOf(name).sets?.[estimator] === param);
}

/** Every parameter of a task at its default (a fresh object: change it freely). Estimators take theirs from here. */
export function taskDefaults<T extends TaskName>(task: T): TaskParams<T> {
  return TASK_SCHEMAS[task].parse({ task }) as TaskParams<T>;
}

export interface ParamIssue {
  /** Parameter name as in the schema (camelCase), empty for the whole object. */
  param: string;
  message: string;
}

export class ParamError extends Error {
  override name = 'ParamError';
  constructor(readonly issues: ParamIssue[]) {
    super(`Invalid parameters — ${issues.map((i) => (i.param ? `${i.param}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/** Test images per cluster below which the metrics say little: a warning, not an error. */
export const MIN_EVAL_IMAGES_PER_CLUSTER = 10;

/**
 * The issue with evaluating k clusters on `count` test images, if any: with fewer images than clusters the
 * cluster → label mapping and every metric are degenerate (one image scores accuracy, NMI and ARI 1). `rows` names
 * them (a features data set's one split: `rows`).
 */
export function evalSetIssue(k: number, count: number, rows = 'test images'): ParamIssue | undefined {
  return count < k ? { param: 'k', message: `${k} clusters for only ${count} ${rows} to evaluate on` } : undefined;
}

/** A warning when `count` test images (or `rows`, scored by `scores`) are too few to measure k clusters reliably. */
export function evalSetWarning(k: number, count: number, rows = 'test images', scores = 'accuracy, NMI and ARI'): string | undefined {
  const enough = MIN_EVAL_IMAGES_PER_CLUSTER * k;
  if (count >= enough) return undefined;
  return `only ${count} ${rows} for ${k} clusters (fewer than ${MIN_EVAL_IMAGES_PER_CLUSTER} × k = ${enough}): ${scores} will be unreliable`;
}

/** Checks between parameters that the schema cannot express. */
function crossParamIssues(params: ExperimentParams): ParamIssue[] {
  const issues: ParamIssue[] = [];
  if (params.testLimit !== undefined && params.testLimit < params.k) {
    issues.push({ param: 'testLimit', message: `must be ≥ k (${params.k}): fewer test images than clusters cannot be evaluated` });
  }
  if (params.task === 'pipeline' || params.task === 'n2d' || params.task === 'n2d-aug') {
    if (params.encoder === 'none' && params.reuseEncoder !== undefined)
      issues.push({ param: 'reuseEncoder', message: 'there is no encoder to reuse with encoder none' });
    if (params.umap && params.umapComponents === null && params.k > UMAP_COMPONENTS_MAX) {
      issues.push({ param: 'umapComponents', message: `defaults to k (${params.k}), above its maximum ${UMAP_COMPONENTS_MAX}: set it` });
    }
  }
  return issues;
}

type Checked = { ok: true; params: ExperimentParams } | { ok: false; issues: ParamIssue[] };

/** Validates experiment parameters against the schema, then against each other; fills in defaults. */
export function checkExperimentParams(input: unknown): Checked {
  const result = experimentSchema.safeParse(input);
  if (!result.success)
    return { ok: false, issues: result.error.issues.map((issue) => ({ param: String(issue.path[0] ?? ''), message: issue.message })) };
  const issues = crossParamIssues(result.data);
  return issues.length ? { ok: false, issues } : { ok: true, params: result.data };
}

/** Validates experiment parameters (from the CLI, IPC or a re-run) and fills in defaults; throws a ParamError. */
export function parseExperimentParams(input: unknown): ExperimentParams {
  const checked = checkExperimentParams(input);
  if (!checked.ok) throw new ParamError(checked.issues);
  return checked.params;
}

// ---- What the docs say about a parameter: its kind, range and default, read from its schema.

/** The schema inside a parameter's schema (through default, nullable, optional). */
function innerSchema(name: ParamName): z.ZodType {
  let s: z.ZodType = specOf(name).schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodNullable || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

/** The number schema of a numeric parameter (of a list's elements for a list). */
function numberSchemaOf(name: ParamName): z.ZodNumber | undefined {
  const s = innerSchema(name);
  const n = s instanceof z.ZodArray ? s.element : s;
  return n instanceof z.ZodNumber ? n : undefined;
}

export type ParamKind = 'int' | 'number' | 'list' | 'choice' | 'switch' | 'text';

/** How a parameter's value is written: which CLI parser and which form control it gets. */
export function paramKind(name: ParamName): ParamKind {
  const s = innerSchema(name);
  if (s instanceof z.ZodArray) return 'list';
  if (s instanceof z.ZodEnum) return 'choice';
  if (s instanceof z.ZodBoolean) return 'switch';
  if (s instanceof z.ZodString) return 'text';
  return numberSchemaOf(name)?.isInt ? 'int' : 'number';
}

/** The values of a choice, in the schema's order. */
export function paramChoices(name: ParamName): string[] {
  const s = innerSchema(name);
  return s instanceof z.ZodEnum ? (s.options as string[]) : [];
}

/** The largest value a numeric parameter (camelCase name) accepts, read from the schema; the same for every task. */
export function paramMax(param: string): number {
  const max = PARAM_NAMES.includes(param as ParamName) ? numberSchemaOf(param as ParamName)?.maxValue : undefined;
  if (typeof max !== 'number') throw new Error(`no numeric parameter ${param}`);
  return max;
}

/**
 * The range of a numeric parameter as the docs write it: "2–1000", "0–0.5", or "≤ 1000" when it starts where such
 * values start anyway (counts at 1, rates just above 0). Empty for run ids, which have no real maximum.
 */
export function paramRange(name: ParamName): string {
  const n = numberSchemaOf(name);
  if (!n) return '';
  const { minimum, exclusiveMinimum, maximum } = z.toJSONSchema(n) as { minimum?: number; exclusiveMinimum?: number; maximum?: number };
  if (maximum === undefined || maximum >= Number.MAX_SAFE_INTEGER) return '';
  const fromStart = (n.isInt && minimum === 1) || exclusiveMinimum === 0;
  const unit = specOf(name).unit ? ` ${specOf(name).unit}` : '';
  return `${paramKind(name) === 'list' ? 'each ' : ''}${fromStart ? `≤ ${maximum}` : `${minimum}–${maximum}`}${unit}`;
}

/** How a value reads in the docs and the form: lists comma-separated, null or absent as the parameter's "unset". */
export function paramValueText(name: ParamName, value: unknown, listSeparator = ','): string {
  if (value === null || value === undefined) return specOf(name).unset ?? '';
  if (Array.isArray(value)) return value.join(listSeparator);
  if (typeof value === 'boolean' && paramKind(name) === 'switch') return value ? 'on' : 'off';
  return String(value);
}

/** A parameter's default for a task (undefined: absent, e.g. all images). */
export function paramDefault(name: ParamName, task: TaskName): unknown {
  return paramSchemaFor(name, task).parse(undefined);
}

/** The default as the docs say it: "10", or "50; n2d, pipeline: 15" where tasks differ. */
export function paramDefaultText(name: ParamName): string {
  const byValue = new Map<string, TaskName[]>();
  for (const task of specOf(name).tasks) {
    const text = paramValueText(name, paramDefault(name, task));
    byValue.set(text, [...(byValue.get(text) ?? []), task]);
  }
  const [first, ...others] = [...byValue.keys()];
  return [first, ...others.map((text) => `${byValue.get(text)!.join(', ')}: ${text}`)].join('; ');
}

// ---- Which parameters a run actually used.

/**
 * Whether a run with these parameters uses this one: its task takes it, the run's components use it (e.g.
 * layers only with the dense encoder), and it is not a training setting of a run that reused an earlier run's
 * encoder (that run trained nothing). Names the table does not know (older runs) count as used.
 */
export function isParamUsed(name: string, params: ParamValues): boolean {
  if (!PARAM_NAMES.includes(name as ParamName)) return true;
  const spec = specOf(name as ParamName);
  if (typeof params.task === 'string' && !taskTakes(params.task, name as ParamName)) return false;
  if (spec.usedWhen && !spec.usedWhen(params)) return false;
  return !(spec.section === 'training' && params.reuseEncoder !== undefined && params.reuseEncoder !== null);
}

/**
 * A run's parameters as they took effect: its stored parameters hold every default (epochs=50 for a run that
 * reused an encoder, GMM settings for a k-means pipeline…); only those it used are kept. `task` stays.
 */
export function effectiveParams(params: ParamValues): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => key === 'task' || isParamUsed(key, params)));
}
