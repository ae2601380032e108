/**
 * GaussianMixture's parameters, its `_parameter_constraints` (scikit-learn's defaults; k = 1 as there). The
 * estimator validates with them, the experiment table (schema/param-table.ts) composes them. Pure zod.
 */
import { z } from 'zod';
import { described, int, num, seed, type ParamsOf } from '../schema/constraints';

/** The shape of each component's covariance. */
export const COVARIANCE_TYPES = ['full', 'diag', 'spherical'] as const;
export type CovarianceType = (typeof COVARIANCE_TYPES)[number];
/** Initial responsibilities: one-hot from k-means labels (KMeans with nInit = 1), or random rows summing to 1. */
export const GMM_INITS = ['kmeans', 'random'] as const;

// Each described parameter reaches the CLI (flag, help), the form and the run displays through one line of the
// experiment table (schema/param-table.ts: fromEstimator).
export const GMM_PARAMS = {
  /** Number of mixture components (≤ the number of samples, checked at fit). */
  k: int(1, 1000).default(1),
  covarianceType: described(z.enum(COVARIANCE_TYPES, { error: `must be one of ${COVARIANCE_TYPES.join(', ')}` }).default('full'), {
    label: 'Covariance',
    formLabel: 'Covariance type',
    help: 'GMM covariance type (the shape of each component)',
  }),
  regCovar: described(num(0, 1).default(1e-6), { label: 'Covariance regularisation', help: 'GMM: added to the covariance diagonals' }),
  maxIter: described(int(1, 100_000).default(100), {
    label: 'GMM max iterations',
    formLabel: 'Max EM iterations',
    help: 'GMM EM iterations per initialisation',
  }),
  tol: described(num(0, 1).default(1e-3), {
    label: 'GMM tolerance',
    formLabel: 'Tolerance',
    help: 'GMM tolerance: change of the lower bound (mean log-likelihood per sample) to stop',
  }),
  nInit: described(int(1, 100).default(1), {
    label: 'GMM n_init',
    formLabel: 'n_init',
    help: 'GMM initialisations (EM runs), the best likelihood is kept',
  }),
  /** Seed of the k-means / random initialisation. */
  seed: seed().default(0),
  initParams: z.enum(GMM_INITS, { error: `must be one of ${GMM_INITS.join(', ')}` }).default('kmeans'),
};

export type GaussianMixtureParams = ParamsOf<typeof GMM_PARAMS>;
