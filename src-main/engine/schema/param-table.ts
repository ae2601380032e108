/**
 * Every experiment parameter, described once: the tasks that take it and how people see it (label, help, CLI flag,
 * form section), composed from the estimators' own parameter schemas (type, constraints and default: their
 * `_parameter_constraints`, in cluster/kmeans-params.ts, cluster/gmm-params.ts, manifold/umap-params.ts,
 * models/training-params.ts, models/dense-autoencoder-params.ts), with the estimator parameter each one sets.
 * Validation (params.ts), the CLI's flags and help (cli/param-options.ts), the New-experiment form
 * (src-renderer/src/lib/experiment.ts), the run displays and the pipeline's stages all read this table.
 * Pure zod: the renderer bundles it.
 */
import { z } from 'zod';
import { BACKEND_NAMES } from '../backend/names';
import { DATASET_NAME_PATTERN, DEFAULT_DATASET, MAX_ROWS } from '../data/dataset';
import { GMM_PARAMS } from '../cluster/gmm-params';
import { KMEANS_PARAMS } from '../cluster/kmeans-params';
import { UMAP_PARAMS } from '../manifold/umap-params';
import { DENSE_AE_PARAMS } from '../models/dense-autoencoder-params';
import { AUGMENT_PARAMS, TRAINING_PARAMS } from '../models/training-params';
import { int, runId, seed, textOf, withDefault } from './constraints';

export { COVARIANCE_TYPES as COVARIANCES } from '../cluster/gmm-params';
export { UMAP_COMPONENTS_MAX, UMAP_INITS } from '../manifold/umap-params';
export { AE_LOSSES } from '../models/dense-autoencoder-params';

/** The experiments, in the order the UI lists them. */
export const TASKS = ['kmeans', 'ae-kmeans', 'ae-gmm', 'n2d', 'n2d-aug', 'pipeline'] as const;
export type TaskName = (typeof TASKS)[number];

export const BACKENDS = BACKEND_NAMES;
/** Pipeline components: the encoder (none = raw pixels), the clusterer, how the data is split between fit and eval. */
export const ENCODERS = ['none', 'conv', 'dense'] as const;
export const CLUSTERERS = ['kmeans', 'gmm'] as const;
export const PROTOCOLS = ['transductive', 'inductive'] as const;
export const MAP2D_METHODS = ['umap', 'pca', 'none'] as const;

/** A limit larger than a data set's split means the whole split; any data set has at most this many rows. */
const MAX_SPLIT_ROWS = MAX_ROWS;

/**
 * N2D trains its autoencoder for 1000 epochs (on a GPU). Clusterbench's default keeps the whole n2d run within
 * 15 minutes on a 2-core machine with the wasm backend: 15 epochs of the 3.3M-parameter autoencoder on 70k images
 * at ≈ 1,600 images/s, then encoding, UMAP, GMM and the 2-D map (about 13.5 minutes in all; see bench/n2d.ts).
 */
export const N2D_DEFAULT_EPOCHS = 15;

/** Sections of the New-experiment form (the cards a field sits in). */
export type ParamSection = 'clustering' | 'training' | 'encoder' | 'umap' | 'data' | 'output';

/** Parameter values as a run, a form or a CLI line holds them (the checks below read only what they need). */
export type ParamValues = Readonly<Record<string, unknown>>;

/** The estimators whose parameters the table composes (and the pipeline's stages build from a run's values). */
export const ESTIMATOR_PARAMS = {
  kmeans: KMEANS_PARAMS,
  gmm: GMM_PARAMS,
  umap: UMAP_PARAMS,
  training: TRAINING_PARAMS,
  // The autoencoder architectures, by the pipeline's `encoder` value (models/registry.ts): the conv one has none.
  conv: {},
  dense: DENSE_AE_PARAMS,
  augment: AUGMENT_PARAMS,
};
export type Estimator = keyof typeof ESTIMATOR_PARAMS;

