/**
 * GaussianMixture's parameters, its `_parameter_constraints` (scikit-learn's defaults; k = 1 as there). The
 * estimator validates with them, the experiment table (schema/paramTable.ts) composes them. Pure zod.
 */
import { z } from 'zod';
import { int, num, seed, type ParamsOf } from '../schema/constraints';

/** The shape of each component's covariance. */
export const COVARIANCE_TYPES = ['full', 'diag', 'spherical'] as const;
export type CovarianceType = (typeof COVARIANCE_TYPES)[number];
/** Initial responsibilities: one-hot from k-means labels (KMeans with nInit = 1), or random rows summing to 1. */
export const GMM_INITS = ['kmeans', 'random'] as const;

export const GMM_PARAMS = {
  /** Number of mixture components (≤ the number of samples, checked at fit). */
  k: int(1, 1000).default(1),
  covarianceType: z.enum(COVARIANCE_TYPES, { error: `must be one of ${COVARIANCE_TYPES.join(', ')}` }).default('full'),
  /** Non-negative regularisation added to the diagonal of every covariance (reg_covar). */
  regCovar: num(0, 1).default(1e-6),
  /** EM iterations per initialisation. */
  maxIter: int(1, 100_000).default(100),
  /** Convergence threshold on the change of the lower bound (mean log-likelihood per sample). */
  tol: num(0, 1).default(1e-3),
  /** Initialisations; the one with the best lower bound is kept. */
  nInit: int(1, 100).default(1),
  /** Seed of the k-means / random initialisation. */
  seed: seed().default(0),
  initParams: z.enum(GMM_INITS, { error: `must be one of ${GMM_INITS.join(', ')}` }).default('kmeans'),
};

export type GaussianMixtureParams = ParamsOf<typeof GMM_PARAMS>;
