/** The parameters of a fitted Gaussian mixture as the E- and M-steps pass them around, and the error of a collapsed component. */
import type { CovarianceType } from './gmm-params';

export interface Model {
  k: number;
  d: number;
  type: CovarianceType;
  weights: Float64Array;
  /** k × d */
  means: Float64Array;
  /** full: k × d × d; diag: k × d; spherical: k */
  covariances: Float64Array;
  /** full: k × d × d upper triangular; diag: k × d; spherical: k */
  precisionsCholesky: Float64Array;
  /** full only: lower Cholesky factors L of the covariances (Σ = L·Lᵀ, P = L⁻ᵀ), the next M-step's basis. */
  covCholesky?: Float64Array;
}

/** Thrown when a component's covariance is not positive definite (collapsed or singleton components). */
export class IllDefinedCovarianceError extends Error {
  readonly component: number;
  constructor(component: number, regCovar: number, detail: string) {
    super(
      `Fitting the Gaussian mixture failed because component ${component} has an ill-defined empirical covariance ` +
        `(${detail}; for instance caused by singleton or collapsed samples). Try to decrease the number of ` +
        `components, or increase regCovar (currently ${regCovar}).`,
    );
    this.name = 'IllDefinedCovarianceError';
    this.component = component;
  }
}
