/**
 * The distance products of k-means on the tfjs backend. Every squared distance is evaluated as
 * ‖x − c‖² = ‖x − μ‖² + (x − μ)·B + bias with B = −2 (c − μ) and bias = ‖c − μ‖² (see {@link packCenters}):
 * one matrix product per chunk of rows, centred on the column means μ so that float32 loses little.
 */
import { tf } from '../backend/index';
import type { Matrix } from '../types';

/** Right-hand side of a distance product: B (d × K, pre-transposed) and the bias (K), see {@link packCenters}. */
export interface ProductRhs {
  B: Float32Array;
  bias: Float32Array;
}

/** Largest number of float32 outputs of one chunk product (16 MiB): bounds device memory per step. */
const MAX_CHUNK_OUTPUTS = 1 << 22;
/** Upper bound on rows per chunk (keeps texture-backed backends inside their size limits). */
const MAX_CHUNK_ROWS = 16384;

/** Rows per chunk so that one chunk product has at most MAX_CHUNK_OUTPUTS outputs; chunks of equal size. */
export function chunkRowsFor(n: number, maxCols: number): number {
  let rows = Math.max(64, Math.floor(MAX_CHUNK_OUTPUTS / Math.max(1, maxCols)));
  rows = Math.min(rows, MAX_CHUNK_ROWS, n);
  const chunks = Math.ceil(n / rows);
  return Math.ceil(n / chunks);
}

/**
 * X resident on the device as mean-centred row chunks, with the float64 squared norms of the centred rows.
 * Products are evaluated as X_c · B + bias (B is d × K, bias K), never with transpose flags.
 */
export class DeviceRows {
  readonly chunks: tf.Tensor2D[] = [];
  readonly starts: number[] = [];
  /** ‖x_i − μ‖² from the float32 values that were uploaded. */
  readonly norms: Float64Array;
  /** max_i ‖x_i − μ‖². */
  maxNorm = 0;

