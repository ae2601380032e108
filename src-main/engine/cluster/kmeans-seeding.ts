/**
 * Greedy k-means++ seeding (sklearn's `_kmeans_plusplus`) of several restarts in lockstep: each step samples
 * `nTrials` candidates per restart in proportion to the current squared distances, evaluates all candidates of all
 * restarts in one product over the device-resident X, and keeps per restart the candidate that lowers the potential
 * most.
 */
import { throwIfAborted, yieldToEventLoop } from '../abort';
import type { Matrix } from '../types';
import { forEachRow, packRows, type DeviceRows } from './kmeans-device';
import type { Restart } from './kmeans-restart';

/** What the seeding needs from the fit. */
export interface SeedingInput {
  X: Matrix;
  /** X on the device, centred on `mean`. */
  dev: DeviceRows;
  mean: Float64Array;
  k: number;
  /** Candidates per restart and step (sklearn: 2 + ⌊ln k⌋). */
  nTrials: number;
  signal?: AbortSignal;
}

/** Seeding state of the restarts of one batch. */
interface SeedState {
  input: SeedingInput;
  restarts: Restart[];
  /** Per restart: squared distance of every point to its closest center so far. */
  closest: Float64Array[];
  /** Per restart: Σ closest (the k-means++ potential). */
  pot: Float64Array;
  /** Scratch: cumulative sums of one restart's `closest`. */
  cum: Float64Array;
}

/** Seeds `restarts` (sets their k centers and their final potential). */
export async function seedPlusPlus(restarts: Restart[], input: SeedingInput): Promise<void> {
  const n = input.X.rows;
  const st: SeedState = {
    input,
    restarts,
    closest: restarts.map(() => new Float64Array(n)),
    pot: new Float64Array(restarts.length),
    cum: new Float64Array(n),
  };
  await chooseFirstCenters(st);
  for (let c = 1; c < input.k; c++) {
    throwIfAborted(input.signal);
    const candidates = sampleCandidates(st);
    const scores = await input.dev.scores(packRows(input.X.data, input.X.cols, candidates, input.mean), candidates.length);
    const chosen = bestCandidates(st, scores);
    adoptCandidates(st, candidates, chosen, c);
    lowerClosest(st, scores, chosen);
    await yieldToEventLoop();
  }
  for (let m = 0; m < restarts.length; m++) restarts[m].potential = st.pot[m];
}

/** First center of each restart: a point drawn uniformly; sets the distances and potentials it gives. */
async function chooseFirstCenters(st: SeedState): Promise<void> {
  const { X, dev, mean } = st.input;
  const { rows: n, cols: d, data } = X;
  const { restarts, closest, pot } = st;
  const M = restarts.length;
  const norms = dev.norms;
  const first = restarts.map((r) => r.rng.int(n));
  const sc = await dev.scores(packRows(data, d, first, mean), M);
  forEachRow(sc, dev.starts, M, (i, row, off) => {
    for (let m = 0; m < M; m++) {
      const v = Math.max(0, norms[i] + row[off + m]);
      closest[m][i] = v;
      pot[m] += v;
    }
  });
  for (let m = 0; m < M; m++) restarts[m].centers.set(data.subarray(first[m] * d, first[m] * d + d), 0);
}

/** nTrials candidates per restart, sampled ∝ the current squared distance (searchsorted on the cumulative sum, like sklearn). */
function sampleCandidates(st: SeedState): number[] {
  const { nTrials } = st.input;
  const n = st.input.X.rows;
  const { restarts, closest, pot, cum } = st;
  const M = restarts.length;
  const cand = new Array<number>(M * nTrials);
  for (let m = 0; m < M; m++) {
    const cl = closest[m];
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += cl[i];
      cum[i] = acc;
    }
    for (let t = 0; t < nTrials; t++) {
      const v = restarts[m].rng.random() * pot[m];
      cand[m * nTrials + t] = Math.min(searchSortedLeft(cum, v), n - 1);
    }
  }
  return cand;
}

/**
 * The potential each candidate would leave (scores: [rows × M·nTrials] per chunk); per restart the trial with the
 * lowest one, whose potential becomes the restart's.
 */
function bestCandidates(st: SeedState, sc: Float32Array[]): Int32Array {
  const { dev, nTrials } = st.input;
  const { closest, pot } = st;
  const norms = dev.norms;
  const M = st.restarts.length;
  const K = M * nTrials;
  const candPot = new Float64Array(K);
  forEachRow(sc, dev.starts, K, (i, row, off) => {
    const xn = norms[i];
    for (let m = 0; m < M; m++) {
      const cl = closest[m][i];
      const base = m * nTrials;
      for (let t = 0; t < nTrials; t++) {
        const v = Math.max(0, xn + row[off + base + t]);
        candPot[base + t] += v < cl ? v : cl;
      }
    }
  });
  const bestT = new Int32Array(M);
  for (let m = 0; m < M; m++) {
    let bt = 0;
    for (let t = 1; t < nTrials; t++) if (candPot[m * nTrials + t] < candPot[m * nTrials + bt]) bt = t;
    bestT[m] = bt;
    pot[m] = candPot[m * nTrials + bt];
  }
  return bestT;
}

/** Center c of each restart becomes its chosen candidate point. */
function adoptCandidates(st: SeedState, cand: number[], bestT: Int32Array, c: number): void {
  const { X, nTrials } = st.input;
  const { cols: d, data } = X;
  st.restarts.forEach((r, m) => {
    const id = cand[m * nTrials + bestT[m]];
    r.centers.set(data.subarray(id * d, id * d + d), c * d);
  });
}

/** Closest distances after adding the chosen candidates. */
function lowerClosest(st: SeedState, sc: Float32Array[], bestT: Int32Array): void {
  const { dev, nTrials } = st.input;
  const { closest } = st;
  const norms = dev.norms;
  const M = st.restarts.length;
  forEachRow(sc, dev.starts, M * nTrials, (i, row, off) => {
    const xn = norms[i];
    for (let m = 0; m < M; m++) {
      const v = Math.max(0, xn + row[off + m * nTrials + bestT[m]]);
      if (v < closest[m][i]) closest[m][i] = v;
    }
  });
}

/** First index i with cum[i] ≥ v (numpy searchsorted, side='left'); cum.length when none. */
function searchSortedLeft(cum: Float64Array, v: number): number {
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
