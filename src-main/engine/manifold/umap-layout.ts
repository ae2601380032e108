/**
 * UMAP's layout optimisation (umap-learn's optimize_layout_euclidean): stochastic gradient descent on the fuzzy
 * cross-entropy, edges sampled in proportion to their weight, `negativeSampleRate` negative samples per positive
 * one, a learning rate decaying linearly from its initial value, gradients clipped at ±4. Typed arrays, one
 * synchronous function per epoch, yielding to the event loop between epochs.
 */
import { abortError, yieldToEventLoop } from '../abort';
import type { Rng } from '../math/rng';

export interface Edges {
  head: Int32Array;
  tail: Int32Array;
  epochsPerSample: Float64Array;
}

/** The edges worth sampling in `nEpochs` (weight ≥ max / nEpochs, as umap-learn prunes) and their sampling periods. */
export function edgesFor(heads: Int32Array, tails: Int32Array, weights: Float64Array, nEpochs: number): Edges {
  let max = 0;
  for (let e = 0; e < weights.length; e++) if (weights[e] > max) max = weights[e];
  const threshold = max / nEpochs;
  let m = 0;
  for (let e = 0; e < weights.length; e++) if (weights[e] >= threshold && weights[e] > 0) m++;
  const head = new Int32Array(m);
  const tail = new Int32Array(m);
  const epochsPerSample = new Float64Array(m);
  let at = 0;
  for (let e = 0; e < weights.length; e++) {
    if (!(weights[e] >= threshold && weights[e] > 0)) continue;
    head[at] = heads[e];
    tail[at] = tails[e];
    // n_epochs / (n_epochs · w / max)
    epochsPerSample[at] = max / weights[e];
    at++;
  }
  return { head, tail, epochsPerSample };
}

export interface OptimizeArgs {
  /** The points being placed (moved by the gradient), n × dim. */
  headEmb: Float32Array;
  /** The points they are pulled towards or pushed from: the same array in fit, the fitted embedding in transform. */
  tailEmb: Float32Array;
  /** Rows of tailEmb (the range of the negative samples). */
  nTail: number;
  dim: number;
  edges: Edges;
  nEpochs: number;
  a: number;
  b: number;
  initialAlpha: number;
  negativeSampleRate: number;
  /** Whether an edge's attraction also moves its tail (fit), or only its head (transform: fitted points stay). */
  moveOther: boolean;
  rng: Rng;
  signal?: AbortSignal;
  onEpoch?: (epoch: number) => void;
}

const clip4 = (v: number): number => (v > 4 ? 4 : v < -4 ? -4 : v);

/** State of one layout optimisation: umap-learn's per-edge sampling schedule. */
interface LayoutState {
  headEmb: Float32Array;
  tailEmb: Float32Array;
  head: Int32Array;
  tail: Int32Array;
  epochsPerSample: Float64Array;
  epochOfNextSample: Float64Array;
  epochsPerNegativeSample: Float64Array;
  epochOfNextNegativeSample: Float64Array;
  nTail: number;
  dim: number;
  a: number;
  b: number;
  negativeSampleRate: number;
  moveOther: boolean;
  /** xorshift32 state for the negative samples. */
  rand: number;
}

/**
 * One epoch of umap-learn's optimize_layout_euclidean (single-threaded). A plain synchronous function over typed
 * arrays, so that V8 optimises it as a whole (the async driver around it only yields between epochs).
 */
function layoutEpoch(st: LayoutState, n: number, alpha: number): void {
  const {
    headEmb,
    tailEmb,
    head,
    tail,
    epochsPerSample,
    epochOfNextSample,
    epochsPerNegativeSample,
    epochOfNextNegativeSample,
    nTail,
    dim,
    a,
    b,
    moveOther,
  } = st;
  const m = head.length;
  const twoAB = 2 * a * b;
  const twoGammaB = 2 * b; // repulsion strength γ = 1
  const negatives = st.negativeSampleRate > 0;
  let x = st.rand;
  for (let i = 0; i < m; i++) {
    if (epochOfNextSample[i] > n) continue;
    const jo = head[i] * dim;
    const ko = tail[i] * dim;
    let d2 = 0;
    for (let d = 0; d < dim; d++) {
      const diff = headEmb[jo + d] - tailEmb[ko + d];
      d2 += diff * diff;
    }
    if (d2 > 0) {
      // −2ab·d^(b−1) / (a·d^b + 1), with one pow: d^(b−1) = d^b / d
      const pb = Math.pow(d2, b);
      const coeff = (-twoAB * (pb / d2)) / (a * pb + 1);
      for (let d = 0; d < dim; d++) {
        const g = clip4(coeff * (headEmb[jo + d] - tailEmb[ko + d])) * alpha;
        headEmb[jo + d] += g;
        if (moveOther) tailEmb[ko + d] -= g;
      }
    }
    epochOfNextSample[i] += epochsPerSample[i];
    if (!negatives) continue;
    const nNeg = Math.floor((n - epochOfNextNegativeSample[i]) / epochsPerNegativeSample[i]);
    for (let p = 0; p < nNeg; p++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const oo = ((x >>> 0) % nTail) * dim;
      let s2 = 0;
      for (let d = 0; d < dim; d++) {
        const diff = headEmb[jo + d] - tailEmb[oo + d];
        s2 += diff * diff;
      }
      if (s2 > 0) {
        const coeff = twoGammaB / ((0.001 + s2) * (a * Math.pow(s2, b) + 1));
        for (let d = 0; d < dim; d++) headEmb[jo + d] += clip4(coeff * (headEmb[jo + d] - tailEmb[oo + d])) * alpha;
      }
    }
    if (nNeg > 0) epochOfNextNegativeSample[i] += nNeg * epochsPerNegativeSample[i];
  }
  st.rand = x;
}

/** umap-learn's optimize_layout_euclidean, epoch by epoch, yielding to the event loop in between. */
export async function optimizeLayout(args: OptimizeArgs): Promise<void> {
  const { nEpochs, initialAlpha, signal, onEpoch, edges } = args;
  const st: LayoutState = {
    headEmb: args.headEmb,
    tailEmb: args.tailEmb,
    head: edges.head,
    tail: edges.tail,
    epochsPerSample: edges.epochsPerSample,
    epochOfNextSample: Float64Array.from(edges.epochsPerSample),
    epochsPerNegativeSample: Float64Array.from(edges.epochsPerSample, (e) => e / Math.max(args.negativeSampleRate, 1e-300)),
    epochOfNextNegativeSample: new Float64Array(0),
    nTail: args.nTail,
    dim: args.dim,
    a: args.a,
    b: args.b,
    negativeSampleRate: args.negativeSampleRate,
    moveOther: args.moveOther,
    // negative samples draw from an inline xorshift32 seeded by the run's generator (a method call per draw
    // costs as much as the arithmetic around it)
    rand: args.rng.nextUint32() | 1,
  };
  st.epochOfNextNegativeSample = Float64Array.from(st.epochsPerNegativeSample);
  let lastYield = performance.now();
  for (let n = 0; n < nEpochs; n++) {
    if (signal?.aborted) throw abortError(signal, 'UMAP aborted');
    layoutEpoch(st, n, initialAlpha * (1 - n / nEpochs));
    onEpoch?.(n + 1);
    if (performance.now() - lastYield > 40 || n === nEpochs - 1) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
}
