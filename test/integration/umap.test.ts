import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { KMeans } from '../../src-main/engine/cluster/kmeans';
import { Rng } from '../../src-main/engine/math/rng';
import { loadFashionMnist } from '../../src-main/engine/data/index';
import { nmi } from '../../src-main/engine/metrics/index';
import { exactNeighbours, kdTreeNeighbours, nearestNeighbours } from '../../src-main/engine/manifold/knn';
import { Pca, pca } from '../../src-main/engine/manifold/pca';
import { Umap, UmapParamError, fuzzySimplicialSet, smoothKnnDist, umapParamIssues } from '../../src-main/engine/manifold/umap';
import type { Matrix } from '../../src-main/engine/types';

let pixels: Matrix;
let labels: Uint8Array;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  const { test } = await loadFashionMnist({ trainLimit: 1, testLimit: 2000 });
  pixels = { data: test.images, rows: test.count, cols: 784 };
  labels = test.labels;
});

const rows = (m: Matrix, from: number, count: number): Matrix => ({
  data: m.data.subarray(from * m.cols, (from + count) * m.cols),
  rows: count,
  cols: m.cols,
});

function randomMatrix(n: number, d: number, seed: number): Matrix {
  const data = new Float32Array(n * d);
  new Rng(seed).fillNormal(data);
  return { data, rows: n, cols: d };
}

async function kmeansNmi(X: Matrix, truth: Uint8Array, seed = 0): Promise<number> {
  const km = new KMeans({ k: 10, nInit: 3, maxIter: 300, tol: 1e-4, seed });
  await km.fit(X);
  return nmi(truth, await km.predict(X));
}

describe('exact k nearest neighbours', () => {
  it('k-d tree and backend brute force agree with a direct search, each point its own first neighbour', async () => {
    const X = randomMatrix(1500, 6, 1);
    // exact duplicates: ties must not push a point out of its own list
    X.data.copyWithin(10 * 6, 20 * 6, 21 * 6);
    const tree = await kdTreeNeighbours(X, 8);
    const brute = await nearestNeighbours(X, 8, { chunkRows: 333 });
    expect(Array.from(tree.indices)).toEqual(Array.from(brute.indices));
    for (let i = 0; i < tree.distances.length; i++) expect(tree.distances[i]).toBeCloseTo(brute.distances[i], 5);
    for (const q of [0, 10, 20, 777, 1499]) {
      const direct = Array.from({ length: 1500 }, (_, j) => {
        let s = 0;
        for (let f = 0; f < 6; f++) s += (X.data[q * 6 + f] - X.data[j * 6 + f]) ** 2;
        return { j, d: j === q ? -1 : s };
      }).sort((a, b) => a.d - b.d || a.j - b.j);
      expect(Array.from(tree.indices.subarray(q * 8, q * 8 + 8))).toEqual(direct.slice(0, 8).map((c) => c.j));
      expect(tree.indices[q * 8]).toBe(q);
      expect(tree.distances[q * 8]).toBe(0);
    }
    expect(tree.distances[10 * 8 + 1]).toBe(0); // its duplicate
  });

  it('finds the neighbours of other query points; wide rows go to the backend', async () => {
    const ref = randomMatrix(400, 40, 2);
    const queries = randomMatrix(50, 40, 3);
    const a = await exactNeighbours(ref, 5, { queries });
    const b = await kdTreeNeighbours(ref, 5, { queries });
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    await expect(nearestNeighbours(ref, 401)).rejects.toThrow(/k must be an integer in \[1, 400\]/);
  });
});

describe('UMAP parameters', () => {
  it('names every bad parameter', () => {
    const issues = umapParamIssues({ nNeighbors: 1, minDist: -0.1, nComponents: 0, nEpochs: 0, metric: 'cosine' as never });
    expect(issues.map((i) => i.param)).toEqual(['nNeighbors', 'minDist', 'nComponents', 'nEpochs', 'metric']);
    expect(umapParamIssues({ nNeighbors: 20 }, 20)).toEqual([
      { param: 'nNeighbors', message: '20 neighbours need more than 20 points, got 20' },
    ]);
    expect(umapParamIssues({ minDist: 1.5, spread: 1 })[0]).toMatchObject({ param: 'minDist', message: expect.stringMatching(/spread/) });
    expect(umapParamIssues({ nNeighbors: 20, minDist: 0, nComponents: 10, nEpochs: null }, 1000)).toEqual([]);
    expect(() => new Umap({ nNeighbors: 1 })).toThrow(UmapParamError);
  });

  it('rejects too few points at fit time', async () => {
    await expect(new Umap({ nNeighbors: 15 }).fit(randomMatrix(10, 3, 1))).rejects.toThrow(
      /nNeighbors: 15 neighbours need more than 15 points, got 10/,
    );
  });
});

