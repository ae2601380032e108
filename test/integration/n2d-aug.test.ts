import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src-main/engine/math/rng';
import { loadFashionMnist } from '../../src-main/engine/data/index';
import { runExperiment } from '../../src-main/engine/experiments/run';
import { RunStore } from '../../src-main/engine/store/index';
import type { RunRecord } from '../../src-main/engine/store/types';
import { withoutLabels } from '../../src-main/engine/types';
import { handleQuery } from '../../src-main/service/queries';
import type { ClusterImagesPage, RunEmbedding } from '../../src-main/contract/index';
import { IDX_NAMES, idxImagesBuffer, idxLabelsBuffer, writeFixture } from '../helpers/data-fixtures';
import { repoRoot, runCommand } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';

const TRAIN = 800;
const TEST = 300;
/** A small n2d-aug run: the preset's recipe, fewer epochs and images. */
const SMALL = { epochs: 2, umapEpochs: 60, trainLimit: TRAIN, testLimit: TEST, backend: 'wasm', seed: 3 };

/** Writes the first images of real Fashion-MNIST as an IDX dataset with the given labels. */
async function writeDataset(
  dir: string,
  images: { train: Float32Array; test: Float32Array },
  labels: { train: Uint8Array; test: Uint8Array },
) {
  const bytes = (x: Float32Array) => Uint8Array.from(x, (v) => Math.round(v * 255));
  await writeFixture(dir, IDX_NAMES.trainImages, idxImagesBuffer(bytes(images.train)));
  await writeFixture(dir, IDX_NAMES.trainLabels, idxLabelsBuffer(labels.train));
  await writeFixture(dir, IDX_NAMES.testImages, idxImagesBuffer(bytes(images.test)));
  await writeFixture(dir, IDX_NAMES.testLabels, idxLabelsBuffer(labels.test));
}

function shuffled(labels: Uint8Array, seed: number): Uint8Array {
  const order = new Rng(seed).permutation(labels.length);
  return Uint8Array.from(order, (i) => labels[i]);
}

describe('stages see no labels', () => {
  it('withoutLabels makes an object that has no labels at all', () => {
    const set = { images: new Float32Array(4), labels: new Uint8Array([1]), count: 1, height: 2, width: 2 };
    const bare = withoutLabels(set);
    expect(bare).toEqual({ images: set.images, count: 1, height: 2, width: 2 });
    expect('labels' in bare).toBe(false);
  });
});

