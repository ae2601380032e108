/**
 * Umap's parameters, its `_parameter_constraints` (umap-learn's names and defaults). The estimator validates with
 * them (plus the checks that depend on the data: neighbours and components below the number of points, minDist
 * within the spread), the experiment table (schema/param-table.ts) composes them. Pure zod.
 */
import { z } from 'zod';
import { int, num, rate, seed, type ParamsOf } from '../schema/constraints';

/** Initial layouts: the normalised graph Laplacian's eigenvectors (umap-learn's default), a PCA, or random. */
export const UMAP_INITS = ['spectral', 'pca', 'random'] as const;
export type UmapInit = (typeof UMAP_INITS)[number];
export const UMAP_METRICS = ['euclidean'] as const;
export type UmapMetric = (typeof UMAP_METRICS)[number];
const SPREAD_MAX = 100;
/** Largest embedding dimension. */
export const UMAP_COMPONENTS_MAX = 256;

export const UMAP_PARAMS = {
  /** Size of the local neighbourhood (n_neighbors). */
  nNeighbors: int(2, 200).default(15),
  /** Minimum distance between embedded points (0 packs clusters tightly, as N2D uses); at most the spread. */
  minDist: num(0, SPREAD_MAX).default(0.1),
  /** Dimension of the embedding. */
  nComponents: int(1, UMAP_COMPONENTS_MAX).default(2),
  /** Optimisation epochs; null = umap-learn's default (500 up to 10,000 points, else 200). */
  nEpochs: int(1, 10_000).nullable().default(null),
  metric: z.enum(UMAP_METRICS, { error: "only 'euclidean' is supported" }).default('euclidean'),
  /** Scale of the embedded points. */
  spread: rate(SPREAD_MAX).default(1),
  init: z.enum(UMAP_INITS, { error: `must be one of ${UMAP_INITS.join(', ')}` }).default('spectral'),
  /** Negative samples per positive sample. */
  negativeSampleRate: int(0, 100).default(5),
  seed: seed().default(0),
};

export type UmapParams = ParamsOf<typeof UMAP_PARAMS>;