export interface ParamSpec<S extends z.ZodType = z.ZodType, T extends readonly TaskName[] = readonly TaskName[]> {
  /**
   * Type, constraints and default: `.default(v)` (the engine fills it in), `.nullable().default(null)` (null is a
   * setting, e.g. patience off), or `.optional()` (absent: e.g. all images).
   */
  schema: S;
  /**
   * The estimator parameters this entry sets, where its name differs or is shared: `gmmMaxIter` is the
   * GaussianMixture's `maxIter`, `k` both clusterers' `k`. The table's flat names are those runs are stored with.
   */
  sets?: Partial<Record<Estimator, string>>;
  tasks: T;
  /** Name in run details, comparisons and exports. */
  label: string;
  /** Shorter name inside its form card, where the card already says e.g. "UMAP". */
  formLabel?: string;
  /** What it does, as a phrase: the CLI help and the form hint add the range and the default. */
  help: string;
  /** Unit of a count, named after the range: "≤ 60000 images". */
  unit?: string;
  /** What null or an absent value means: "off", "= k"… (help, form placeholder, run details). */
  unset?: string;
  /** Labels of the values of a choice, in the order the form lists them. */
  choices?: Record<`${z.output<S> & (string | boolean)}`, string>;
  section: ParamSection;
  /** Tucked under "Advanced" where the form has such a card (the pipelines). */
  advanced?: boolean;
  /** false: not part of a task's recipe, a preset leaves it alone (data, seed, backend, the encoder to reuse). */
  preset?: false;
  /** Only when the other components use it, e.g. layers only with the dense encoder. */
  usedWhen?: (params: ParamValues) => boolean;
  cli?: {
    /** Flag name when not the kebab-case name (learningRate → lr). */
    flag?: string;
    /** Placeholder of the value in the help: <n> for integers, <x> for other numbers, <name> for choices… */
    metavar?: string;
    /** An older flag name that still works, not shown in the help. */
    alias?: string;
    /** Help of the --no-… flag of a switch. */
    negate?: string;
  };
}

/**
 * An estimator's own parameter as a table entry: its schema, its description (label, help: constraints.described)
 * and the estimator parameter it sets. The entry adds where it applies (tasks, form section, when it is used).
 */
function fromEstimator<E extends Estimator, N extends keyof (typeof ESTIMATOR_PARAMS)[E] & string>(estimator: E, name: N) {
  const schema = ESTIMATOR_PARAMS[estimator][name] as (typeof ESTIMATOR_PARAMS)[E][N] & z.ZodType;
  const text = textOf(schema);
  if (!text) throw new Error(`${estimator}'s parameter ${name} has no description (constraints.described)`);
  return { schema, sets: { [estimator]: name } as Partial<Record<Estimator, string>>, ...text };
}

/** Keeps a spec's exact types (tasks as a tuple, the value type of its choices). */
const param = <const S extends z.ZodType, const T extends readonly TaskName[]>(spec: ParamSpec<S, T>): ParamSpec<S, T> => spec;

const ALL = TASKS;
const PIPELINES = ['n2d', 'n2d-aug', 'pipeline'] as const;
const AUTOENCODER = ['ae-kmeans', 'ae-gmm', ...PIPELINES] as const;
const KMEANS = ['kmeans', 'ae-kmeans', ...PIPELINES] as const;
const GMM = ['ae-gmm', ...PIPELINES] as const;

// Which components a pipeline run uses; the study's tasks have no such parameters, so every check holds for them.
const hasEncoder = (p: ParamValues): boolean => p.encoder !== 'none';
const denseEncoder = (p: ParamValues): boolean => p.encoder === undefined || p.encoder === 'dense';
const umapOn = (p: ParamValues): boolean => p.umap !== false;
const kmeansClusterer = (p: ParamValues): boolean => p.cluster !== 'gmm';
const gmmClusterer = (p: ParamValues): boolean => p.cluster !== 'kmeans';

/**
 * The table. Its order is the order of a run's stored parameters (and of the CLI help): keep new parameters
 * next to their component. Entries alike in shape (schema, tasks, section, label, help…) are data, one per
 * parameter, and stay apart on purpose.
 */
