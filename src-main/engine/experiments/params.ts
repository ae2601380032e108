import { z } from 'zod';

export const TASKS = ['kmeans', 'ae-kmeans', 'ae-gmm'] as const;
export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

const int = (min: number) => z.number({ error: 'must be a number' }).int('must be an integer').min(min, `must be ≥ ${min}`);

const common = {
  k: int(2).default(10),
  seed: int(0).default(0),
  trainLimit: int(1).optional(),
  testLimit: int(1).optional(),
  backend: z.enum(BACKENDS).default('auto'),
};

const kmeansParams = {
  nInit: int(1).default(10),
  maxIter: int(1).default(300),
  tol: z.number().min(0, 'must be ≥ 0').default(1e-4),
};

/** The study's convolutional autoencoder, trained before clustering its 128-d codes. */
const autoencoderParams = {
  epochs: int(1).default(50),
  batchSize: int(1).default(128),
  learningRate: z.number({ error: 'must be a number' }).gt(0, 'must be > 0').finite().default(0.01),
  valSplit: z.number({ error: 'must be a number' }).min(0, 'must be in [0, 0.5]').max(0.5, 'must be in [0, 0.5]').default(0.1),
  /** Early stopping: epochs without improvement of the validation loss; null = off. */
  patience: int(1).nullable().default(null),
  /** Start from the encoder of an earlier run instead of training one. */
  reuseEncoder: int(1).optional(),
};

export const kmeansTaskSchema = z.strictObject({ task: z.literal('kmeans'), ...common, ...kmeansParams });
export const aeKmeansTaskSchema = z.strictObject({ task: z.literal('ae-kmeans'), ...common, ...autoencoderParams, ...kmeansParams });
export const aeGmmTaskSchema = z.strictObject({
  task: z.literal('ae-gmm'),
  ...common,
  ...autoencoderParams,
  covariance: z.enum(['full', 'diag', 'spherical']).default('full'),
  regCovar: z.number().min(0, 'must be ≥ 0').default(1e-6),
  gmmMaxIter: int(1).default(100),
  gmmTol: z.number().min(0, 'must be ≥ 0').default(1e-3),
  gmmNInit: int(1).default(1),
});

export const experimentSchema = z.discriminatedUnion('task', [kmeansTaskSchema, aeKmeansTaskSchema, aeGmmTaskSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? `unknown task (expected one of: ${TASKS.join(', ')})` : undefined),
});

export type KmeansTaskParams = z.infer<typeof kmeansTaskSchema>;
export type AeKmeansTaskParams = z.infer<typeof aeKmeansTaskSchema>;
export type AeGmmTaskParams = z.infer<typeof aeGmmTaskSchema>;
export type AutoencoderTaskParams = AeKmeansTaskParams | AeGmmTaskParams;
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

/** Validates experiment parameters (from the CLI, IPC or a re-run) and fills in defaults. */
export function parseExperimentParams(input: unknown): ExperimentParams {
  const result = experimentSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ParamError(result.error.issues.map((issue) => ({ param: issue.path.join('.'), message: issue.message })));
}
