/**
 * The O(m²·d) part of the silhouette: for every row, the sum of its Euclidean distances to the members of each
 * cluster, and from those its coefficient s(i) = (b − a) / max(a, b), exactly as scikit-learn's
 * silhouette_samples (a: mean distance to the other members of its cluster, b: the smallest mean distance to
 * another cluster's members; 0 for a cluster of one row, and 0 where a = b = 0).
 *
 * How it is fast: distances come from the squared norms, ‖xᵢ − xⱼ‖² = ‖xᵢ‖² + ‖xⱼ‖² − 2·xᵢ·xⱼ, and the dot products
 * from a register-blocked kernel (4 × 4 rows at a time, 16 independent sums) over 64 × 64 tiles, so each row read
 * from cache serves several products. Every product of two float32 values is exact in a double and the sums are
 * doubles, so the distances match scikit-learn's float64 computation to ~1e-12 relative (its float32 path rounds
 * them to float32, ~1e-7). Each pair is computed once and added to both rows' sums (the triangle above the
 * diagonal) when the m × k table of sums fits in {@link MAX_SUM_ENTRIES}; otherwise tile rows are finished one
 * panel at a time, computing each pair twice but holding only a panel's sums. Between tiles the loop yields to
 * the event loop (every ~{@link YIELD_MS} ms) and honours the abort signal.
 */
import { throwIfAborted, yieldToEventLoop } from '../abort';

/** Rows per tile side (a multiple of the kernel's 4 × 4 block). */
const TILE = 64;
/** Rows are padded with zeros to a multiple of this, so the kernel never needs an edge case. */
const PAD = 4;
/** Largest m × k table of per-row cluster sums (float64) kept whole: 2^23 entries, 64 MiB. */
export const MAX_SUM_ENTRIES = 1 << 23;
/** Longest stretch of work between two yields to the event loop. */
export const YIELD_MS = 25;

export interface SilhouetteKernelInput {
  /** m rows × d features, row-major. Rows m..mPadded-1 (if any) must be zero. */
  data: Float64Array;
  m: number;
  d: number;
  /** Cluster code 0..k-1 of each of the m rows. */
  codes: Int32Array;
  /** Rows per cluster code. */
  sizes: Int32Array;
  k: number;
}

export interface SilhouetteKernelOptions {
  signal?: AbortSignal;
  /** Force the panel-by-panel path (tests); by default it is used only when m × k > MAX_SUM_ENTRIES. */
  panels?: boolean;
}

/** Rows of `source` (all, or those listed in `rows`) copied to a zero-padded float64 buffer for the kernel. */
export function gatherRows(source: Float32Array, d: number, rows: Int32Array | null, m: number): Float64Array {
  const padded = Math.ceil(m / PAD) * PAD;
  const out = new Float64Array(padded * d);
  if (rows === null) {
    for (let i = 0; i < m * d; i++) out[i] = source[i];
  } else {
    for (let r = 0; r < m; r++) {
      const from = rows[r] * d;
      const to = r * d;
      for (let f = 0; f < d; f++) out[to + f] = source[from + f];
    }
  }
  return out;
}

/** The silhouette coefficient of each of the m rows. */
export async function silhouetteSamples(input: SilhouetteKernelInput, options: SilhouetteKernelOptions = {}): Promise<Float64Array> {
  const { data, m, d, k } = input;
  const padded = Math.ceil(m / PAD) * PAD;
  if (data.length < padded * d) throw new RangeError(`silhouette kernel: ${data.length} values for ${padded} padded rows × ${d}`);
  const norms = new Float64Array(padded);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let f = i * d, end = f + d; f < end; f++) s += data[f] * data[f];
    norms[i] = s;
  }
  const usePanels = options.panels ?? m * k > MAX_SUM_ENTRIES;
  const out = new Float64Array(m);
  const ctx: TileContext = {
    ...input,
    norms,
    padded,
    tile: new Float64Array(TILE * TILE),
    signal: options.signal,
    lastYield: performance.now(),
  };
  if (usePanels) {
    const sums = new Float64Array(TILE * k);
    for (let I = 0; I < padded; I += TILE) {
      sums.fill(0);
      const ie = Math.min(I + TILE, padded);
      for (let J = 0; J < padded; J += TILE) {
        const je = Math.min(J + TILE, padded);
        dotTile(ctx, I, ie, J, je);
        scatterOneSided(ctx, sums, I, Math.min(ie, m), J, Math.min(je, m));
        await maybeYield(ctx);
      }
      for (let i = I; i < Math.min(ie, m); i++) out[i] = coefficient(sums, (i - I) * k, input.codes[i], input.sizes, k);
    }
  } else {
    const sums = new Float64Array(m * k);
    for (let I = 0; I < padded; I += TILE) {
      const ie = Math.min(I + TILE, padded);
      for (let J = I; J < padded; J += TILE) {
        const je = Math.min(J + TILE, padded);
        dotTile(ctx, I, ie, J, je);
        scatterBoth(ctx, sums, I, Math.min(ie, m), J, Math.min(je, m));
        await maybeYield(ctx);
      }
    }
    for (let i = 0; i < m; i++) out[i] = coefficient(sums, i * k, input.codes[i], input.sizes, k);
  }
  return out;
}