export const PARAMS = {
  k: param({
    schema: KMEANS_PARAMS.k,
    sets: { kmeans: 'k', gmm: 'k' },
    tasks: ALL,
    section: 'clustering',
    label: 'k (clusters)',
    help: 'number of clusters',
  }),
  seed: param({
    schema: seed().default(0),
    sets: { kmeans: 'seed', gmm: 'seed', umap: 'seed', training: 'seed' },
    tasks: ALL,
    section: 'clustering',
    label: 'Seed',
    help: 'random seed, makes the run reproducible',
    preset: false,
  }),
  trainLimit: param({
    schema: int(1, MAX_SPLIT_ROWS).optional(),
    tasks: ALL,
    section: 'data',
    label: 'Fit subset',
    formLabel: 'Fit subset (training images)',
    help: 'use only the first N training images (rows)',
    unit: 'images',
    unset: 'all',
    preset: false,
  }),
  testLimit: param({
    schema: int(1, MAX_SPLIT_ROWS).optional(),
    tasks: ALL,
    section: 'data',
    label: 'Eval subset',
    formLabel: 'Eval subset (test images)',
    help: 'use only the first N test images (the evaluation set; at least k)',
    unit: 'images',
    unset: 'all',
    preset: false,
  }),
  backend: param({
    schema: z.enum(BACKENDS).default('auto'),
    tasks: ALL,
    section: 'data',
    label: 'Backend',
    help: 'tfjs backend (auto: the fastest, by calibration)',
    preset: false,
  }),
  encoder: param({
    schema: z.enum(ENCODERS).default('dense'),
    tasks: PIPELINES,
    section: 'encoder',
    label: 'Encoder',
    help: "what UMAP and the clusterer see: the raw pixels (none), the codes of the study's conv autoencoder (conv) or of a dense one (dense)",
    choices: { dense: 'Dense autoencoder (N2D)', conv: 'Convolutional autoencoder (study)', none: 'None — raw pixels' },
  }),
  layers: param({
    schema: DENSE_AE_PARAMS.layers,
    sets: { dense: 'layers' },
    tasks: PIPELINES,
    section: 'encoder',
    label: 'Encoder layers',
    formLabel: 'Hidden layers',
    help: 'dense AE hidden layer sizes, input side first (the decoder mirrors them)',
    usedWhen: denseEncoder,
    cli: { metavar: 'sizes' },
  }),
  codeSize: param({
    schema: DENSE_AE_PARAMS.codeSize,
    sets: { dense: 'codeSize' },
    tasks: PIPELINES,
    section: 'encoder',
    label: 'Code size',
    help: 'dense AE code size (a linear layer)',
    usedWhen: denseEncoder,
  }),
  loss: param({
    schema: DENSE_AE_PARAMS.loss,
    sets: { dense: 'loss' },
    tasks: PIPELINES,
    section: 'encoder',
    label: 'Reconstruction loss',
    formLabel: 'Loss',
    help: 'dense AE loss: mse with a linear output, bce with a sigmoid output',
    usedWhen: denseEncoder,
    choices: { mse: 'MSE (linear output)', bce: 'Binary cross-entropy' },
  }),
  // The study's conv autoencoder trains with its settings (ae-kmeans, ae-gmm); the pipelines default to N2D's.
  epochs: param({
    schema: TRAINING_PARAMS.epochs,
    sets: { training: 'epochs' },
    tasks: AUTOENCODER,
    section: 'training',
    label: 'Epochs',
    help: 'autoencoder training epochs',
    usedWhen: hasEncoder,
  }),
  batchSize: param({
    schema: TRAINING_PARAMS.batchSize,
    sets: { training: 'batchSize' },
    tasks: AUTOENCODER,
    section: 'training',
    label: 'Batch size',
    help: 'autoencoder batch size',
    usedWhen: hasEncoder,
  }),
  learningRate: param({
    schema: TRAINING_PARAMS.learningRate,
    sets: { training: 'learningRate' },
    tasks: AUTOENCODER,
    section: 'training',
    label: 'Learning rate',
    help: 'autoencoder learning rate, Adam',
    usedWhen: hasEncoder,
    cli: { flag: 'lr' },
  }),
  valSplit: param({
    schema: TRAINING_PARAMS.valSplit,
    sets: { training: 'valSplit' },
    tasks: AUTOENCODER,
    section: 'training',
    label: 'Validation split',
    help: 'fraction of training images held out for the validation loss',
    usedWhen: hasEncoder,
  }),
  patience: param({
    schema: TRAINING_PARAMS.patience,
    sets: { training: 'patience' },
    tasks: AUTOENCODER,
    section: 'training',
    label: 'Early-stopping patience',
    help: 'early stopping after N epochs without improvement',
    unit: 'epochs',
    unset: 'off',
    advanced: true,
    usedWhen: hasEncoder,
  }),
  reuseEncoder: param({
    /** Start from the autoencoder of an earlier run instead of training one. */
    schema: runId().optional(),
    tasks: AUTOENCODER,
    section: 'encoder',
    label: 'Reused encoder',
    help: 'start from the autoencoder of an earlier run (same architecture) instead of training one',
    preset: false,
    usedWhen: hasEncoder,
    cli: { metavar: 'run-id' },
  }),
  umap: param({
    schema: z.boolean({ error: 'must be true or false' }).default(true),
    tasks: PIPELINES,
    section: 'umap',
    label: 'UMAP',
    help: 'UMAP between the encoder and the clusterer',
    choices: { true: 'On', false: 'Off — cluster the codes' },
    cli: { negate: 'cluster the codes directly' },
  }),
  umapNeighbors: param({
    schema: withDefault(UMAP_PARAMS.nNeighbors, 20),
    sets: { umap: 'nNeighbors' },
    tasks: PIPELINES,
    section: 'umap',
    label: 'UMAP neighbours',
    formLabel: 'Neighbours',
    help: 'UMAP neighbours',
    usedWhen: umapOn,
  }),
  umapMinDist: param({
    // The pipeline keeps UMAP's spread at 1, which bounds min_dist.
    schema: UMAP_PARAMS.minDist.unwrap().max(1, 'must be ≤ 1 (the spread)').default(0),
    sets: { umap: 'minDist' },
    tasks: PIPELINES,
    section: 'umap',
    label: 'UMAP min dist',
    formLabel: 'Min dist',
    help: 'UMAP minimum distance (0 packs clusters tightly)',
    usedWhen: umapOn,
  }),
  umapComponents: param({
    /** Embedding dimension; null = k, as N2D does (the pipeline fills it in). */
    schema: UMAP_PARAMS.nComponents.unwrap().nullable().default(null),
    tasks: PIPELINES,
    section: 'umap',
    label: 'UMAP components',
    formLabel: 'Components',
    help: 'UMAP embedding dimension',
    unset: 'k',
    usedWhen: umapOn,
  }),
  umapEpochs: param({
    schema: UMAP_PARAMS.nEpochs,
    sets: { umap: 'nEpochs' },
    tasks: PIPELINES,
    section: 'umap',
    label: 'UMAP epochs',
    help: 'UMAP layout epochs (auto: 200 above 10,000 points, else 500)',
    unset: 'auto',
    advanced: true,
    usedWhen: umapOn,
  }),
  umapInit: param({
    schema: UMAP_PARAMS.init,
    sets: { umap: 'init' },
    tasks: PIPELINES,
    section: 'umap',
    label: 'UMAP init',
    help: 'UMAP initial layout',
    advanced: true,
    usedWhen: umapOn,
    cli: { metavar: 'method' },
  }),
  protocol: param({
    /**
     * What the unsupervised steps see: 'inductive' fits the autoencoder, UMAP and the clusterer on the training
     * images and applies them to the test images; 'transductive' (N2D's protocol) fits them on training and test
     * images together, without labels. Either way the evaluation is on the test images.
     */
    schema: z.enum(PROTOCOLS).default('inductive'),
    tasks: PIPELINES,
    section: 'clustering',
    label: 'Protocol',
    help: 'what AE, UMAP and clusterer are fitted on: inductive, the training images; transductive, training + test images (without labels)',
    choices: { transductive: 'Transductive', inductive: 'Inductive' },
    cli: { alias: 'umap-protocol' },
  }),
  cluster: param({
    schema: z.enum(CLUSTERERS).default('gmm'),
    tasks: PIPELINES,
    section: 'clustering',
    label: 'Clusterer',
    help: 'pipeline clusterer',
    choices: { gmm: 'Gaussian mixture', kmeans: 'k-means' },
  }),
  nInit: param({
    schema: KMEANS_PARAMS.nInit,
    sets: { kmeans: 'nInit' },
    tasks: KMEANS,
    section: 'clustering',
    label: 'n_init',
    help: 'k-means restarts, the best is kept',
    usedWhen: kmeansClusterer,
  }),
  maxIter: param({
    schema: KMEANS_PARAMS.maxIter,
    sets: { kmeans: 'maxIter' },
    tasks: KMEANS,
    section: 'clustering',
    label: 'Max iterations',
    help: 'k-means iterations per restart',
    usedWhen: kmeansClusterer,
  }),
  tol: param({
    schema: KMEANS_PARAMS.tol,
    sets: { kmeans: 'tol' },
    tasks: KMEANS,
    section: 'clustering',
    label: 'Tolerance',
    help: 'k-means tolerance: relative centre shift to stop',
    usedWhen: kmeansClusterer,
  }),
  covariance: param({
    ...fromEstimator('gmm', 'covarianceType'),
    tasks: GMM,
    section: 'clustering',
    usedWhen: gmmClusterer,
    cli: { metavar: 'type' },
  }),
  regCovar: param({ ...fromEstimator('gmm', 'regCovar'), tasks: GMM, section: 'clustering', usedWhen: gmmClusterer }),
  gmmMaxIter: param({ ...fromEstimator('gmm', 'maxIter'), tasks: GMM, section: 'clustering', usedWhen: gmmClusterer }),
  gmmTol: param({ ...fromEstimator('gmm', 'tol'), tasks: GMM, section: 'clustering', usedWhen: gmmClusterer }),
  gmmNInit: param({ ...fromEstimator('gmm', 'nInit'), tasks: GMM, section: 'clustering', usedWhen: gmmClusterer }),
  map2d: param({
    /** 2-D map of the test images for the UI: a 2-component UMAP of their codes, their PCA, or none. */
    schema: z.enum(MAP2D_METHODS).default('umap'),
    tasks: PIPELINES,
    section: 'output',
    label: '2-D map',
    formLabel: '2-D map (results)',
    help: '2-D map of the test images (shown in the Embedding map)',
    advanced: true,
    choices: { umap: '2-D UMAP', pca: 'PCA', none: 'None' },
    cli: { metavar: 'method' },
  }),
  // Augmentation-invariant training (the n2d-aug preset; DEC-DA's ranges on Fashion-MNIST): models/augment.ts. Last
  // in the table, so that the runs stored before them keep their parameters' order.
  augRotation: param({
    schema: AUGMENT_PARAMS.rotation,
    sets: { augment: 'rotation' },
    tasks: PIPELINES,
    section: 'training',
    label: 'Augmentation: rotation (± degrees)',
    formLabel: 'Random rotation',
    help: 'rotate each training image by a random angle within ± this many degrees (0 = off)',
    unit: 'degrees',
    usedWhen: hasEncoder,
  }),
  augShift: param({
    schema: AUGMENT_PARAMS.shift,
    sets: { augment: 'shift' },
    tasks: PIPELINES,
    section: 'training',
    label: 'Augmentation: shift (± fraction of the size)',
    formLabel: 'Random shift',
    help: 'shift each training image by a random amount within ± this fraction of its size (0 = off)',
    usedWhen: hasEncoder,
  }),
  // Which data set (data/dataset.ts): last too, for the same reason.
  dataset: param({
    schema: z.string().regex(DATASET_NAME_PATTERN, 'must be a data set name (letters, digits, . _ -)').default(DEFAULT_DATASET),
    tasks: ALL,
    section: 'data',
    label: 'Data set',
    help: 'the data set to cluster (clusterbench datasets list)',
    preset: false,
  }),
};

