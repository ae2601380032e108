/**
 * The weighted scatter Σᵢ wᵢ·wᵢᵀ / nₖ of a 'full' component (wᵢ = √rᵢₖ (xᵢ − μₖ)), the heavy part of its M-step,
 * computed on the tfjs backend in float32 but in the whitened basis of a covariance close to the result: float32
 * accumulation of the raw scatter drifts visibly from sklearn in 128 dimensions. Transposed operands are formed
 * explicitly, never through matMul's transpose flags (several times slower on the wasm backend).
 */
import { tf } from '../backend';
import { NotPositiveDefiniteError, cholesky, invertLowerTriangular, transpose } from '../math/linalg';

/** The weighted, centred rows of one component: W (m × d, row-major) and the component's weight nₖ. */
export interface ScatterRows {
  W: Float32Array;
  m: number;
  d: number;
  nk: number;
}

/** Largest |C' − I| entry below which a whitening basis is accepted (C' = whitened scatter). */
const WHITEN_TOLERANCE = 0.25;

/** Σᵢ wᵢ·wᵢᵀ / nk for the rows of W (m × d), one float32 product on the backend (Wᵀ passed pre-transposed). */
async function directScatter({ W, m, d, nk }: ScatterRows): Promise<Float64Array> {
  const prod = tf.tidy(() => {
    const w = tf.tensor2d(W, [m, d]);
    return tf.matMul(tf.transpose(w), w);
  });
  const v = await prod.data();
  prod.dispose();
  const out = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const s = (0.5 * (v[a * d + b] + v[b * d + a])) / nk;
      out[a * d + b] = s;
      out[b * d + a] = s;
    }
  }
  return out;
}

/**
 * Σᵢ wᵢ·wᵢᵀ / nk computed in a whitened basis: with a previous covariance Σ₀ = L·Lᵀ and P = L⁻ᵀ, the backend forms
 * C' = (W·P)ᵀ(W·P) / nk (≈ identity, well conditioned, so float32 accumulation loses little) and the result is
 * L·C'·Lᵀ in float64. Accumulating the raw scatter in float32 instead costs relative errors of ~1e-6 of the largest
 * entries, which the ill-conditioned covariances of high-dimensional data turn into visible log-likelihood drift.
 */
async function whitenedScatter(rows: ScatterRows, P: Float64Array, L: Float64Array): Promise<{ S: Float64Array; deviation: number }> {
  const { W, m, d, nk } = rows;
  const prod = tf.tidy(() => {
    const wp = tf.matMul(tf.tensor2d(W, [m, d]), tf.tensor2d(Float32Array.from(P), [d, d]));
    return tf.matMul(tf.transpose(wp), wp);
  });
  const v = await prod.data();
  prod.dispose();
  const C = new Float64Array(d * d);
  let deviation = 0;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const s = (0.5 * (v[a * d + b] + v[b * d + a])) / nk;
      C[a * d + b] = s;
      C[b * d + a] = s;
      deviation = Math.max(deviation, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return { S: unwhiten(C, L, d), deviation };
}

/** L·C·Lᵀ in float64 (L lower triangular, C symmetric): T = L·C, then S = T·Lᵀ (lower half, mirrored). */
function unwhiten(C: Float64Array, L: Float64Array, d: number): Float64Array {
  const T = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ti = i * d;
    for (let t = 0; t <= i; t++) {
      const l = L[i * d + t];
      if (l === 0) continue;
      const ct = t * d;
      for (let j = 0; j < d; j++) T[ti + j] += l * C[ct + j];
    }
  }
  const S = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      const ti = i * d;
      const lj = j * d;
      for (let t = 0; t <= j; t++) s += T[ti + t] * L[lj + t];
      S[i * d + j] = s;
      S[j * d + i] = s;
    }
  }
  return S;
}

function tryCholesky(S: Float64Array, d: number, reg: number): Float64Array | null {
  const A = new Float64Array(S);
  for (let a = 0; a < d; a++) A[a * d + a] += reg;
  try {
    return cholesky(A, d);
  } catch (err) {
    if (err instanceof NotPositiveDefiniteError) return null;
    throw err;
  }
}

/**
 * Σᵢ wᵢ·wᵢᵀ / nk, accurate to about float32 rounding in the metric of the covariance itself: whitened with the
 * previous model's factors when they are close (the usual EM case), else re-whitened with the factors of a first
 * estimate (initialisation, or large moves in the first iterations). Falls back to the direct product when no
 * positive definite basis exists (then the caller's Cholesky reports the ill-defined covariance).
 */
export async function accurateScatter(
  rows: ScatterRows,
  reg: number,
  prev: { P: Float64Array; L: Float64Array } | null,
): Promise<Float64Array> {
  const d = rows.d;
  let S: Float64Array;
  let deviation = Infinity;
  let direct = false;
  if (prev) ({ S, deviation } = await whitenedScatter(rows, prev.P, prev.L));
  else {
    S = await directScatter(rows);
    direct = true;
  }
  for (let pass = 0; pass < 2 && deviation > WHITEN_TOLERANCE; pass++) {
    let L = tryCholesky(S, d, reg);
    if (!L && !direct) {
      S = await directScatter(rows);
      direct = true;
      L = tryCholesky(S, d, reg);
    }
    if (!L) break;
    ({ S, deviation } = await whitenedScatter(rows, transpose(invertLowerTriangular(L, d), d, d), L));
  }
  return S;
}
