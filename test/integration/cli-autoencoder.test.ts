import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runArtifactsDir } from '../../src-main/engine/store';
import { runCli, tempHome } from '../helpers/cli';

// Experiments 2 and 3 end to end through the CLI on a real subset, with the study's autoencoder.
describe('CLI: experiments 2 and 3 (autoencoder codes → k-means / GMM)', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  const subset = ['--train-limit', '3000', '--test-limit', '1000'];
  let ae: {
    id: number;
    backend: string;
    metrics: Record<string, number>;
    losses: { epoch: number; trainLoss: number; valLoss: number | null }[];
    params: Record<string, unknown>;
  };

  beforeAll(async () => {
    const out = await runCli(
      ['run', '--task', 'ae-kmeans', ...subset, '--epochs', '2', '--n-init', '3', '--backend', 'wasm', '--json'],
      env,
    );
    expect(out.stderr).not.toMatch(/clusterbench:/);
    expect(out.code).toBe(0);
    ae = JSON.parse(out.stdout);
  }, 600_000);

  it('trains the autoencoder, stores per-epoch train and validation losses, and clusters its codes', () => {
    expect(ae.params).toMatchObject({ task: 'ae-kmeans', epochs: 2, batchSize: 128, learningRate: 0.01, valSplit: 0.1 });
    expect(ae.backend).toBe('wasm');
    expect(ae.losses.map((l) => l.epoch)).toEqual([1, 2]);
    expect(ae.losses[1].trainLoss).toBeLessThan(ae.losses[0].trainLoss);
    expect(ae.losses.every((l) => l.valLoss !== null && l.valLoss > 0 && l.valLoss < 1)).toBe(true);
    expect(ae.metrics.trainImagesPerSec).toBeGreaterThan(0);
    // 10 classes: chance is 0.1
    expect(ae.metrics.accuracy).toBeGreaterThan(0.3);
    expect(existsSync(join(runArtifactsDir(join(home, 'runs.sqlite'), ae.id), 'autoencoder', 'model.json'))).toBe(true);
  });

  it('experiment 3 reuses the encoder and its codes: nothing is trained or encoded again', async () => {
    const out = await runCli(
      ['run', '--task', 'ae-gmm', ...subset, '--reuse-encoder', String(ae.id), '--covariance', 'diag', '--json'],
      env,
    );
    expect(out.code).toBe(0);
    const gmm = JSON.parse(out.stdout);
    expect(gmm.task).toBe('ae-gmm');
    expect(gmm.params).toMatchObject({ covariance: 'diag', reuseEncoder: ae.id });
    expect(gmm.metrics.accuracy).toBeGreaterThan(0.3);
    expect(Number.isFinite(gmm.metrics.logLikelihood)).toBe(true);
    expect(gmm.losses).toEqual(ae.losses);
    expect(gmm.timings).not.toHaveProperty('trainMs');
    expect(gmm.timings).not.toHaveProperty('encodeMs');
    expect(gmm.metrics).not.toHaveProperty('epochsRun');
    const shown = JSON.parse((await runCli(['runs', 'show', String(gmm.id), '--json'], env)).stdout);
    expect(shown.artifacts).toMatchObject({ reusedEncoderFrom: String(ae.id), reusedCodesFrom: String(ae.id) });
    // Nothing was trained: the listing must not claim the training defaults (epochs=50 …) for this run.
    const listed = (await runCli(['runs', 'list'], env)).stdout.split('\n').find((line) => line.trimStart().startsWith(`${gmm.id} `));
    expect(listed).toMatch(new RegExp(`reuseEncoder=${ae.id}`));
    expect(listed).not.toMatch(/epochs=|learningRate=/);
    const compared = (await runCli(['runs', 'compare', String(ae.id), String(gmm.id)], env)).stdout;
    expect(compared).toMatch(/param epochs\s+2\s+—/);
  }, 120_000);

  it('a reused encoder on other images encodes them again', async () => {
    const out = await runCli(
      [
        'run',
        '--task',
        'ae-kmeans',
        '--train-limit',
        '1500',
        '--test-limit',
        '500',
        '--n-init',
        '1',
        '--reuse-encoder',
        String(ae.id),
        '--json',
      ],
      env,
    );
    expect(out.code).toBe(0);
    const run = JSON.parse((await runCli(['runs', 'show', String(JSON.parse(out.stdout).id), '--json'], env)).stdout);
    expect(run.artifacts.reusedEncoderFrom).toBe(String(ae.id));
    expect(run.artifacts.reusedCodesFrom).toBeUndefined();
    expect(run.timings.encodeMs).toBeGreaterThan(0);
  }, 120_000);

  it('rejects bad autoencoder parameters before any work', async () => {
    const kmeansRun = JSON.parse(
      (await runCli(['run', '--task', 'kmeans', '--train-limit', '500', '--test-limit', '100', '--n-init', '1', '--json'], env)).stdout,
    );
    const cases: [string[], RegExp][] = [
      [['--lr', '0'], /--lr must be > 0/],
      [['--lr', 'abc'], /expected a number, got "abc"/],
      [['--epochs', '0'], /--epochs must be ≥ 1/],
      [['--batch-size', '0'], /--batch-size must be ≥ 1/],
      [['--batch-size', '5000', '--train-limit', '1000'], /--batch-size 5000 is larger than the 900 training images/],
      [['--val-split', '0.6'], /--val-split must be ≤ 0\.5/],
      [['--reuse-encoder', '999'], /--reuse-encoder no such run/],
      [['--reuse-encoder', String(kmeansRun.id)], /has no trained autoencoder/],
      [['--covariance', 'banana'], /Allowed choices are full, diag, spherical/],
    ];
    const before = JSON.parse((await runCli(['runs', 'list', '--json'], env)).stdout).length;
    for (const [args, message] of cases) {
      const out = await runCli(['run', '--task', 'ae-gmm', ...args], env);
      expect(out.code, args.join(' ')).not.toBe(0);
      expect(out.stderr, args.join(' ')).toMatch(message);
    }
    expect(JSON.parse((await runCli(['runs', 'list', '--json'], env)).stdout).length).toBe(before);
  }, 120_000);
});