/**
 * The presets: what each task sets differently from the estimators' own defaults (the study's tasks: nothing —
 * the conv autoencoder trains with the study's settings, Adam lr 0.01, batch 128, 50 epochs). One table, so a
 * preset reads as a recipe.
 */
const N2D_TRAINING = { epochs: N2D_DEFAULT_EPOCHS, batchSize: 256, learningRate: 1e-3 };
export const PRESETS: Readonly<Record<TaskName, Readonly<Partial<Record<ParamName, unknown>>>>> = {
  kmeans: {},
  'ae-kmeans': {},
  'ae-gmm': {},
  /** N2D (McConville et al.): its autoencoder's training, no validation split, transductive like the paper. */
  n2d: { ...N2D_TRAINING, valSplit: 0, protocol: 'transductive' },
  /** N2D with batches randomly rotated and shifted (DEC-DA's ranges on Fashion-MNIST). */
  'n2d-aug': { ...N2D_TRAINING, valSplit: 0, protocol: 'transductive', augRotation: 10, augShift: 0.1 },
  /** The free pipeline starts from N2D's training settings, inductive. */
  pipeline: { ...N2D_TRAINING },
};

export type ParamTable = typeof PARAMS;
export type ParamName = keyof ParamTable;
export const PARAM_NAMES = Object.keys(PARAMS) as ParamName[];

/** A spec without its exact types, for code that walks the table. */
export const specOf = (name: ParamName): ParamSpec => PARAMS[name] as ParamSpec;
