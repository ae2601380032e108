/**
 * The renderer's sweep logic (pure, no browser): the seeds and grid fields of New experiment read and checked
 * with the parameters' own schemas, agreeing with the engine's sweep plan; mean ± sd texts; the chart options.
 */
import { describe, expect, it } from 'vitest';
import type { SweepChild, SweepRow } from '../../src-main/contract/index';
import { planSweep } from '../../src-main/engine/schema/sweep';
import { meanSd } from '../../src-main/engine/schema/sweep-summary';
import { pointsAgainst, sweepMetricOption, sweepParallelOption } from '../../src-renderer/src/charts/sweep';
import { gridParams, meanSdText, parseGridRow, parseSeeds, sweepRunCount, type GridRow } from '../../src-renderer/src/lib/sweep';

const ok = <T>(p: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!p.ok) throw new Error(`expected a value, got: ${p.error}`);
  return p.value;
};
const err = (p: { ok: boolean; error?: string }): string | undefined => (p.ok ? undefined : p.error);

describe('seeds field', () => {
  it('reads lists and ranges, in the order given', () => {
    expect(ok(parseSeeds('0, 1, 2'))).toEqual([0, 1, 2]);
    expect(ok(parseSeeds('0-4'))).toEqual([0, 1, 2, 3, 4]);
    expect(ok(parseSeeds('7 0..2'))).toEqual([7, 0, 1, 2]);
  });

  it('refuses in one line, with the seed schema’s message', () => {
    expect(err(parseSeeds(''))).toBe('list at least one seed');
    expect(err(parseSeeds('0, -1'))).toBe('-1: must be ≥ 0');
    expect(err(parseSeeds('1, x'))).toBe('x: must be a number');
    expect(err(parseSeeds('1.5'))).toBe('1.5: must be an integer');
    expect(err(parseSeeds('0, 1, 1'))).toBe('seed 1 is listed twice');
  });

  it('reads decimal seeds only, as the CLI does (0x10 was seed 16)', () => {
    for (const token of ['0x10', '0b11', '0o17', '1_000', '1e', 'Infinity'])
      expect(err(parseSeeds(`0, ${token}`)), token).toBe(`${token}: must be a number`);
    expect(ok(parseSeeds('010, 7'))).toEqual([10, 7]);
    expect(err(parseSeeds('5-2'))).toMatch(/^5-2: a range goes up/);
    expect(err(parseSeeds('0-5000'))).toBe('0-5000: more than 1000 seeds');
  });
});

describe('grid rows', () => {
  const row = (param: GridRow['param'], text: string): GridRow => ({ param, text });

  it('reads each value as its parameter’s kind: numbers, choices, switches, lists, null by the unset word', () => {
    expect(ok(parseGridRow(row('k', '4, 6 8'), 'kmeans'))).toEqual([4, 6, 8]);
    expect(ok(parseGridRow(row('learningRate', '0.01, 1e-3'), 'ae-kmeans'))).toEqual([0.01, 0.001]);
    expect(ok(parseGridRow(row('covariance', 'full, diag'), 'ae-gmm'))).toEqual(['full', 'diag']);
    expect(ok(parseGridRow(row('umap', 'true, false'), 'pipeline'))).toEqual([true, false]);
    expect(ok(parseGridRow(row('layers', '64, 64; 500 500 2000'), 'n2d'))).toEqual([
      [64, 64],
      [500, 500, 2000],
    ]);
    expect(ok(parseGridRow(row('patience', 'off, 5'), 'ae-gmm'))).toEqual([null, 5]);
  });

  it('refuses a value its schema refuses, naming the value', () => {
    expect(err(parseGridRow(row('k', '4, 1'), 'kmeans'))).toBe('1: must be ≥ 2');
    expect(err(parseGridRow(row('k', '4, many'), 'kmeans'))).toBe('many: must be a number');
    expect(err(parseGridRow(row('covariance', 'full, round'), 'ae-gmm'))).toMatch(/^round: /);
    expect(err(parseGridRow(row('layers', '64, 0'), 'n2d'))).toBe('64, 0: must be ≥ 1');
    expect(err(parseGridRow(row('k', '4, 4'), 'kmeans'))).toBe('4 is listed twice');
    expect(err(parseGridRow(row('k', ' '), 'kmeans'))).toBe('list at least one value');
    expect(err(parseGridRow(row('', '4'), 'kmeans'))).toBe('pick a parameter');
    expect(err(parseGridRow(row('epochs', '1, 2'), 'kmeans'))).toBe('Epochs is not a parameter of this task');
  });

  it('offers every parameter the task takes but the seed', () => {
    expect(gridParams('kmeans')).toContain('k');
    expect(gridParams('kmeans')).not.toContain('seed');
    expect(gridParams('kmeans')).not.toContain('epochs');
    expect(gridParams('n2d')).toEqual(expect.arrayContaining(['layers', 'umapNeighbors', 'covariance', 'epochs']));
  });

  it('what the form accepts, the engine’s plan accepts, with the same run count', () => {
    const grid: [string, unknown[]][] = [
      ['k', ok(parseGridRow(row('k', '5, 10'), 'ae-gmm'))],
      ['covariance', ok(parseGridRow(row('covariance', 'full, diag, spherical'), 'ae-gmm'))],
    ];
    const seeds = ok(parseSeeds('0-1'));
    const plan = planSweep({ params: { task: 'ae-gmm', epochs: 1 }, grid, seeds });
    expect(plan.runs).toBe(sweepRunCount(grid, seeds.length));
    expect(plan.runs).toBe(12);
  });
});