  constructor(X: Matrix, mean: Float64Array, chunkRows: number, withNorms = true) {
    const { rows: n, cols: d, data } = X;
    this.norms = new Float64Array(withNorms ? n : 0);
    try {
      for (let s = 0; s < n; s += chunkRows) {
        const e = Math.min(n, s + chunkRows);
        const buf = new Float32Array((e - s) * d);
        for (let i = s; i < e; i++) {
          const src = i * d;
          const dst = (i - s) * d;
          let nrm = 0;
          for (let j = 0; j < d; j++) {
            const v = Math.fround(data[src + j] - mean[j]);
            buf[dst + j] = v;
            nrm += v * v;
          }
          if (withNorms) this.norms[i] = nrm;
          if (nrm > this.maxNorm) this.maxNorm = nrm;
        }
        this.starts.push(s);
        this.chunks.push(tf.tensor2d(buf, [e - s, d]));
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** For every chunk: argMin over each of the `groups` consecutive column groups of size `k` → int32 [rows × groups]. */
  async argminGroups({ B, bias }: ProductRhs, groups: number, k: number): Promise<Int32Array[]> {
    const d = this.chunks[0].shape[1];
    const K = groups * k;
    const bT = tf.tensor2d(B, [d, K]);
    const biasT = tf.tensor1d(bias);
    const outs: tf.Tensor[] = [];
    try {
      for (const c of this.chunks) {
        outs.push(
          tf.tidy(() => {
            const scores = tf.fused.matMul({ a: c, b: bT, bias: biasT });
            return groups === 1 ? tf.argMin(scores, 1) : tf.argMin(tf.reshape(scores, [c.shape[0], groups, k]), 2);
          }),
        );
      }
      const data = await Promise.all(outs.map((o) => o.data()));
      return data as Int32Array[];
    } finally {
      tf.dispose(outs);
      tf.dispose([bT, biasT]);
    }
  }

  /** For every chunk: the raw scores X_c·B + bias, float32 [rows × K]. */
  async scores({ B, bias }: ProductRhs, K: number): Promise<Float32Array[]> {
    const d = this.chunks[0].shape[1];
    const bT = tf.tensor2d(B, [d, K]);
    const biasT = tf.tensor1d(bias);
    const outs: tf.Tensor[] = [];
    try {
      for (const c of this.chunks) outs.push(tf.fused.matMul({ a: c, b: bT, bias: biasT }));
      const data = await Promise.all(outs.map((o) => o.data()));
      return data as Float32Array[];
    } finally {
      tf.dispose(outs);
      tf.dispose([bT, biasT]);
    }
  }

  dispose(): void {
    tf.dispose(this.chunks);
    this.chunks.length = 0;
  }
}

/**
 * Packs the (centred) centers of several restarts as the right-hand side of the distance product:
 * B[:, g·k + j] = −2 (c_gj − μ), bias[g·k + j] = ‖c_gj − μ‖², so that ‖x − c‖² = ‖x − μ‖² + (x − μ)·B + bias.
 * `rawRows`: the left-hand rows will be x itself, not x − μ; the bias then absorbs the centering
 * (+ 2 μ·(c − μ)).
 */
export function packCenters(centerSets: Float64Array[], k: number, d: number, mean: Float64Array, rawRows = false): ProductRhs {
  const K = centerSets.length * k;
  const B = new Float32Array(d * K);
  const bias = new Float32Array(K);
  for (let g = 0; g < centerSets.length; g++) {
    const C = centerSets[g];
    for (let j = 0; j < k; j++) {
      const col = g * k + j;
      let nrm = 0;
      let shift = 0;
      for (let f = 0; f < d; f++) {
        const v = C[j * d + f] - mean[f];
        nrm += v * v;
        shift += mean[f] * v;
        B[f * K + col] = -2 * v;
      }
      bias[col] = rawRows ? nrm + 2 * shift : nrm;
    }
  }
  return { B, bias };
}

/** Rows `ids` of X as the right-hand side of the distance product (see packCenters). */
export function packRows(data: Float32Array, d: number, ids: number[], mean: Float64Array): ProductRhs {
  const K = ids.length;
  const B = new Float32Array(d * K);
  const bias = new Float32Array(K);
  for (let col = 0; col < K; col++) {
    const o = ids[col] * d;
    let nrm = 0;
    for (let f = 0; f < d; f++) {
      const v = Math.fround(data[o + f] - mean[f]);
      nrm += v * v;
      B[f * K + col] = -2 * v;
    }
    bias[col] = nrm;
  }
  return { B, bias };
}

/** Scratch buffer for rows gathered on the CPU (grown on demand, reused across iterations). */
let gatherBuffer = new Float32Array(0);

/**
 * Scores of the given rows of X (raw, not centred: `bias` must come from packCenters(…, rawRows = true)):
 * float32 [rows.length × K], computed on the device in pieces of at most `pieceRows` rows.
 */
export async function scoreRawRows(
  X: Matrix,
  rows: Int32Array,
  { B, bias }: ProductRhs,
  K: number,
  pieceRows: number,
): Promise<Float32Array> {
  const { cols: d, data } = X;
  const out = new Float32Array(rows.length * K);
  const bT = tf.tensor2d(B, [d, K]);
  const biasT = tf.tensor1d(bias);
  try {
    for (let s = 0; s < rows.length; s += pieceRows) {
      const e = Math.min(rows.length, s + pieceRows);
      const m = e - s;
      if (gatherBuffer.length < m * d) gatherBuffer = new Float32Array(Math.max(m * d, Math.min(gatherBuffer.length * 2, pieceRows * d)));
      const buf = gatherBuffer;
      for (let q = 0; q < m; q++) {
        const o = rows[s + q] * d;
        buf.set(data.subarray(o, o + d), q * d);
      }
      const scores = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(buf.subarray(0, m * d), [m, d]), b: bT, bias: biasT }));
      try {
        out.set((await scores.data()) as Float32Array, s * K);
      } finally {
        scores.dispose();
      }
    }
  } finally {
    tf.dispose([bT, biasT]);
  }
  return out;
}

/** Uploads X chunk by chunk (bounded memory) and calls `fn` on each; chunk-local norms are at dev.norms[0..]. */
export async function forEachDeviceChunk(
  X: Matrix,
  mean: Float64Array,
  chunkRows: number,
  withNorms: boolean,
  fn: (dev: DeviceRows, start: number) => Promise<void>,
): Promise<void> {
  const { rows: n, cols: d } = X;
  for (let s = 0; s < n; s += chunkRows) {
    const e = Math.min(n, s + chunkRows);
    const part: Matrix = { data: X.data.subarray(s * d, e * d), rows: e - s, cols: d };
    const dev = new DeviceRows(part, mean, e - s, withNorms);
    try {
      await fn(dev, s);
    } finally {
      dev.dispose();
    }
  }
}

/** Calls `fn` for every row of chunked products [rows × K]: its global index, its chunk and the row offset in it. */
export function forEachRow(
  chunks: Float32Array[],
  starts: number[],
  K: number,
  fn: (i: number, row: Float32Array, off: number) => void,
): void {
  for (let c = 0; c < chunks.length; c++) {
    const arr = chunks[c];
    const rows = arr.length / K;
    const s = starts[c];
    for (let r = 0; r < rows; r++) fn(s + r, arr, r * K);
  }
}
