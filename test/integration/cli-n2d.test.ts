import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleQuery } from '../../src-main/service/queries';
import type { RunEmbedding } from '../../src-main/contract/index';
import { runCli, tempHome } from '../helpers/cli';

interface RunJson {
  id: number;
  task: string;
  backend: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  losses: { epoch: number; trainLoss: number; valLoss: number | null }[];
  timings: Record<string, number>;
}

// The N2D preset and the free pipeline end to end through the CLI, on a small real subset.
describe('CLI: autoencoder → UMAP → GMM (n2d preset, pipeline)', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  const db = join(home, 'runs.sqlite');
  let n2d: RunJson;

  const show = async (id: number) => JSON.parse((await runCli(['runs', 'show', String(id), '--json'], env)).stdout);
  const embedding = (id: number, maxPoints?: number) =>
    handleQuery('runs.embedding', { id, maxPoints }, { dbPath: db, busy: () => false, emit: () => undefined }) as Promise<RunEmbedding>;

  beforeAll(async () => {
    const out = await runCli(
      [
        'run',
        '--task',
        'n2d',
        '--train-limit',
        '3000',
        '--test-limit',
        '1000',
        '--epochs',
        '6',
        '--umap-epochs',
        '150',
        '--backend',
        'wasm',
        '--json',
      ],
      env,
    );
    expect(out.stderr).not.toMatch(/clusterbench:/);
    expect(out.code).toBe(0);
    n2d = JSON.parse(out.stdout);
  }, 600_000);

  it("runs N2D's recipe with its defaults, transductively, well above chance", async () => {
    expect(n2d.task).toBe('n2d');
    expect(n2d.backend).toBe('wasm');
    expect(n2d.params).toMatchObject({
      encoder: 'dense',
      layers: [500, 500, 2000],
      codeSize: 10,
      loss: 'mse',
      batchSize: 256,
      learningRate: 0.001,
      valSplit: 0,
      epochs: 6,
      umap: true,
      umapNeighbors: 20,
      umapMinDist: 0,
      umapComponents: null,
      protocol: 'transductive',
      cluster: 'gmm',
      covariance: 'full',
    });
    expect(n2d.losses.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(n2d.losses[5].trainLoss).toBeLessThan(n2d.losses[0].trainLoss);
    expect(n2d.metrics).toMatchObject({ fitRows: 4000, umapComponents: 10, umapEpochs: 150, encoderParams: 3_330_794 });
    // 10 classes: chance is 0.1
    expect(n2d.metrics.accuracy).toBeGreaterThan(0.4);
    expect(n2d.metrics.nmi).toBeGreaterThan(0.35);
    for (const stage of ['trainMs', 'encodeMs', 'umapMs', 'fitMs', 'mapMs']) expect(n2d.timings[stage], stage).toBeGreaterThan(0);

    const run = await show(n2d.id);
    expect(run.artifacts).toMatchObject({
      protocol: 'transductive',
      encoderFitOn: 'train+test',
      architecture: 'dense-ae-v1:784-500-500-2000-10:mse',
      codeSize: '10',
      embeddingDims: '10',
      map2dMethod: 'umap',
    });
    expect(existsSync(join(run.artifacts.autoencoder, 'model.json'))).toBe(true);
    expect(readFileSync(run.artifacts.embeddingEval).byteLength).toBe(1000 * 10 * 4);
    expect(readFileSync(run.artifacts.map2dEval).byteLength).toBe(1000 * 2 * 4);
    expect(readFileSync(run.artifacts.codesFit).byteLength).toBe(3000 * 10 * 4);
  });

  it('serves the 2-D map of the eval images (runs.embedding), thinned on request', async () => {
    const all = await embedding(n2d.id);
    expect(all).toMatchObject({ method: 'umap', source: 'map' });
    expect(all.indices).toHaveLength(1000);
    expect(all.points).toHaveLength(2000);
    expect(all.points.every(Number.isFinite)).toBe(true);
    const exported = (await handleQuery('export.runJson', { id: n2d.id }, { dbPath: db, busy: () => false, emit: () => undefined })) as {
      data: string;
    };
    expect(all.clusters).toEqual(JSON.parse(exported.data).assignments);
    const few = await embedding(n2d.id, 100);
    expect(few.indices).toHaveLength(100);
    expect(few.indices[1]).toBe(10);
    expect(few.points.slice(2, 4)).toEqual(all.points.slice(20, 22));
    expect(few.labels[1]).toBe(all.labels[10]);
    await expect(embedding(99_999)).rejects.toThrow(/No run #99999/);
  });

  it("shows a dense autoencoder's reconstruction of an eval image (runs.imageDetail)", async () => {
    const detail = (await handleQuery(
      'runs.imageDetail',
      { id: n2d.id, index: 3 },
      { dbPath: db, busy: () => false, emit: () => undefined },
    )) as {
      reconstructionBase64: string | null;
      pixelsBase64: string;
    };
    expect(detail.reconstructionBase64).not.toBeNull();
    expect(Buffer.from(detail.reconstructionBase64!, 'base64')).toHaveLength(784);
    expect(Buffer.from(detail.pixelsBase64, 'base64')).toHaveLength(784);
  });

  it('pipeline: reuses the dense encoder and its codes, clusters them without UMAP; older-style runs get a PCA map', async () => {
    const out = await runCli(
      [
        'run',
        '--task',
        'pipeline',
        '--train-limit',
        '3000',
        '--test-limit',
        '1000',
        '--reuse-encoder',
        String(n2d.id),
        '--no-umap',
        '--cluster',
        'kmeans',
        '--n-init',
        '3',
        '--map2d',
        'none',
        '--json',
      ],
      env,
    );
    expect(out.stderr).not.toMatch(/clusterbench:/);
    expect(out.code).toBe(0);
    const run = JSON.parse(out.stdout) as RunJson;
    expect(run.params).toMatchObject({
      task: 'pipeline',
      encoder: 'dense',
      umap: false,
      cluster: 'kmeans',
      protocol: 'inductive',
      reuseEncoder: n2d.id,
    });
    expect(run.metrics.accuracy).toBeGreaterThan(0.3);
    expect(run.losses).toEqual(n2d.losses);
    expect(run.timings.umapMs).toBeUndefined();
    const stored = await show(run.id);
    expect(stored.artifacts).toMatchObject({
      reusedEncoderFrom: String(n2d.id),
      reusedCodesFrom: String(n2d.id),
      encoderFitOn: 'train+test',
      protocol: 'inductive',
    });
    expect(stored.artifacts.map2dEval).toBeUndefined();
    const map = await embedding(run.id);
    expect(map).toMatchObject({ method: 'pca', source: 'codes' });
    expect(map.points).toHaveLength(2000);
  }, 180_000);

  it('pipeline: UMAP on raw pixels, inductive (fit on the training images, transform the test images)', async () => {
    const out = await runCli(
      [
        'run',
        '--task',
        'pipeline',
        '--encoder',
        'none',
        '--train-limit',
        '1500',
        '--test-limit',
        '500',
        '--umap-components',
        '5',
        '--umap-epochs',
        '100',
        '--cluster',
        'kmeans',
        '--n-init',
        '3',
        '--map2d',
        'pca',
        '--json',
      ],
      env,
    );
    expect(out.stderr).not.toMatch(/clusterbench:/);
    expect(out.code).toBe(0);
    const run = JSON.parse(out.stdout) as RunJson;
    expect(run.metrics).toMatchObject({ fitRows: 1500, umapComponents: 5 });
    expect(run.metrics.accuracy).toBeGreaterThan(0.35);
    const stored = await show(run.id);
    expect(stored.artifacts).toMatchObject({ protocol: 'inductive', embeddingDims: '5', map2dMethod: 'pca' });
    expect(stored.artifacts.autoencoder).toBeUndefined();
    expect(await embedding(run.id)).toMatchObject({ method: 'pca', source: 'map' });
  }, 180_000);

  it("pipeline: the study's conv autoencoder, transductive, then UMAP and GMM", async () => {
    const out = await runCli(
      [
        'run',
        '--task',
        'pipeline',
        '--encoder',
        'conv',
        '--protocol',
        'transductive',
        '--train-limit',
        '800',
        '--test-limit',
        '200',
        '--epochs',
        '1',
        '--batch-size',
        '64',
        '--umap-epochs',
        '60',
        '--covariance',
        'diag',
        '--map2d',
        'none',
        '--json',
      ],
      env,
    );
    expect(out.stderr).not.toMatch(/clusterbench:/);
    expect(out.code).toBe(0);
    const run = JSON.parse(out.stdout) as RunJson;
    expect(run.metrics).toMatchObject({ fitRows: 1000, umapComponents: 10, encoderParams: 12_785 });
    expect(run.losses).toHaveLength(1);
    expect(run.losses[0].valLoss).not.toBeNull();
    expect(run.metrics.accuracy).toBeGreaterThan(0.2);
    const stored = await show(run.id);
    expect(stored.artifacts).toMatchObject({
      architecture: 'conv-ae-study-v1',
      codeSize: '128',
      encoderFitOn: 'train+test',
      protocol: 'transductive',
    });
    expect(readFileSync(stored.artifacts.codesEval).byteLength).toBe(200 * 128 * 4);
  }, 180_000);

  it('runs without codes or a map get a PCA of the raw pixels', async () => {
    const out = await runCli(['run', '--task', 'kmeans', '--train-limit', '500', '--test-limit', '200', '--n-init', '1', '--json'], env);
    expect(out.code).toBe(0);
    const map = await embedding(JSON.parse(out.stdout).id, 50);
    expect(map).toMatchObject({ method: 'pca', source: 'pixels' });
    expect(map.indices).toHaveLength(50);
    expect(map.points.every(Number.isFinite)).toBe(true);
  }, 120_000);

  it('rejects bad pipeline and UMAP parameters before any run exists, naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--task', 'n2d', '--umap-neighbors', '1'], /--umap-neighbors must be ≥ 2/],
      [['--task', 'n2d', '--umap-min-dist', '-0.5'], /--umap-min-dist must be ≥ 0/],
      [['--task', 'n2d', '--umap-min-dist', '2'], /--umap-min-dist must be ≤ 1/],
      [['--task', 'n2d', '--umap-components', '0'], /--umap-components must be ≥ 1/],
      [['--task', 'n2d', '--umap-epochs', '0'], /--umap-epochs must be ≥ 1/],
      [['--task', 'n2d', '--umap-neighbors', '5000'], /--umap-neighbors must be ≤ 200/],
      [
        ['--task', 'n2d', '--umap-neighbors', '150', '--train-limit', '100', '--test-limit', '20'],
        /--umap-neighbors 150 neighbours need more than 150 points, got 120/,
      ],
      [
        ['--task', 'pipeline', '--umap-neighbors', '100', '--train-limit', '100', '--test-limit', '20'],
        /--umap-neighbors 100 neighbours need more than 100 points, got 100/,
      ],
      [['--task', 'n2d', '--layers', '500,abc'], /expected comma-separated layer sizes such as 500,500,2000, got "500,abc"/],
      [['--task', 'n2d', '--layers', '500,0'], /--layers must be ≥ 1/],
      [['--task', 'n2d', '--code-size', '0'], /--code-size must be ≥ 1/],
      [['--task', 'n2d-aug', '--aug-rotation', '90'], /--aug-rotation must be ≤ 45/],
      [['--task', 'n2d-aug', '--aug-shift', '-0.1'], /--aug-shift must be ≥ 0/],
      [['--task', 'n2d-aug', '--aug-shift', 'wide'], /--aug-shift/],
      [['--task', 'pipeline', '--encoder', 'banana'], /Allowed choices are none, conv, dense/],
      [['--task', 'pipeline', '--protocol', 'sideways'], /Allowed choices are transductive, inductive/],
      [['--task', 'pipeline', '--encoder', 'none', '--reuse-encoder', '1'], /--reuse-encoder there is no encoder to reuse/],
      [
        ['--task', 'pipeline', '--reuse-encoder', String(n2d.id), '--code-size', '8'],
        /used architecture 'dense-ae-v1:784-500-500-2000-10:mse', not 'dense-ae-v1:784-500-500-2000-8:mse'/,
      ],
      [['--task', 'pipeline', '--encoder', 'conv', '--reuse-encoder', String(n2d.id)], /not 'conv-ae-study-v1'/],
    ];
    const before = JSON.parse((await runCli(['runs', 'list', '--json'], env)).stdout).length;
    for (const [args, message] of cases) {
      const out = await runCli(['run', ...args], env);
      expect(out.code, args.join(' ')).not.toBe(0);
      expect(out.stderr, args.join(' ')).toMatch(message);
    }
    expect(JSON.parse((await runCli(['runs', 'list', '--json'], env)).stdout).length).toBe(before);
  }, 300_000);
});