describe.skipIf(skipUnless('fashionMnist'))('n2d-aug preset (augmented autoencoder → UMAP → GMM) on real images', () => {
  const home = mkdtempSync(join(tmpdir(), 'clusterbench-n2d-aug-'));
  const store = RunStore.open(join(home, 'runs.sqlite'));
  const query = <T>(op: string, input: unknown) =>
    handleQuery(op as never, input as never, { dbPath: store.path, busy: () => false, emit: () => undefined }) as Promise<T>;
  let labelled: RunRecord;
  let relabelled: RunRecord;
  let plain: RunRecord;

  beforeAll(async () => {
    const real = await loadFashionMnist({ trainLimit: TRAIN, testLimit: TEST });
    const images = { train: real.train.images, test: real.test.images };
    const trueDir = join(home, 'true-labels');
    const shuffledDir = join(home, 'shuffled-labels');
    await writeDataset(trueDir, images, { train: real.train.labels, test: real.test.labels });
    // the same images, every label moved to another image: whatever reads labels would now see others
    await writeDataset(shuffledDir, images, { train: shuffled(real.train.labels, 1), test: shuffled(real.test.labels, 2) });
    const run = async (task: string, dataDir: string) =>
      store.getRun((await runExperiment({ task, ...SMALL }, { store, dataDir })).id, { withAssignments: true })!;
    labelled = await run('n2d-aug', trueDir);
    relabelled = await run('n2d-aug', shuffledDir);
    plain = await run('n2d', trueDir);
  }, 600_000);

  afterAll(() => {
    store.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('runs the N2D recipe with augmented training, well above chance', () => {
    expect(labelled.status).toBe('completed');
    expect(labelled.params).toMatchObject({ task: 'n2d-aug', augRotation: 10, augShift: 0.1, protocol: 'transductive', encoder: 'dense' });
    expect(labelled.metrics!.accuracy!).toBeGreaterThan(0.25); // chance is about 0.1–0.15
    expect(labelled.artifacts).toMatchObject({ encoderFitOn: 'train+test', map2dMethod: 'umap' });
  });

  it('trains on augmented images: the same seed without augmentation learns otherwise', () => {
    expect(plain.params).toMatchObject({ augRotation: 0, augShift: 0 });
    expect(labelled.losses.map((l) => l.trainLoss)).not.toEqual(plain.losses.map((l) => l.trainLoss));
    expect(labelled.assignments).not.toEqual(plain.assignments);
  });

  it('never lets labels into training or selection: shuffled labels give the very same clusters', () => {
    expect(relabelled.status).toBe('completed');
    expect(relabelled.assignments).toEqual(labelled.assignments);
    expect(relabelled.losses).toEqual(labelled.losses);
    // …and only the score sees the labels
    expect(relabelled.metrics!.accuracy!).toBeLessThan(labelled.metrics!.accuracy! - 0.1);
  });

  it("serves its embedding map and cluster grids like N2D's", async () => {
    const map = await query<RunEmbedding>('runs.embedding', { id: labelled.id });
    expect(map).toMatchObject({ method: 'umap', source: 'map' });
    expect(map.points).toHaveLength(2 * TEST);
    expect(map.clusters).toEqual(Array.from(labelled.assignments!));
    const biggest = mostCommon(labelled.assignments!);
    const page = await query<ClusterImagesPage>('runs.clusterImages', {
      id: labelled.id,
      cluster: biggest,
      onlyMistakes: false,
      offset: 0,
      limit: 12,
    });
    expect(page.total).toBe(labelled.assignments!.filter((c) => c === biggest).length);
    expect(page.indices.length).toBe(Math.min(12, page.total));
    expect(Buffer.from(page.pixelsBase64, 'base64')).toHaveLength(page.indices.length * 784);
  });
});

describe.skipIf(skipUnless('fashionMnist'))('npm run bench -- n2d-aug', () => {
  const bench = (args: string[]) => runCommand(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/index.ts'), 'n2d-aug', ...args]);
  const tiny = ['--train-limit', '600', '--test-limit', '200', '--epochs', '1', '--umap-epochs', '30'];

  it("prints each seed, mean ± sd and the issue's targets for the protocol; --json keeps the figures", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterbench-bench-n2d-aug-'));
    try {
      const json = join(dir, 'out.json');
      const out = await bench(['--seeds', '0,1', ...tiny, '--json', json]);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stderr).toMatch(/n2d-aug bench: seeds 0, 1, 1 AE epochs \(batch 256, lr 0\.001, augmentation ±10° ±10 %\), transductive/);
      expect(out.stdout).toMatch(/^n2d-aug preset on Fashion-MNIST — 1 autoencoder epochs, augmentation ±10° ±10 %, transductive, wasm/);
      expect(out.stdout).toMatch(/^0 \| 0\.\d{3} \| /m);
      expect(out.stdout).toMatch(/^1 \| 0\.\d{3} \| /m);
      expect(out.stdout).toMatch(/^mean ± sd \| 0\.\d{3} ± 0\.\d{3} \| /m);
      expect(out.stdout).toMatch(/target mean test accuracy ≥ 0\.68 \(transductive\): 0\.\d{3} — NOT reached/);
      expect(out.stdout).toMatch(/target mean NMI ≥ 0\.68: /);
      expect(out.stdout).toMatch(/target whole pipeline ≤ 20 min: slowest seed 0\.\d min — reached/);
      const saved = JSON.parse(readFileSync(json, 'utf8'));
      expect(saved.results.map((r: { seed: number }) => r.seed)).toEqual([0, 1]);
      expect(saved.results[0].stages.trainMs).toBeGreaterThan(0);

      const inductive = await bench(['--seeds', '0', ...tiny, '--protocol', 'inductive']);
      expect(inductive.code, inductive.stderr).toBe(0);
      expect(inductive.stdout).toMatch(/target mean test accuracy ≥ 0\.66 \(inductive\)/);
      expect(inductive.stdout).not.toMatch(/target mean NMI/);
      expect((await bench(['--task', 'kmeans'])).stderr).toMatch(/--task expects one of n2d, n2d-aug, got kmeans/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

function mostCommon(values: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (const v of Array.from(values)) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}
