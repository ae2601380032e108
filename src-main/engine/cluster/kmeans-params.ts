/**
 * KMeans's parameters, its `_parameter_constraints`: type, range and default of each (scikit-learn's defaults, but
 * k = 10). The estimator validates with them, the experiment table (schema/param-table.ts) composes them into
 * the CLI's flags, the form and the run records. Pure zod: the renderer bundles it.
 */
import { int, num, seed, type ParamsOf } from '../schema/constraints';

export const KMEANS_PARAMS = {
  /** Number of clusters (≤ the number of samples, checked at fit). */
  k: int(2, 1000).default(10),
  /** Restarts from different k-means++ seedings; the one with the lowest inertia is kept. */
  nInit: int(1, 1000).default(10),
  /** Lloyd iterations per restart. */
  maxIter: int(1, 100_000).default(300),
  /** Relative tolerance: stop when the squared centre shift is below tol × the mean feature variance. */
  tol: num(0, 1).default(1e-4),
  seed: seed().default(0),
};

export type KMeansParams = ParamsOf<typeof KMEANS_PARAMS>;
