/**
 * Gaussian mixture model fitted by expectation–maximisation, mirroring scikit-learn's `GaussianMixture`
 * (covariance types 'full', 'diag' and 'spherical'; k-means or random initial responsibilities; `regCovar` added
 * to the covariance diagonals; convergence on the change of the lower bound; `nInit` restarts keeping the best
 * lower bound).
 *
 * Where the time goes, and how it is spent:
 *  - 'full' E-step (gmm-estep.ts): ‖(x − μₖ)·Pₖ‖² for all points and components (n·d² per component) on the active
 *    tfjs backend, skipping the zero lower triangle of the precision Cholesky Pₖ;
 *  - 'full' M-step (gmm-mstep.ts, gmm-scatter.ts): Σᵢ rᵢₖ (xᵢ − μₖ)(xᵢ − μₖ)ᵀ on the backend, restricted to the
 *    points whose responsibility is not negligible (see {@link PRUNE_RELATIVE}), in the whitened basis of the
 *    previous covariance (float32 accumulation of the raw scatter drifts visibly from sklearn in 128 dimensions);
 *  - everything k × d × d (Cholesky, triangular inverses, log-determinants, basis changes), the log-sum-exp and
 *    the 'diag' / 'spherical' models (O(n·k·d)) run in JavaScript in float64.
 * Awaits `data()` (never dataSync), yields to the event loop between iterations and checks the AbortSignal.
 */
import { throwIfAborted, yieldToEventLoop } from '../abort';
import type { Matrix } from '../types';
import { disposeBlocks, eStep, mean, normalizeLogResp, uploadBlocks, weightedLogProb, type BackendData } from './gmm-estep';
import type { Model } from './gmm-model';
import { mStep } from './gmm-mstep';
import { KMeans } from './kmeans';
import { parseEstimatorParams } from '../schema/constraints';
import { COVARIANCE_TYPES, GMM_PARAMS, type CovarianceType, type GaussianMixtureParams } from './gmm-params';
import { Rng } from '../math/rng';

export { IllDefinedCovarianceError } from './gmm-model';
export { PRUNE_RELATIVE } from './gmm-mstep';

export { COVARIANCE_TYPES, GMM_PARAMS, type CovarianceType, type GaussianMixtureParams };

/** Every parameter at its default (scikit-learn's: k = 1, full covariances, k-means initialisation). */
export const DEFAULT_GMM_PARAMS: Readonly<GaussianMixtureParams> = Object.freeze(parseEstimatorParams('GaussianMixture', GMM_PARAMS));

export interface GmmProgressEvent {
  phase: 'gmm';
  /** EM iteration within the current initialisation (1-based). */
  iter: number;
  /** Lower bound (mean log-likelihood per sample) after this iteration's E-step. */
  lowerBound: number;
  /** 0..1 over all initialisations and iterations (convergence jumps to the end of the initialisation; 1 at the end). */
  fraction: number;
  /** 0-based index of the current initialisation. */
  init: number;
  /** |lower bound − previous lower bound|. */
  change: number;
}

export interface GmmFitOptions {
  onProgress?: (e: GmmProgressEvent) => void;
  signal?: AbortSignal;
  /**
   * Explicit initial responsibilities, n × k row-major (non-negative; rows need not be normalised). When given,
   * `initParams` is not used and a single initialisation is run (every restart would be identical).
   */
  init?: { resp?: Float32Array | Float64Array };
}

function validateMatrix(X: Matrix, what: string, minRows: number): void {
  if (!X || !(X.data instanceof Float32Array)) throw new TypeError(`GaussianMixture.${what}: X.data must be a Float32Array`);
  if (!Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 0 || X.cols < 1)
    throw new RangeError(`GaussianMixture.${what}: X must have an integer rows ≥ 0 and cols ≥ 1, got ${X.rows} × ${X.cols}`);
  if (X.data.length !== X.rows * X.cols)
    throw new RangeError(`GaussianMixture.${what}: X.data has ${X.data.length} values, expected rows × cols = ${X.rows * X.cols}`);
  if (X.rows < minRows) throw new RangeError(`GaussianMixture.${what}: need at least ${minRows} samples, got ${X.rows}`);
  const data = X.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(
        `GaussianMixture.${what}: X contains a non-finite value (${data[i]}) at row ${Math.floor(i / X.cols)}, column ${i % X.cols}`,
      );
    }
  }
}

/** The outcome of one initialisation's EM run. */
interface EmResult {
  model: Model;
  lowerBound: number;
  nIter: number;
  converged: boolean;
}

