import { z } from 'zod';

export const TASKS = ['kmeans', 'ae-kmeans', 'ae-gmm', 'pipeline', 'n2d'] as const;
export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
/** Pipeline components: the encoder (none = raw pixels), the clusterer, how the data is split between fit and eval. */
export const ENCODERS = ['none', 'conv', 'dense'] as const;
export const CLUSTERERS = ['kmeans', 'gmm'] as const;
export const PROTOCOLS = ['transductive', 'inductive'] as const;
export const AE_LOSSES = ['mse', 'bce'] as const;
export const UMAP_INITS = ['spectral', 'pca', 'random'] as const;
export const MAP2D_METHODS = ['umap', 'pca', 'none'] as const;

// Every number has a maximum, so that no parameter can ask for unbounded work or memory. The maxima live here
// only: the CLI's help reads them back with paramMax().
const num = (min: number, max: number) =>
  z.number({ error: 'must be a number' }).finite('must be a finite number').min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
const int = (min: number, max: number) => num(min, max).int('must be an integer');
/** A positive number (a rate), at most `max`. */
const rate = (max: number) => z.number({ error: 'must be a number' }).finite('must be a finite number').gt(0, 'must be > 0').max(max, `must be ≤ ${max}`);
/** The id of a stored run: an identifier, not an amount of work. */
const runId = () => z.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be ≥ 1');

/** Fashion-MNIST's split sizes: a larger limit would mean the whole split anyway. */
const TRAIN_IMAGES = 60_000;
const TEST_IMAGES = 10_000;

const common = {
  k: int(2, 1000).default(10),
  /** Like scikit-learn's random_state: 0 … 2³² − 1. */
  seed: int(0, 2 ** 32 - 1).default(0),
  trainLimit: int(1, TRAIN_IMAGES).optional(),
  testLimit: int(1, TEST_IMAGES).optional(),
  backend: z.enum(BACKENDS).default('auto'),
};

const kmeansParams = {
  nInit: int(1, 1000).default(10),
  maxIter: int(1, 100_000).default(300),
  tol: num(0, 1).default(1e-4),
};

const EPOCHS_MAX = 10_000;
const BATCH_MAX = 65_536;
const LEARNING_RATE_MAX = 10;

/** The study's convolutional autoencoder, trained before clustering its 128-d codes. */
const autoencoderParams = {
  epochs: int(1, EPOCHS_MAX).default(50),
  batchSize: int(1, BATCH_MAX).default(128),
  learningRate: rate(LEARNING_RATE_MAX).default(0.01),
  valSplit: num(0, 0.5).default(0.1),
  /** Early stopping: epochs without improvement of the validation loss; null = off. */
  patience: int(1, EPOCHS_MAX).nullable().default(null),
  /** Start from the encoder of an earlier run instead of training one. */
  reuseEncoder: runId().optional(),
};

const gmmParams = {
  covariance: z.enum(['full', 'diag', 'spherical']).default('full'),
  regCovar: num(0, 1).default(1e-6),
  gmmMaxIter: int(1, 100_000).default(100),
  gmmTol: num(0, 1).default(1e-3),
  gmmNInit: int(1, 100).default(1),
};

/** UMAP embedding dimension (when set; null means k). */
const UMAP_COMPONENTS_MAX = 256;

interface PipelineDefaults {
  epochs: number;
  valSplit: number;
  protocol: (typeof PROTOCOLS)[number];
}

/**
 * A free combination of components: encoder (none | the study's conv AE | a dense AE of any sizes) → optional
 * UMAP → k-means or GMM. `protocol` says what the unsupervised steps see: 'inductive' fits the autoencoder, UMAP
 * and the clusterer on the training images and applies them to the test images; 'transductive' (N2D's protocol)
 * fits them on training and test images together, without labels. Either way the evaluation is on the test images.
 */