describe('mean ± sd texts', () => {
  it('accuracy in % with the sd in points, NMI/ARI to 4 places, time as durations; the mean alone for n < 2', () => {
    const acc = meanSd([0.5, 0.55, 0.6]);
    expect(meanSdText('accuracy', acc)).toBe('55.00% ± 5.00');
    expect(meanSdText('nmi', meanSd([0.51, 0.53]))).toBe('0.5200 ± 0.0141');
    expect(meanSdText('totalMs', meanSd([1000, 3000]))).toBe('2.0 s ± 1.4 s');
    expect(meanSdText('accuracy', meanSd([0.4321]))).toBe('43.21%');
    expect(meanSdText('ari', meanSd([]))).toBe('—');
  });
});

describe('sweep charts', () => {
  const ms = (values: number[]) => meanSd(values);
  const rows: SweepRow[] = [
    {
      values: { k: 10, covariance: 'full' },
      n: 2,
      accuracy: ms([0.5, 0.6]),
      nmi: ms([0.4, 0.5]),
      ari: ms([0.3, 0.4]),
      silhouette: ms([]),
      bic: ms([]),
      totalMs: ms([1, 2]),
      best: false,
    },
    {
      values: { k: 5, covariance: 'full' },
      n: 2,
      accuracy: ms([0.4, 0.5]),
      nmi: ms([0.4, 0.5]),
      ari: ms([0.3, 0.4]),
      silhouette: ms([]),
      bic: ms([]),
      totalMs: ms([1, 2]),
      best: false,
    },
    {
      values: { k: 10, covariance: 'diag' },
      n: 2,
      accuracy: ms([0.6, 0.7]),
      nmi: ms([0.4, 0.5]),
      ari: ms([0.3, 0.4]),
      silhouette: ms([]),
      bic: ms([]),
      totalMs: ms([1, 2]),
      best: true,
    },
    {
      values: { k: 5, covariance: 'diag' },
      n: 0,
      accuracy: ms([]),
      nmi: ms([]),
      ari: ms([]),
      silhouette: ms([]),
      bic: ms([]),
      totalMs: ms([]),
      best: false,
    },
  ];
  const child = (index: number, k: number, seed: number, accuracy: number | null): SweepChild => ({
    index,
    values: { k, seed },
    state: accuracy === null ? 'pending' : 'completed',
    run:
      accuracy === null
        ? null
        : {
            id: index + 1,
            task: 'kmeans',
            status: 'completed',
            params: {},
            backend: 'cpu',
            startedAt: '',
            endedAt: '',
            error: null,
            accuracy,
            nmi: 0.5,
            ari: 0.4,
            silhouette: 0.2,
            dataset: { name: 'fashion-mnist', labelled: true, shape: '28×28×1' },
            totalMs: 1000,
            sweepId: 1,
          },
  });

  it('a grid parameter: means ± sd per value, numbers ascending, one line per other combination', () => {
    const { categories, points } = pointsAgainst(rows, [], 'k', 'accuracy');
    expect(categories).toEqual(['5', '10']);
    expect(points).toHaveLength(3); // the row with nothing completed has no point
    const option = sweepMetricOption({ categories, points, param: 'k', metric: 'accuracy' }, { dark: false }) as {
      series: { type: string; name: string; data: unknown[] }[];
    };
    const lines = option.series.filter((s) => s.type === 'line');
    const bars = option.series.filter((s) => s.type === 'custom');
    expect(lines.map((s) => s.name)).toEqual(['Covariance full', 'Covariance diag']);
    // full: k=10 → mean 55%, k=5 → 45%; error bars from mean − sd to mean + sd (in %)
    expect(lines[0].data).toEqual([
      { value: [1, expect.closeTo(55, 9)], sd: expect.closeTo(7.0711, 3) },
      { value: [0, expect.closeTo(45, 9)], sd: expect.closeTo(7.0711, 3) },
    ]);
    const [x, low, high] = bars[0].data[0] as number[];
    expect(x).toBe(1);
    expect(low).toBeCloseTo(55 - 7.0711, 3);
    expect(high).toBeCloseTo(55 + 7.0711, 3);
  });

  it('the seed: each completed child’s own value, no error bars', () => {
    const children = [child(0, 5, 0, 0.4), child(1, 5, 1, 0.5), child(2, 10, 0, 0.6), child(3, 10, 1, null)];
    const { categories, points } = pointsAgainst([], children, 'seed', 'accuracy');
    expect(categories).toEqual(['0', '1']);
    expect(points.map((p) => [p.x, p.group, p.mean, p.sd])).toEqual([
      ['0', 'k (clusters) 5', 0.4, null],
      ['1', 'k (clusters) 5', 0.5, null],
      ['0', 'k (clusters) 10', 0.6, null],
    ]);
  });

  it('parallel coordinates: an axis per varied parameter and the accuracy, a line per completed child', () => {
    const children = [child(0, 5, 0, 0.4), child(1, 5, 1, 0.5), child(2, 10, 0, 0.6), child(3, 10, 1, null)];
    const option = sweepParallelOption(children, ['k', 'seed'], { dark: false }) as {
      parallelAxis: { name: string; data?: string[] }[];
      series: { data: unknown[][] }[];
      visualMap: { min: number; max: number };
    };
    expect(option.parallelAxis.map((a) => a.name)).toEqual(['k (clusters)', 'Seed', 'Accuracy (%)']);
    expect(option.parallelAxis[0].data).toEqual(['5', '10']);
    expect(option.series[0].data).toEqual([
      ['5', '0', 40],
      ['5', '1', 50],
      ['10', '0', 60],
    ]);
    expect([option.visualMap.min, option.visualMap.max]).toEqual([40, 60]);
  });
});