function checkGivenResp(resp: Float32Array | Float64Array, expected: number): void {
  if (resp.length !== expected)
    throw new RangeError(`GaussianMixture.fit: init.resp must hold n × k = ${expected} values, got ${resp.length}`);
  for (let i = 0; i < resp.length; i++) {
    if (!(resp[i] >= 0) || !Number.isFinite(resp[i]))
      throw new RangeError(`GaussianMixture.fit: init.resp[${i}] = ${resp[i]} is not a finite non-negative number`);
  }
}

export class GaussianMixture {
  readonly params: Readonly<GaussianMixtureParams>;
  /** Mixture weights (k). */
  weights: Float64Array | null = null;
  /** Component means, k × d row-major. */
  means: Float64Array | null = null;
  /** full: k × d × d; diag: k × d; spherical: k (variances). */
  covariances: Float64Array | null = null;
  /** Like sklearn's precisions_cholesky_: full: k × d × d upper triangular with P·Pᵀ = Σ⁻¹; diag: k × d; spherical: k. */
  precisionsCholesky: Float64Array | null = null;
  /** Whether the kept initialisation converged (|Δ lower bound| < tol) within maxIter. */
  converged = false;
  /** EM iterations run by the kept initialisation. */
  nIter = 0;
  /** Lower bound (mean log-likelihood per sample, as sklearn's lower_bound_) of the kept initialisation. */
  lowerBound = -Infinity;
  /** Number of features seen in fit. */
  nFeatures = 0;

  constructor(params: Partial<GaussianMixtureParams> = {}) {
    this.params = Object.freeze(parseEstimatorParams('GaussianMixture', GMM_PARAMS, params));
  }

  async fit(X: Matrix, opts: GmmFitOptions = {}): Promise<this> {
    const p = this.params;
    validateMatrix(X, 'fit', 2);
    if (X.rows < p.k) {
      throw new RangeError(`GaussianMixture.fit: expected n_samples ≥ k, got k = ${p.k} and ${X.rows} samples`);
    }
    const givenResp = opts.init?.resp;
    if (givenResp !== undefined) checkGivenResp(givenResp, X.rows * p.k);
    const { signal } = opts;
    throwIfAborted(signal, 'GaussianMixture.fit was aborted');

    const inits = givenResp ? 1 : p.nInit;
    const seeds = new Rng(p.seed);
    let best: EmResult | null = null;
    const data = p.covarianceType === 'full' ? uploadBlocks(X) : null;
    try {
      for (let init = 0; init < inits; init++) {
        const seed = init === 0 ? p.seed : seeds.nextSeed();
        const resp0 = givenResp ? Float64Array.from(givenResp) : await this.initialResponsibilities(X, seed, signal);
        throwIfAborted(signal, 'GaussianMixture.fit was aborted');
        const result = await this.runEm(X, resp0, data, { ...opts, init, inits });
        if (!best || result.lowerBound > best.lowerBound) best = result;
      }
    } finally {
      disposeBlocks(data);
    }
    const b = best as EmResult;
    this.weights = b.model.weights;
    this.means = b.model.means;
    this.covariances = b.model.covariances;
    this.precisionsCholesky = b.model.precisionsCholesky;
    this.lowerBound = b.lowerBound;
    this.nIter = b.nIter;
    this.converged = b.converged;
    this.nFeatures = X.cols;
    return this;
  }

  /** EM from the initial responsibilities `resp0` until the lower bound changes by less than tol, or maxIter. */
  private async runEm(
    X: Matrix,
    resp0: Float64Array,
    data: BackendData | null,
    run: GmmFitOptions & { init: number; inits: number },
  ): Promise<EmResult> {
    const p = this.params;
    const { init, inits, signal, onProgress } = run;
    const spec = { k: p.k, type: p.covarianceType, reg: p.regCovar };
    let model = await mStep(X, resp0, spec, null);
    let lowerBound = -Infinity;
    let converged = false;
    let nIter = 0;
    for (let iter = 1; iter <= p.maxIter; iter++) {
      throwIfAborted(signal, 'GaussianMixture.fit was aborted');
      const prev = lowerBound;
      const e = await eStep(X, model, data);
      if (!Number.isFinite(e.lowerBound)) {
        throw new Error(
          `GaussianMixture.fit: the lower bound became ${e.lowerBound} at iteration ${iter}; the data may be ` +
            `degenerate — try increasing regCovar (currently ${p.regCovar}) or decreasing k`,
        );
      }
      model = await mStep(X, e.resp, spec, model);
      lowerBound = e.lowerBound;
      nIter = iter;
      const change = Math.abs(lowerBound - prev);
      converged = change < p.tol;
      onProgress?.({
        phase: 'gmm',
        iter,
        lowerBound,
        fraction: (init + (converged ? 1 : iter / p.maxIter)) / inits,
        init,
        change,
      });
      if (converged) break;
      await yieldToEventLoop();
    }
    return { model, lowerBound, nIter, converged };
  }