function pipelineShape(d: PipelineDefaults) {
  return {
    ...common,
    encoder: z.enum(ENCODERS).default('dense'),
    /**
     * Dense AE: hidden layer sizes of the encoder (input side first); the decoder mirrors them. At most 4096 wide:
     * 8 such layers already make ≈ 270M weights (≈ 4 GB with their gradients and Adam's state).
     */
    layers: z.array(int(1, 4096), { error: 'must be a list of layer sizes' }).min(1, 'needs at least one layer').max(8, 'at most 8 layers').default([500, 500, 2000]),
    /** Dense AE: size of the (linear) code layer. */
    codeSize: int(1, 4096).default(10),
    /** Dense AE: mse (linear output, N2D) or bce (sigmoid output). */
    loss: z.enum(AE_LOSSES).default('mse'),
    epochs: int(1, EPOCHS_MAX).default(d.epochs),
    batchSize: int(1, BATCH_MAX).default(256),
    learningRate: rate(LEARNING_RATE_MAX).default(1e-3),
    valSplit: num(0, 0.5).default(d.valSplit),
    patience: int(1, EPOCHS_MAX).nullable().default(null),
    /** Start from the autoencoder of an earlier run (same architecture) instead of training one. */
    reuseEncoder: runId().optional(),
    /** UMAP between the encoder and the clusterer. */
    umap: z.boolean({ error: 'must be true or false' }).default(true),
    umapNeighbors: int(2, 200).default(20),
    /** At most the spread (1). */
    umapMinDist: num(0, 1).default(0),
    /** Embedding dimension; null = k, as N2D does. */
    umapComponents: int(1, UMAP_COMPONENTS_MAX).nullable().default(null),
    /** Layout epochs; null = umap-learn's default (200 above 10,000 points, else 500). */
    umapEpochs: int(1, EPOCHS_MAX).nullable().default(null),
    umapInit: z.enum(UMAP_INITS).default('spectral'),
    protocol: z.enum(PROTOCOLS).default(d.protocol),
    cluster: z.enum(CLUSTERERS).default('gmm'),
    ...kmeansParams,
    ...gmmParams,
    /** 2-D map of the test images for the UI: a 2-component UMAP of their codes, their PCA, or none. */
    map2d: z.enum(MAP2D_METHODS).default('umap'),
  };
}

/**
 * N2D trains its autoencoder for 1000 epochs (on a GPU). Clusterbench's default keeps the whole n2d run within
 * 15 minutes on a 2-core machine with the wasm backend: 15 epochs of the 3.3M-parameter autoencoder on 70k images
 * at ≈ 1,600 images/s, then encoding, UMAP, GMM and the 2-D map (about 13.5 minutes in all; see bench/n2d.ts).
 */
export const N2D_DEFAULT_EPOCHS = 15;

export const kmeansTaskSchema = z.strictObject({ task: z.literal('kmeans'), ...common, ...kmeansParams });
export const aeKmeansTaskSchema = z.strictObject({ task: z.literal('ae-kmeans'), ...common, ...autoencoderParams, ...kmeansParams });
export const aeGmmTaskSchema = z.strictObject({
  task: z.literal('ae-gmm'),
  ...common,
  ...autoencoderParams,
  ...gmmParams,
});
/** Any combination of encoder → UMAP → clusterer; defaults: dense N2D autoencoder, UMAP, GMM, inductive. */
export const pipelineTaskSchema = z.strictObject({ task: z.literal('pipeline'), ...pipelineShape({ epochs: N2D_DEFAULT_EPOCHS, valSplit: 0.1, protocol: 'inductive' }) });
/**
 * The N2D preset (McConville et al.): dense autoencoder 784-500-500-2000-10 (MSE, Adam 1e-3, batch 256) → UMAP
 * (20 neighbours, min_dist 0, 10 components) → full-covariance GMM, transductive like the paper. Every component
 * can still be changed, as in 'pipeline'.
 */
export const n2dTaskSchema = z.strictObject({ task: z.literal('n2d'), ...pipelineShape({ epochs: N2D_DEFAULT_EPOCHS, valSplit: 0, protocol: 'transductive' }) });

