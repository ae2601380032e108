import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExportedFile } from '../../src-main/contract/index';
import { handleQuery } from '../../src-main/service/queries';
import { runCli, tempHome } from '../helpers/cli';

// Experiment 1 end to end through the CLI on a real subset of Fashion-MNIST.
describe('CLI: experiment 1 (k-means on raw pixels)', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  let result: {
    id: number;
    task: string;
    params: Record<string, unknown>;
    backend: string;
    metrics: { accuracy: number; nmi: number; ari: number };
    mapping: number[];
    confusion: number[][];
    report: { perClass: { support: number }[] };
    timings: Record<string, number>;
  };

  beforeAll(async () => {
    const out = await runCli(
      ['run', '--task', 'kmeans', '--train-limit', '5000', '--test-limit', '1000', '--n-init', '3', '--seed', '0', '--json'],
      env,
    );
    expect(out.stderr).not.toMatch(/Error/);
    expect(out.code).toBe(0);
    result = JSON.parse(out.stdout);
  }, 300_000);

  it('prints exactly one JSON object with the study’s figures', () => {
    expect(result.task).toBe('kmeans');
    expect(result.params).toMatchObject({ k: 10, nInit: 3, seed: 0, trainLimit: 5000, testLimit: 1000 });
    expect(result.metrics.accuracy).toBeGreaterThanOrEqual(0.45);
    expect(result.metrics.nmi).toBeGreaterThan(0.4);
    expect(result.metrics.ari).toBeGreaterThan(0.25);
    expect([...result.mapping].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const total = result.confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(1000);
    const diagonal = result.confusion.reduce((s, row, i) => s + row[i], 0);
    expect(diagonal / total).toBeCloseTo(result.metrics.accuracy, 10);
    expect(result.report.perClass.reduce((s, c) => s + c.support, 0)).toBe(1000);
    expect(result.timings.fitMs).toBeGreaterThan(0);
  });

  it('stores the run, with its dataset identity and assignments', async () => {
    const out = await runCli(['runs', 'show', String(result.id), '--json'], env);
    expect(out.code).toBe(0);
    const run = JSON.parse(out.stdout);
    expect(run.status).toBe('completed');
    expect(run.metrics.accuracy).toBe(result.metrics.accuracy);
    expect(run.dataset.fitSize).toBe(5000);
    expect(run.dataset.evalSize).toBe(1000);
    expect(run.dataset.pixelStats.min).toBe(0);
    expect(run.dataset.pixelStats.max).toBe(1);
    expect(Object.keys(run.dataset.checksums).length).toBe(4);
    expect(existsSync(join(home, 'runs.sqlite'))).toBe(true);
  });

  it('prints a readable report like the study’s', async () => {
    const out = await runCli(['runs', 'show', String(result.id)], env);
    expect(out.stdout).toMatch(/Cluster → label/);
    expect(out.stdout).toMatch(/precision\s+recall\s+f1-score\s+support/);
    expect(out.stdout).toMatch(/Ankle boot/);
    expect(out.stdout).toMatch(/Accuracy \d+\.\d\d%/);
  });

  it('lists, compares, exports and deletes runs', async () => {
    const second = JSON.parse(
      (
        await runCli(
          ['run', '--task', 'kmeans', '--train-limit', '2000', '--test-limit', '500', '--n-init', '1', '--seed', '1', '--json'],
          env,
        )
      ).stdout,
    );
    const list = await runCli(['runs', 'list'], env);
    expect(list.stdout).toMatch(new RegExp(`^\\s*${second.id}\\s+kmeans\\s+completed`, 'm'));
    const cmp = await runCli(['runs', 'compare', String(result.id), String(second.id)], env);
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/^\*\s+param seed\s+0\s+1/m);
    expect(cmp.stdout).toMatch(/^\s+param k\s+10\s+10/m);

    const svg = join(home, 'confusion.svg');
    const png = join(home, 'confusion.png');
    expect((await runCli(['export', 'confusion', String(result.id), '--out', svg], env)).code).toBe(0);
    expect((await runCli(['export', 'confusion', String(result.id), '--out', png], env)).code).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');

    expect((await runCli(['runs', 'delete', String(second.id)], env)).code).toBe(0);
    const gone = await runCli(['runs', 'show', String(second.id)], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/No run #\d+/);
  }, 120_000);

  it('exports the very files the app saves: the confusion figure, the run as JSON, the history as CSV', async () => {
    // The app's export.* operations, answered as the engine worker answers the UI.
    const ctx = { dbPath: join(home, 'runs.sqlite'), busy: () => false, emit: () => undefined };
    const appFile = async (op: 'export.confusion' | 'export.runJson' | 'export.historyCsv', request: object) =>
      ((await handleQuery(op, request, ctx)) as ExportedFile).data;
    const out = (name: string) => join(home, `same-${name}`);
    const id = String(result.id);
    for (const args of [
      ['confusion', id, '--out', out('confusion.svg')],
      ['confusion', id, '--normalize', '--out', out('normalized.svg')],
      ['run', id, '--out', out('run.json')],
      ['history', '--out', out('history.csv')],
    ]) {
      const cli = await runCli(['export', ...args], env);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toBe(`Wrote ${args[args.length - 1]}\n`);
    }
    // zrender numbers its renders and their ids within a process (zr0-cls-1, zr1-g0…): the same figure but for those
    const svg = (text: string) => text.replace(/\bzr\d+-([a-z]+-?)\d+/g, 'zr-$1');
    expect(svg(readFileSync(out('confusion.svg'), 'utf8'))).toBe(svg(await appFile('export.confusion', { id: result.id, format: 'svg' })));
    expect(svg(readFileSync(out('normalized.svg'), 'utf8'))).toBe(
      svg(await appFile('export.confusion', { id: result.id, format: 'svg', normalize: true })),
    );
    expect(readFileSync(out('run.json'), 'utf8')).toBe(await appFile('export.runJson', { id: result.id }));
    expect(JSON.parse(readFileSync(out('run.json'), 'utf8')).assignments).toHaveLength(1000);
    expect(readFileSync(out('history.csv'), 'utf8')).toBe(await appFile('export.historyCsv', {}));
    expect(readFileSync(out('history.csv'), 'utf8')).toMatch(new RegExp(`^${result.id},kmeans,completed,`, 'm'));
    // an --out file already there is kept unless --force, as for every export
    const again = await runCli(['export', 'history', '--out', out('run.json')], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/it exists \(add --force to replace it\)/);
  }, 120_000);
});