interface TileContext extends SilhouetteKernelInput {
  norms: Float64Array;
  padded: number;
  /** Dot products of the current tile: tile[(i − I) · TILE + (j − J)]. */
  tile: Float64Array;
  signal?: AbortSignal;
  lastYield: number;
}

async function maybeYield(ctx: TileContext): Promise<void> {
  if (performance.now() - ctx.lastYield < YIELD_MS) return;
  await yieldToEventLoop();
  throwIfAborted(ctx.signal, 'silhouette cancelled');
  ctx.lastYield = performance.now();
}

/** s(i) from row i's cluster sums at sums[at .. at + k). */
function coefficient(sums: Float64Array, at: number, own: number, sizes: Int32Array, k: number): number {
  const size = sizes[own];
  if (size === 1) return 0;
  const a = sums[at + own] / (size - 1);
  let b = Infinity;
  for (let c = 0; c < k; c++) {
    if (c === own) continue;
    const mean = sums[at + c] / sizes[c];
    if (mean < b) b = mean;
  }
  const scale = a > b ? a : b;
  return scale > 0 ? (b - a) / scale : 0;
}

/** ctx.tile ← dot products of rows I..ie-1 with rows J..je-1 (tile sides are multiples of 4). */
function dotTile(ctx: TileContext, I: number, ie: number, J: number, je: number): void {
  const { data: x, d, tile } = ctx;
  for (let i = I; i < ie; i += 4) {
    const a0 = i * d;
    const a1 = a0 + d;
    const a2 = a1 + d;
    const a3 = a2 + d;
    const row = (i - I) * TILE - J;
    for (let j = J; j < je; j += 4) {
      const b0 = j * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0,
        s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0,
        s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let f = 0; f < d; f++) {
        const q0 = x[b0 + f];
        const q1 = x[b1 + f];
        const q2 = x[b2 + f];
        const q3 = x[b3 + f];
        let u = x[a0 + f];
        s00 += u * q0;
        s01 += u * q1;
        s02 += u * q2;
        s03 += u * q3;
        u = x[a1 + f];
        s10 += u * q0;
        s11 += u * q1;
        s12 += u * q2;
        s13 += u * q3;
        u = x[a2 + f];
        s20 += u * q0;
        s21 += u * q1;
        s22 += u * q2;
        s23 += u * q3;
        u = x[a3 + f];
        s30 += u * q0;
        s31 += u * q1;
        s32 += u * q2;
        s33 += u * q3;
      }
      let o = row + j;
      tile[o] = s00;
      tile[o + 1] = s01;
      tile[o + 2] = s02;
      tile[o + 3] = s03;
      o += TILE;
      tile[o] = s10;
      tile[o + 1] = s11;
      tile[o + 2] = s12;
      tile[o + 3] = s13;
      o += TILE;
      tile[o] = s20;
      tile[o + 1] = s21;
      tile[o + 2] = s22;
      tile[o + 3] = s23;
      o += TILE;
      tile[o] = s30;
      tile[o + 1] = s31;
      tile[o + 2] = s32;
      tile[o + 3] = s33;
    }
  }
}

/** Each pair i < j of the tile (real rows only) adds its distance to row i's sum for j's cluster and vice versa. */
function scatterBoth(ctx: TileContext, sums: Float64Array, I: number, ie: number, J: number, je: number): void {
  const { norms, codes, tile, k } = ctx;
  for (let i = I; i < ie; i++) {
    const ni = norms[i];
    const rowAt = i * k;
    const ci = codes[i];
    const t = (i - I) * TILE - J;
    for (let j = I === J ? i + 1 : J; j < je; j++) {
      const d2 = ni + norms[j] - 2 * tile[t + j];
      const dist = d2 > 0 ? Math.sqrt(d2) : 0;
      sums[rowAt + codes[j]] += dist;
      sums[j * k + ci] += dist;
    }
  }
}

/** Every pair i ≠ j of the tile adds its distance to row i's panel sum for j's cluster. */
function scatterOneSided(ctx: TileContext, sums: Float64Array, I: number, ie: number, J: number, je: number): void {
  const { norms, codes, tile, k } = ctx;
  for (let i = I; i < ie; i++) {
    const ni = norms[i];
    const rowAt = (i - I) * k;
    const t = (i - I) * TILE - J;
    for (let j = J; j < je; j++) {
      if (j === i) continue;
      const d2 = ni + norms[j] - 2 * tile[t + j];
      sums[rowAt + codes[j]] += d2 > 0 ? Math.sqrt(d2) : 0;
    }
  }
}