export const experimentSchema = z.discriminatedUnion('task', [kmeansTaskSchema, aeKmeansTaskSchema, aeGmmTaskSchema, pipelineTaskSchema, n2dTaskSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? `unknown task (expected one of: ${TASKS.join(', ')})` : undefined),
});

export type KmeansTaskParams = z.infer<typeof kmeansTaskSchema>;
export type AeKmeansTaskParams = z.infer<typeof aeKmeansTaskSchema>;
export type AeGmmTaskParams = z.infer<typeof aeGmmTaskSchema>;
export type AutoencoderTaskParams = AeKmeansTaskParams | AeGmmTaskParams;
export type PipelineTaskParams = z.infer<typeof pipelineTaskSchema> | z.infer<typeof n2dTaskSchema>;
export type ExperimentParams = z.infer<typeof experimentSchema>;

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
 * cluster → label mapping and every metric are degenerate (one image scores accuracy, NMI and ARI 1).
 */
export function evalSetIssue(k: number, count: number): ParamIssue | undefined {
  return count < k ? { param: 'k', message: `${k} clusters for only ${count} test images to evaluate on` } : undefined;
}

/** A warning when `count` test images are too few to measure k clusters reliably. */
export function evalSetWarning(k: number, count: number): string | undefined {
  const enough = MIN_EVAL_IMAGES_PER_CLUSTER * k;
  if (count >= enough) return undefined;
  return `only ${count} test images for ${k} clusters (fewer than ${MIN_EVAL_IMAGES_PER_CLUSTER} × k = ${enough}): accuracy, NMI and ARI will be unreliable`;
}

/** Checks between parameters that the schema cannot express. */
function crossParamIssues(params: ExperimentParams): ParamIssue[] {
  const issues: ParamIssue[] = [];
  if (params.testLimit !== undefined && params.testLimit < params.k) {
    issues.push({ param: 'testLimit', message: `must be ≥ k (${params.k}): fewer test images than clusters cannot be evaluated` });
  }
  if (params.task === 'pipeline' || params.task === 'n2d') {
    if (params.encoder === 'none' && params.reuseEncoder !== undefined) issues.push({ param: 'reuseEncoder', message: 'there is no encoder to reuse with encoder none' });
    if (params.umap && params.umapComponents === null && params.k > UMAP_COMPONENTS_MAX) {
      issues.push({ param: 'umapComponents', message: `defaults to k (${params.k}), above its maximum ${UMAP_COMPONENTS_MAX}: set it` });
    }
  }
  return issues;
}

/** Validates experiment parameters (from the CLI, IPC or a re-run) and fills in defaults. */
export function parseExperimentParams(input: unknown): ExperimentParams {
  const result = experimentSchema.safeParse(input);
  if (!result.success) throw new ParamError(result.error.issues.map((issue) => ({ param: String(issue.path[0] ?? ''), message: issue.message })));
  const issues = crossParamIssues(result.data);
  if (issues.length) throw new ParamError(issues);
  return result.data;
}

const TASK_SCHEMAS = [kmeansTaskSchema, aeKmeansTaskSchema, aeGmmTaskSchema, pipelineTaskSchema, n2dTaskSchema];

/** The number schema inside a parameter's schema (through default, nullable, optional; a list's elements). */
function numberSchemaOf(schema: z.ZodType | undefined): z.ZodNumber | undefined {
  let s: unknown = schema;
  for (;;) {
    if (s instanceof z.ZodNumber) return s;
    if (s instanceof z.ZodDefault || s instanceof z.ZodNullable || s instanceof z.ZodOptional) s = s.unwrap();
    else if (s instanceof z.ZodArray) s = s.element;
    else return undefined;
  }
}

/** The largest value a numeric parameter (camelCase name) accepts, read from the schema; the same for every task. */
export function paramMax(param: string): number {
  for (const schema of TASK_SCHEMAS) {
    const max = numberSchemaOf((schema.shape as Record<string, z.ZodType>)[param])?.maxValue;
    if (typeof max === 'number') return max;
  }
  throw new Error(`no numeric parameter ${param}`);
}
