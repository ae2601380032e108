/**
 * The mean silhouette coefficient (Euclidean), as sklearn.metrics.silhouette_score: exact over all rows up to a
 * size, above it over a seeded uniform sample of rows drawn without replacement.
 *
 * Cost: O(m²·d) time for m scored rows of d features (every pair's distance, each pair once) and O(m·(d + k))
 * memory. Where the exact computation stops is a work budget rather than a fixed row count, since a pair costs a
 * d-long dot product plus a constant (square root, two sums): see {@link defaultSilhouetteMaxExact}.
 */
import { throwIfAborted } from '../abort';
import { Rng } from '../math/rng';
import type { Matrix } from '../types';
import { checkClusterCount, checkScoreInput, encodeLabels } from './cluster-labels';
import { gatherRows, silhouetteSamples } from './silhouette-kernel';

export interface SilhouetteOptions {
  /** Rows scored when the matrix has more than `maxExact` rows (default: `maxExact`). */
  sampleSize?: number;
  /** Seed of the sample (default 0). */
  seed?: number;
  /** Largest row count scored exactly (default: {@link defaultSilhouetteMaxExact} of the matrix's columns). */
  maxExact?: number;
  signal?: AbortSignal;
}

export interface SilhouetteResult {
  score: number;
  /** Rows in the sample the score was computed on, or null when every row was scored. */
  sampled: number | null;
}

/**
 * What one pair of rows costs in the exact silhouette, fitted on `npm run bench silhouette` (n = 1k…10k; d = 784,
 * 128, 10) on 2026-12-07 on this project's Intel Xeon 2-core machine: 0.72 ns per feature + 10 ns (square root and
 * two sums). The machine was shared with other jobs (load 6–10), so the fit is of the process's CPU time, which for
 * this single-threaded loop is its wall time on an idle machine: at n = 10,000, 28.5 s for 784-d, 5.1 s for 128-d,
 * 0.86 s for 10-d.
 */
export const PAIR_NS_PER_FEATURE = 0.72;
export const PAIR_NS_FIXED = 10;
/** The exact silhouette is allowed about this long (on that machine) before it samples. */
export const EXACT_BUDGET_MS = 3000;

/**
 * The default `maxExact`: the row count whose exact silhouette takes about {@link EXACT_BUDGET_MS}, at
 * n²/2 pairs × (d · PAIR_NS_PER_FEATURE + PAIR_NS_FIXED) ns (never below 1000 rows). On that machine: 3,231 rows of
 * 784 features (Fashion-MNIST pixels), 7,663 of 128, 18,677 of 10 (autoencoder codes). A fixed row count would be
 * wrong by a factor of 6 between pixels and codes; above the limit a sample of as many rows costs the same ~3 s.
 */
export function defaultSilhouetteMaxExact(cols: number): number {
  const pairNs = cols * PAIR_NS_PER_FEATURE + PAIR_NS_FIXED;
  return Math.max(1000, Math.floor(Math.sqrt((2 * EXACT_BUDGET_MS * 1e6) / pairNs)));
}

/**
 * The rows a sampled silhouette scores: `sampleSize` distinct indices of 0..n-1 drawn uniformly with the engine's
 * Rng(`seed`), in ascending order (exported so that a check can score the same rows elsewhere).
 */
export function silhouetteSampleIndices(n: number, sampleSize: number, seed = 0): Int32Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`silhouette sample: n must be a positive integer, got ${n}`);
  checkCount('sampleSize', sampleSize, 1);
  if (sampleSize > n) throw new RangeError(`silhouette sample: sampleSize ${sampleSize} exceeds the ${n} rows`);
  return new Rng(seed).sampleWithoutReplacement(n, sampleSize).sort();
}

/**
 * Mean silhouette coefficient of `labels` on the rows of `x`, Euclidean, as sklearn.metrics.silhouette_score:
 * rows alone in their cluster count as 0; fewer than 2 or more than n − 1 distinct labels (among the scored rows)
 * throw a RangeError. Up to `maxExact` rows every row is scored; above, a sample of `sampleSize` rows
 * ({@link silhouetteSampleIndices}) — sklearn's `sample_size`, with our own seeded draw (every row, unsampled, when
 * `sampleSize` ≥ n). Yields to the event loop every ~25 ms while it works; rejects with an AbortError when `signal`
 * aborts.
 */
export async function silhouetteScore(x: Matrix, labels: Int32Array, options: SilhouetteOptions = {}): Promise<SilhouetteResult> {
  checkScoreInput('silhouetteScore', x, labels);
  const maxExact = options.maxExact ?? defaultSilhouetteMaxExact(x.cols);
  checkCount('maxExact', maxExact, 1);
  const sampleSize = options.sampleSize ?? maxExact;
  checkCount('sampleSize', sampleSize, 1);
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw new RangeError(`silhouetteScore: seed must be a finite number, got ${seed}`);
  if (x.rows <= maxExact || sampleSize >= x.rows) {
    return { score: await scoreRows(x, labels, null, options.signal), sampled: null };
  }
  const rows = silhouetteSampleIndices(x.rows, sampleSize, seed);
  return { score: await scoreRows(x, labels, rows, options.signal), sampled: sampleSize };
}

/**
 * Mean silhouette over the listed rows only (every row for null), as sklearn's silhouette_score of `X[rows]` with
 * `labels[rows]`: the exact computation whatever the size.
 */
export async function silhouetteOfRows(x: Matrix, labels: Int32Array, rows: Int32Array | null, signal?: AbortSignal): Promise<number> {
  checkScoreInput('silhouetteScore', x, labels);
  return scoreRows(x, labels, rows, signal);
}

async function scoreRows(x: Matrix, labels: Int32Array, rows: Int32Array | null, signal?: AbortSignal): Promise<number> {
  throwIfAborted(signal, 'silhouette cancelled');
  const m = rows === null ? x.rows : rows.length;
  if (rows !== null) {
    for (const r of rows) if (!(r >= 0 && r < x.rows)) throw new RangeError(`silhouetteScore: row ${r} is outside 0..${x.rows - 1}`);
  }
  const picked = rows === null ? labels : Int32Array.from(rows, (r) => labels[r]);
  const { codes, sizes, k } = encodeLabels(picked);
  checkClusterCount('silhouetteScore', k, m, rows === null ? '' : ` (a sample of the ${x.rows})`);
  const data = gatherRows(x.data, x.cols, rows, m);
  const values = await silhouetteSamples({ data, m, d: x.cols, codes, sizes, k }, { signal });
  let sum = 0;
  for (let i = 0; i < m; i++) sum += values[i];
  return sum / m;
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`silhouetteScore: ${name} must be an integer ≥ ${min}, got ${value}`);
}