describe('fuzzy simplicial set', () => {
  it('calibrates σ to log2(k) per point and symmetrises by the fuzzy union', async () => {
    const X = randomMatrix(300, 4, 4);
    const knn = await kdTreeNeighbours(X, 10);
    const { sigmas, rhos } = smoothKnnDist(knn);
    for (const i of [0, 150, 299]) {
      let s = 0;
      for (let j = 1; j < 10; j++) s += Math.exp(-Math.max(0, knn.distances[i * 10 + j] - rhos[i]) / sigmas[i]);
      expect(s).toBeCloseTo(Math.log2(10), 3);
      expect(rhos[i]).toBeCloseTo(knn.distances[i * 10 + 1], 6);
    }
    const g = fuzzySimplicialSet(knn);
    const w = new Map<string, number>();
    for (let e = 0; e < g.rows.length; e++) w.set(`${g.rows[e]},${g.cols[e]}`, g.weights[e]);
    for (const [key, value] of w) {
      const [i, j] = key.split(',');
      expect(w.get(`${j},${i}`)).toBe(value);
      expect(value).toBeGreaterThan(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    // every point's nearest neighbour has membership 1 (ρ), so weight 1 after the union
    expect(w.get(`0,${knn.indices[1]}`)).toBe(1);
  });
});

describe('Umap on real images', () => {
  it('UMAP of 2,000 test images separates the classes better than the raw pixels (k-means NMI)', async () => {
    const umap = new Umap({ nNeighbors: 20, minDist: 0, nComponents: 10, nEpochs: 200, seed: 0 });
    const stages = new Set<string>();
    const embedding = await umap.fitTransform(pixels, { onProgress: (e) => stages.add(e.stage) });
    expect(embedding).toHaveLength(2000 * 10);
    expect(embedding.every(Number.isFinite)).toBe(true);
    expect([...stages]).toEqual(['knn', 'graph', 'init', 'optimize']);
    expect(umap.info).toMatchObject({ nEpochs: 200, init: 'spectral', initFallback: false });
    const raw = await kmeansNmi(pixels, labels);
    const after = await kmeansNmi({ data: embedding, rows: 2000, cols: 10 }, labels);
    expect(raw).toBeGreaterThan(0.4);
    expect(after).toBeGreaterThan(raw + 0.05);
  });

  it('is reproducible for a seed, and the seed matters', async () => {
    const X = rows(pixels, 0, 400);
    const fit = (seed: number, init: 'spectral' | 'random' | 'pca' = 'spectral') =>
      new Umap({ nNeighbors: 10, nComponents: 3, nEpochs: 60, seed, init }).fitTransform(X);
    const a = await fit(1);
    expect(Array.from(await fit(1))).toEqual(Array.from(a));
    expect(Array.from(await fit(2))).not.toEqual(Array.from(a));
    for (const init of ['random', 'pca'] as const) {
      const e = await fit(1, init);
      expect(e.every(Number.isFinite)).toBe(true);
      expect(Array.from(await fit(1, init))).toEqual(Array.from(e));
    }
  });

  it('transform places new images next to the fitted images of their class', async () => {
    const train = rows(pixels, 0, 1500);
    const test = rows(pixels, 1500, 500);
    const umap = new Umap({ nNeighbors: 15, minDist: 0, nComponents: 5, nEpochs: 150, seed: 0 });
    const fitted = await umap.fitTransform(train);
    const placed = await umap.transform(test);
    expect(placed).toHaveLength(500 * 5);
    // 1-nearest fitted point in the embedding: its label should usually be right (chance 0.1)
    let correct = 0;
    for (let i = 0; i < 500; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < 1500; j++) {
        let s = 0;
        for (let d = 0; d < 5; d++) s += (placed[i * 5 + d] - fitted[j * 5 + d]) ** 2;
        if (s < bestD) [best, bestD] = [j, s];
      }
      if (labels[best] === labels[1500 + i]) correct++;
    }
    expect(correct / 500).toBeGreaterThan(0.6);
    await expect(new Umap().transform(test)).rejects.toThrow(/fitted model/);
  });

  it('fit returns the estimator with its embedding, the same as fitTransform gives', async () => {
    const X = randomMatrix(120, 4, 3);
    const params = { nNeighbors: 10, nComponents: 2, nEpochs: 30, seed: 5 };
    const umap = new Umap(params);
    expect(() => umap.embedding).toThrow('UMAP is not fitted');
    expect(await umap.fit(X)).toBe(umap);
    expect(umap.embedding).toEqual(await new Umap(params).fitTransform(X));
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    const fit = new Umap({ nNeighbors: 10, nComponents: 2, nEpochs: 500 }).fit(rows(pixels, 0, 500), {
      signal: controller.signal,
      onProgress: (e) => e.stage === 'optimize' && (e.epoch ?? 0) >= 10 && controller.abort(),
    });
    await expect(fit).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('pca', () => {
  it('Pca: fit, transform and fitTransform agree with pca()', async () => {
    const X = randomMatrix(300, 6, 11);
    const reference = await pca(X, 2, 0);
    const model = await new Pca({ nComponents: 2 }).fit(X);
    expect(model.result.projection).toEqual(reference.projection);
    expect(model.transform(X)).toEqual(reference.projection);
    expect(await new Pca({ nComponents: 2 }).fitTransform(X)).toEqual(reference.projection);
    expect(() => new Pca({ nComponents: 2 }).result).toThrow('PCA is not fitted');
  });

  it('recovers the principal axes of a stretched cloud, narrow and wide', async () => {
    for (const d of [3, 100]) {
      const X = randomMatrix(2000, d, 7);
      for (let i = 0; i < 2000; i++) {
        X.data[i * d] *= 5; // axis 0: variance 25
        X.data[i * d + 1] *= 3; // axis 1: variance 9
      }
      const r = await pca(X, 2, 0, { device: d < 50 });
      expect(r.variances[0]).toBeGreaterThan(20);
      expect(r.variances[1]).toBeGreaterThan(7);
      expect(Math.abs(r.components[0 * 2 + 0])).toBeGreaterThan(0.99);
      expect(Math.abs(r.components[1 * 2 + 1])).toBeGreaterThan(0.99);
      expect(r.projection).toHaveLength(4000);
    }
  });
});
