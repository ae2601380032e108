import { describe, expect, it } from 'vitest';
import {
  NotPositiveDefiniteError,
  cholesky,
  inverseSpd,
  invertLowerTriangular,
  logDetSpd,
  logDetTriangular,
  matMul,
  precisionCholeskyFromCovariance,
  solveLowerTriangular,
  solveUpperTriangular,
  symmetricEigen,
  transpose,
} from '../../src-main/engine/math/linalg';
import { Rng } from '../../src-main/engine/math/rng';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-10): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol) {
      throw new Error(`element ${i}: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
    }
  }
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/** A random SPD matrix B·Bᵀ + n·I. */
function randomSpd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const B = rng.fillNormal(new Float64Array(n * n));
  const A = matMul(B, transpose(B, n, n), n, n, n);
  for (let i = 0; i < n; i++) A[i * n + i] += n;
  return A;
}

describe('cholesky', () => {
  it('factors a known 3×3 matrix', () => {
    // Classic example: A = L·Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]].
    const A = [4, 12, -16, 12, 37, -43, -16, -43, 98];
    expectClose(cholesky(A, 3), [2, 0, 0, 6, 1, 0, -8, 5, 3], 1e-12);
  });

  it('reconstructs a random 128×128 SPD matrix', () => {
    const n = 128;
    const A = randomSpd(n, 1);
    const L = cholesky(A, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(L[i * n + j]).toBe(0);
    const LLt = matMul(L, transpose(L, n, n), n, n, n);
    expectClose(LLt, A, 1e-9);
  });

  it('throws NotPositiveDefiniteError on indefinite or singular matrices', () => {
    expect(() => cholesky([1, 2, 2, 1], 2)).toThrow(NotPositiveDefiniteError);
    expect(() => cholesky([1, 1, 1, 1], 2)).toThrow(/not positive definite/);
    expect(() => cholesky([0, 0, 0, 1], 2)).toThrow(NotPositiveDefiniteError);
    expect(() => cholesky([NaN, 0, 0, 1], 2)).toThrow(NotPositiveDefiniteError);
    try {
      cholesky([4, 2, 0, 2, 1, 0, 0, 0, 1], 3);
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(NotPositiveDefiniteError);
      expect((err as NotPositiveDefiniteError).pivot).toBe(1);
    }
  });

  it('rejects a too-short buffer', () => {
    expect(() => cholesky([1, 0, 0], 2)).toThrow(RangeError);
  });
});

describe('triangular helpers', () => {
  const n = 40;
  const L = cholesky(randomSpd(n, 2), n);

  it('inverts a lower-triangular matrix', () => {
    const Li = invertLowerTriangular(L, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(Li[i * n + j]).toBe(0);
    expectClose(matMul(L, Li, n, n, n), identity(n), 1e-10);
    expectClose(invertLowerTriangular([2, 0, 1, 4], 2), [0.5, 0, -0.125, 0.25], 1e-15);
    expect(() => invertLowerTriangular([0, 0, 1, 1], 2)).toThrow(/singular/);
  });

  it('solves lower and upper triangular systems with several right-hand sides', () => {
    const rng = new Rng(3);
    const m = 3;
    const B = rng.fillNormal(new Float64Array(n * m));
    const x = solveLowerTriangular(L, B, n, m);
    expectClose(matMul(L, x, n, n, m), B, 1e-10);
    const U = transpose(L, n, n);
    const y = solveUpperTriangular(U, B, n, m);
    expectClose(matMul(U, y, n, n, m), B, 1e-10);
  });

  it('computes log-determinants', () => {
    expect(logDetTriangular([2, 0, 5, 3], 2)).toBeCloseTo(Math.log(6), 14);
    // det [[4,12,-16],[12,37,-43],[-16,-43,98]] = (2·1·3)² = 36
    expect(logDetSpd([4, 12, -16, 12, 37, -43, -16, -43, 98], 3)).toBeCloseTo(Math.log(36), 12);
    // Diagonal matrix of 128 dims with tiny and large entries: no overflow / underflow.
    const d = 128;
    const D = new Float64Array(d * d);
    let expected = 0;
    for (let i = 0; i < d; i++) {
      const v = i % 2 === 0 ? 1e-6 : 1e4;
      D[i * d + i] = v;
      expected += Math.log(v);
    }
    expect(logDetSpd(D, d)).toBeCloseTo(expected, 8);
  });

  it('inverts SPD matrices', () => {
    const A = randomSpd(n, 4);
    expectClose(matMul(A, inverseSpd(A, n), n, n, n), identity(n), 1e-10);
    expectClose(inverseSpd([4, 0, 0, 0.25], 2), [0.25, 0, 0, 4], 1e-15);
  });

  it('builds sklearn-style precision Cholesky factors (P upper triangular, P·Pᵀ = Σ⁻¹)', () => {
    const d = 16;
    const S = randomSpd(d, 5);
    const P = precisionCholeskyFromCovariance(S, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) expect(P[i * d + j]).toBe(0);
    const prec = matMul(P, transpose(P, d, d), d, d, d);
    expectClose(matMul(S, prec, d, d, d), identity(d), 1e-10);
    // log det P = −½ log det Σ
    expect(logDetTriangular(P, d)).toBeCloseTo(-0.5 * logDetSpd(S, d), 10);
    expect(() => precisionCholeskyFromCovariance([1, 0, 0, 0], 2)).toThrow(NotPositiveDefiniteError);
  });
});

describe('symmetricEigen', () => {
  it('diagonalises a known 2×2 matrix', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expectClose(values, [3, 1], 1e-12);
    // First eigenvector ∝ (1, 1)/√2 up to sign.
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0] * vectors[2]).toBeGreaterThan(0);
  });

  it('reconstructs a random symmetric 60×60 matrix with orthonormal vectors', () => {
    const n = 60;
    const rng = new Rng(6);
    const B = rng.fillNormal(new Float64Array(n * n));
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = B[i * n + j] + B[j * n + i];
    const { values, vectors } = symmetricEigen(A, n);
    for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    const Vt = transpose(vectors, n, n);
    expectClose(matMul(Vt, vectors, n, n, n), identity(n), 1e-10);
    // V·diag(λ)·Vᵀ = A
    const VL = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) VL[i * n + j] = vectors[i * n + j] * values[j];
    expectClose(matMul(VL, Vt, n, n, n), A, 1e-9);
  });
});