describe('CLI: bad input is rejected before any work, with one clear line', () => {
  const env = { CLUSTERBENCH_HOME: tempHome() };
  const cases: [string[], RegExp][] = [
    [['run', '--task', 'kmeans', '--k', '1'], /--k must be ≥ 2/],
    [['run', '--task', 'kmeans', '--n-init', '0'], /--n-init must be ≥ 1/],
    [['run', '--task', 'kmeans', '--k', 'ten'], /expected a number, got "ten"/],
    [['run', '--task', 'nope'], /Allowed choices are kmeans/],
    [['run', '--task', 'kmeans', '--k', '50', '--train-limit', '20'], /--k 50 clusters for only 20 training images/],
    [['runs', 'show', '999'], /No run #999/],
    [['export', 'confusion', '1', '--out', 'x.gif'], /No run #1|\.gif/],
    [['run', '--task', 'kmeans', '--data', '/nonexistent/folder'], /\/nonexistent\/folder/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const out = await runCli(args, env);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toMatch(message);
      expect(
        out.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('clusterbench:') || l.startsWith('error:')).length,
      ).toBe(1);
      expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
    });
  }

  it('leaves no run behind after rejected parameters', async () => {
    const out = await runCli(['runs', 'list', '--json'], env);
    expect(JSON.parse(out.stdout)).toEqual([]);
  });
});