  private async initialResponsibilities(X: Matrix, seed: number, signal?: AbortSignal): Promise<Float64Array> {
    const n = X.rows;
    const k = this.params.k;
    const resp = new Float64Array(n * k);
    if (this.params.initParams === 'random') {
      const rng = new Rng(seed);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += resp[i * k + c] = rng.random();
        for (let c = 0; c < k; c++) resp[i * k + c] /= s;
      }
      return resp;
    }
    if (k === 1) return resp.fill(1);
    throwIfAborted(signal, 'GaussianMixture.fit was aborted');
    const km = await new KMeans({ k, nInit: 1, seed }).fit(X, { signal });
    const labels = km.labels;
    if (!labels || labels.length !== n) throw new Error('GaussianMixture: k-means initialisation returned no labels');
    for (let i = 0; i < n; i++) resp[i * k + labels[i]] = 1;
    return resp;
  }

  private model(X: Matrix, what: string): Model {
    if (!this.weights || !this.means || !this.covariances || !this.precisionsCholesky)
      throw new Error(`GaussianMixture.${what}: the model is not fitted yet; call fit() first`);
    validateMatrix(X, what, 0);
    if (X.cols !== this.nFeatures)
      throw new RangeError(`GaussianMixture.${what}: X has ${X.cols} features, but the model was fitted on ${this.nFeatures}`);
    return {
      k: this.params.k,
      d: this.nFeatures,
      type: this.params.covarianceType,
      weights: this.weights,
      means: this.means,
      covariances: this.covariances,
      precisionsCholesky: this.precisionsCholesky,
    };
  }

  /** Weighted log-probabilities log πₖ + log N(x | μₖ, Σₖ), n × k. */
  async weightedLogProb(X: Matrix): Promise<Float64Array> {
    return weightedLogProb(X, this.model(X, 'weightedLogProb'), null);
  }

  /** Most probable component per sample. */
  async predict(X: Matrix): Promise<Int32Array> {
    const k = this.params.k;
    const wlp = await weightedLogProb(X, this.model(X, 'predict'), null);
    const out = new Int32Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (wlp[i * k + c] > wlp[i * k + best]) best = c;
      out[i] = best;
    }
    return out;
  }

  /** Posterior probability of each component, n × k row-major (rows sum to 1). */
  async predictProba(X: Matrix): Promise<Float32Array> {
    const k = this.params.k;
    const wlp = await weightedLogProb(X, this.model(X, 'predictProba'), null);
    normalizeLogResp(wlp, X.rows, k);
    return Float32Array.from(wlp, Math.exp);
  }

  /** Per-sample log-likelihood log p(x). */
  async scoreSamples(X: Matrix): Promise<Float64Array> {
    const wlp = await weightedLogProb(X, this.model(X, 'scoreSamples'), null);
    return normalizeLogResp(wlp, X.rows, this.params.k);
  }

  /** Mean per-sample log-likelihood. */
  async score(X: Matrix): Promise<number> {
    return mean(await this.scoreSamples(X));
  }

  /** Number of free parameters (sklearn's `_n_parameters`). */
  nParameters(d: number = this.nFeatures): number {
    const k = this.params.k;
    const cov = this.params.covarianceType === 'full' ? (k * d * (d + 1)) / 2 : this.params.covarianceType === 'diag' ? k * d : k;
    return cov + k * d + k - 1;
  }

  /** Bayesian information criterion: −2·n·score(X) + nParameters·log n (lower is better). */
  async bic(X: Matrix): Promise<number> {
    const s = await this.score(X);
    return -2 * s * X.rows + this.nParameters() * Math.log(X.rows);
  }

  /** Akaike information criterion: −2·n·score(X) + 2·nParameters (lower is better). */
  async aic(X: Matrix): Promise<number> {
    const s = await this.score(X);
    return -2 * s * X.rows + 2 * this.nParameters();
  }
}
