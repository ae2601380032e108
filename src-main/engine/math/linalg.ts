/**
 * Small dense linear algebra in float64 for the k × d × d parts of the mixture models (d ≲ 1000): Cholesky,
 * triangular inverse / solve, log-determinants and a symmetric eigen-solver. Matrices are row-major
 * `Float64Array`s of n × n (or n × m) values; nothing here allocates tensors.
 */

/** Thrown by {@link cholesky} when the matrix is not (numerically) symmetric positive definite. */
export class NotPositiveDefiniteError extends Error {
  /** Index of the failing pivot. */
  readonly pivot: number;
  constructor(pivot: number, value: number) {
    super(`matrix is not positive definite (pivot ${pivot} = ${value})`);
    this.name = 'NotPositiveDefiniteError';
    this.pivot = pivot;
  }
}

function checkSquare(a: ArrayLike<number>, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: size must be a non-negative integer, got ${n}`);
  if (a.length < n * n) throw new RangeError(`${what}: expected ${n}×${n} = ${n * n} values, got ${a.length}`);
}

/**
 * Lower-triangular Cholesky factor L of the symmetric positive definite n × n matrix `a` (A = L·Lᵀ); only the
 * lower triangle of `a` is read. The upper triangle of the result is zero. Throws
 * {@link NotPositiveDefiniteError} when a pivot is ≤ 0 or not finite.
 */
export function cholesky(a: ArrayLike<number>, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  checkSquare(a, n, 'cholesky');
  const L = out;
  L.fill(0, 0, n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j];
    for (let p = 0; p < j; p++) s -= L[rj + p] * L[rj + p];
    if (!(s > 0) || !Number.isFinite(s)) throw new NotPositiveDefiniteError(j, s);
    const ljj = Math.sqrt(s);
    L[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j];
      for (let p = 0; p < j; p++) t -= L[ri + p] * L[rj + p];
      L[ri + j] = t * inv;
    }
  }
  return L;
}

/** Inverse of a lower-triangular n × n matrix (itself lower triangular). Throws on a zero diagonal. */
export function invertLowerTriangular(L: ArrayLike<number>, n: number): Float64Array {
  checkSquare(L, n, 'invertLowerTriangular');
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const d = L[i * n + i];
    if (d === 0 || !Number.isFinite(d)) throw new RangeError(`invertLowerTriangular: singular (diagonal ${i} = ${d})`);
  }
  // Column j of X solves L·x = e_j; x is zero above row j.
  for (let j = 0; j < n; j++) {
    X[j * n + j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let p = j; p < i; p++) s += L[ri + p] * X[p * n + j];
      X[ri + j] = -s / L[ri + i];
    }
  }
  return X;
}

/** Solves L·X = B for X (B: n × m, row-major), L lower triangular n × n. */
export function solveLowerTriangular(L: ArrayLike<number>, b: ArrayLike<number>, n: number, m = 1): Float64Array {
  checkSquare(L, n, 'solveLowerTriangular');
  if (b.length < n * m) throw new RangeError(`solveLowerTriangular: expected ${n}×${m} right-hand side values`);
  const x = Float64Array.from({ length: n * m }, (_, i) => b[i]);
  for (let i = 0; i < n; i++) {
    const d = L[i * n + i];
    if (d === 0) throw new RangeError(`solveLowerTriangular: singular (diagonal ${i} = 0)`);
    for (let c = 0; c < m; c++) {
      let s = x[i * m + c];
      for (let p = 0; p < i; p++) s -= L[i * n + p] * x[p * m + c];
      x[i * m + c] = s / d;
    }
  }
  return x;
}

/** Solves U·X = B for X (B: n × m, row-major), U upper triangular n × n. */
export function solveUpperTriangular(U: ArrayLike<number>, b: ArrayLike<number>, n: number, m = 1): Float64Array {
  checkSquare(U, n, 'solveUpperTriangular');
  if (b.length < n * m) throw new RangeError(`solveUpperTriangular: expected ${n}×${m} right-hand side values`);
  const x = Float64Array.from({ length: n * m }, (_, i) => b[i]);
  for (let i = n - 1; i >= 0; i--) {
    const d = U[i * n + i];
    if (d === 0) throw new RangeError(`solveUpperTriangular: singular (diagonal ${i} = 0)`);
    for (let c = 0; c < m; c++) {
      let s = x[i * m + c];
      for (let p = i + 1; p < n; p++) s -= U[i * n + p] * x[p * m + c];
      x[i * m + c] = s / d;
    }
  }
  return x;
}

/** Sum of the logs of the diagonal of a triangular n × n matrix (its log |det|). */
export function logDetTriangular(T: ArrayLike<number>, n: number): number {
  checkSquare(T, n, 'logDetTriangular');
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(T[i * n + i]);
  return s;
}

/** log det A of a symmetric positive definite matrix, via its Cholesky factor: 2·Σ log Lᵢᵢ. */
export function logDetSpd(a: ArrayLike<number>, n: number): number {
  return 2 * logDetTriangular(cholesky(a, n), n);
}

/** Inverse of a symmetric positive definite matrix via Cholesky (A⁻¹ = L⁻ᵀ·L⁻¹). */
export function inverseSpd(a: ArrayLike<number>, n: number): Float64Array {
  const Li = invertLowerTriangular(cholesky(a, n), n);
  const out = new Float64Array(n * n);
  // out[i][j] = Σ_p Li[p][i]·Li[p][j], p ≥ max(i, j).
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = i; p < n; p++) s += Li[p * n + i] * Li[p * n + j];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * The "precision Cholesky" of scikit-learn's GaussianMixture: for a covariance Σ = L·Lᵀ, P = L⁻ᵀ (upper
 * triangular) so that P·Pᵀ = Σ⁻¹ and ‖(x − μ)·P‖² is the Mahalanobis distance. Throws
 * {@link NotPositiveDefiniteError} when Σ is not positive definite.
 */
export function precisionCholeskyFromCovariance(cov: ArrayLike<number>, n: number): Float64Array {
  const Li = invertLowerTriangular(cholesky(cov, n), n);
  return transpose(Li, n, n);
}

/** Transpose of a rows × cols row-major matrix. */
export function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** Product of an m × p and a p × q row-major matrix. */
export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, p: number, q: number): Float64Array {
  if (a.length < m * p || b.length < p * q) throw new RangeError(`matMul: operands do not hold ${m}×${p} and ${p}×${q}`);
  const out = new Float64Array(m * q);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < p; t++) {
      const v = a[i * p + t];
      if (v === 0) continue;
      const rb = t * q;
      const ro = i * q;
      for (let j = 0; j < q; j++) out[ro + j] += v * b[rb + j];
    }
  }
  return out;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix by cyclic Jacobi rotations (accurate, O(n³) per sweep; fine
 * for n up to ~1000). Returns the eigenvalues in descending order and the matching unit eigenvectors as the
 * columns of `vectors` (row-major n × n).
 */
export function symmetricEigen(
  a: ArrayLike<number>,
  n: number,
  opts: { maxSweeps?: number; tol?: number } = {},
): { values: Float64Array; vectors: Float64Array } {
  checkSquare(a, n, 'symmetricEigen');
  const maxSweeps = opts.maxSweeps ?? 100;
  const tol = opts.tol ?? 1e-14;
  const A = new Float64Array(n * n);
  // Symmetrise from the lower triangle so slight asymmetry in the input does not bias the result.
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = i === j ? a[i * n + i] : 0.5 * (a[i * n + j] + a[j * n + i]);
      A[i * n + j] = v;
      A[j * n + i] = v;
    }
  }
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += A[i] * A[i];
  const stop = tol * tol * Math.max(total, Number.MIN_VALUE);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * A[i * n + j] * A[i * n + j];
    if (off <= stop) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ·A·J on rows/cols p and q.
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        const rp = p * n;
        const rq = q * n;
        for (let k = 0; k < n; k++) {
          const apk = A[rp + k];
          const aqk = A[rq + k];
          A[rp + k] = c * apk - s * aqk;
          A[rq + k] = s * apk + c * aqk;
        }
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => A[y * n + y] - A[x * n + x]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = V[k * n + src];
  });
  return { values, vectors };
}
