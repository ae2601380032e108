import { describe, expect, it } from 'vitest';
import {
  encoderKey,
  gridCombinations,
  MAX_SWEEP_NAME,
  MAX_SWEEP_RUNS,
  planOfStored,
  planSweep,
  sweepRunCount,
  SweepPlanError,
} from '../../src-main/engine/schema/sweep';
import { requests } from '../../src-main/contract/index';
import { numberArg } from '../../src-main/cli/args';
import { confusionMean, meanSd, sweepRows, type ChildOutcome } from '../../src-main/engine/schema/sweep-summary';
import type { RunRecord } from '../../src-main/engine/store/types';
import { estimateSweep } from '../../src-main/service/sweep-ops';
import { gridArg } from '../../src-main/cli/commands/sweep';
import { paramFlag, paramNamed } from '../../src-main/cli/param-options';
import { PARAM_NAMES } from '../../src-main/engine/schema/params';

function refusal(request: Parameters<typeof planSweep>[0]): string {
  try {
    planSweep(request);
  } catch (err) {
    expect(err).toBeInstanceOf(SweepPlanError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected the plan to be refused');
}

describe('sweep plan', () => {
  it('expands grid × seeds in order, seed innermost, every child validated with defaults filled', () => {
    const plan = planSweep({
      params: { task: 'ae-gmm', epochs: 1, trainLimit: 500 },
      grid: [
        ['k', [5, 10]],
        ['covariance', ['full', 'diag']],
      ],
      seeds: [0, 1, 2],
    });
    expect(plan.runs).toBe(12);
    expect(plan.combinations).toBe(4);
    expect(plan.children.map((c) => c.values)).toEqual(
      [5, 10].flatMap((k) => ['full', 'diag'].flatMap((covariance) => [0, 1, 2].map((seed) => ({ k, covariance, seed })))),
    );
    plan.children.forEach((child, i) => {
      expect(child.index).toBe(i);
      expect(child.combination).toBe(Math.floor(i / 3));
      expect(child.params).toMatchObject({ task: 'ae-gmm', epochs: 1, trainLimit: 500, batchSize: 128, seed: [0, 1, 2][i % 3] });
    });
    expect(plan.base).not.toHaveProperty('seed');
    expect(plan.base).toMatchObject({ task: 'ae-gmm', epochs: 1, k: 5, covariance: 'full' });
    // a stored sweep plans the same children again
    expect(planOfStored({ base: plan.base, grid: plan.grid, seeds: plan.seeds }).children).toEqual(plan.children);
  });

  it('a seeds-only sweep is one combination; the params seed is replaced by the seeds', () => {
    const plan = planSweep({ params: { task: 'kmeans', seed: 9, nInit: 1 }, seeds: [0, 1, 2] });
    expect([plan.runs, plan.combinations]).toEqual([3, 1]);
    expect(plan.children.map((c) => c.params.seed)).toEqual([0, 1, 2]);
    expect(plan.children.map((c) => c.values)).toEqual([{ seed: 0 }, { seed: 1 }, { seed: 2 }]);
  });

  it('refuses bad input in one line naming the problem', () => {
    const base = { task: 'kmeans' };
    expect(refusal({ params: base, seeds: [0], grid: [['k', []]] })).toBe("grid: 'k' has no values");
    expect(refusal({ params: base, seeds: [0], grid: [['kay', [2]]] })).toBe("grid: unknown parameter 'kay'");
    expect(refusal({ params: base, seeds: [0], grid: [['epochs', [1]]] })).toBe("grid: task kmeans does not take the parameter 'epochs'");
    expect(refusal({ params: base, seeds: [0], grid: [['k', [5, 1]]] })).toBe('k: must be ≥ 2 (grid k=1)');
    expect(refusal({ params: base, seeds: [0], grid: [['k', ['many']]] })).toMatch(/^k: .*number.* \(grid k=many\)$/);
    expect(refusal({ params: base, seeds: [0], grid: [['seed', [1, 2]]] })).toMatch(/^grid: seed cannot be in the grid/);
    expect(
      refusal({
        params: base,
        seeds: [0],
        grid: [
          ['k', [2, 3]],
          ['k', [4]],
        ],
      }),
    ).toBe("grid: 'k' is listed twice");
    expect(refusal({ params: base, seeds: [0], grid: [['k', [2, 2]]] })).toBe("grid: 'k' lists the value 2 twice");
    expect(refusal({ params: base, seeds: [] })).toBe('seeds: give at least one seed');
    expect(refusal({ params: base, seeds: [0, -1] })).toBe('seeds: -1 must be ≥ 0');
    expect(refusal({ params: base, seeds: [1, 1] })).toBe('seeds: 1 is listed twice');
    expect(refusal({ params: { task: 'nope' }, seeds: [0] })).toBe("unknown task 'nope'");
    expect(refusal({ params: { task: 'kmeans', nInit: 0 }, seeds: [0] })).toBe('nInit: must be ≥ 1');
    const big = {
      params: base,
      seeds: [0, 1, 2, 3, 4],
      grid: [['k', Array.from({ length: 101 }, (_, i) => i + 2)]] as [string, unknown[]][],
    };
    expect(refusal(big)).toBe('the sweep has 505 runs, more than the limit of 500 (raise it with --max-runs / maxRuns)');
    expect(planSweep({ ...big, maxRuns: 505 }).runs).toBe(505);
    expect(refusal({ ...big, maxRuns: 10 })).toMatch(/505 runs, more than the limit of 10/);
  });

  it('counts runs and combinations without expanding', () => {
    expect(
      sweepRunCount(
        [
          ['k', [1, 2, 3]],
          ['tol', [1, 2]],
        ],
        4,
      ),
    ).toBe(24);
    expect(sweepRunCount([], 3)).toBe(3);
    expect(
      gridCombinations([
        ['a', [1, 2]],
        ['b', ['x', 'y']],
      ]),
    ).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
    ]);
  });

  it('encoder key: the same for a clustering grid, different for training settings, seed or limits; none without an encoder', () => {
    const plan = planSweep({
      params: { task: 'pipeline', epochs: 1 },
      grid: [
        ['cluster', ['kmeans', 'gmm']],
        ['k', [5, 10]],
      ],
      seeds: [0, 1],
    });
    const keys = plan.children.map((c) => encoderKey(c.params));
    expect(new Set(keys).size).toBe(2); // one per seed
    expect(keys[0]).toBe(keys[2]);
    expect(keys[0]).not.toBe(keys[1]);
    const key = (over: Record<string, unknown>) =>
      encoderKey(planSweep({ params: { task: 'ae-kmeans', ...over }, seeds: [0] }).children[0].params);
    expect(key({ k: 5 })).toBe(key({ k: 20 }));
    for (const changed of [
      { epochs: 2 },
      { learningRate: 0.1 },
      { trainLimit: 100 },
      { testLimit: 100 },
      { backend: 'cpu' },
      { batchSize: 64 },
    ])
      expect(key(changed)).not.toBe(key({}));
    expect(key({ reuseEncoder: 3 })).toBeNull();
    expect(encoderKey(planSweep({ params: { task: 'kmeans' }, seeds: [0] }).children[0].params)).toBeNull();
    expect(encoderKey(planSweep({ params: { task: 'pipeline', encoder: 'none' }, seeds: [0] }).children[0].params)).toBeNull();
    // the dense encoder's own settings count, the conv encoder has none of them
    expect(encoderKey(planSweep({ params: { task: 'pipeline', codeSize: 5 }, seeds: [0] }).children[0].params)).not.toBe(
      encoderKey(planSweep({ params: { task: 'pipeline', codeSize: 6 }, seeds: [0] }).children[0].params),
    );
  });
});

describe('sweep summary', () => {
  it('mean and sample sd (n − 1), null sd below two values', () => {
    expect(meanSd([])).toEqual({ mean: null, sd: null });
    expect(meanSd([0.5])).toEqual({ mean: 0.5, sd: null });
    const { mean, sd } = meanSd([0.48, 0.55, 0.58]);
    expect(mean).toBeCloseTo(0.536666667, 9);
    // numpy: np.std([0.48, 0.55, 0.58], ddof=1)
    expect(sd).toBeCloseTo(0.0513160144, 9);
  });

  it('one row per combination over completed children only; best = highest mean accuracy', () => {
    const child = (combination: number, state: ChildOutcome['state'], accuracy: number | null): ChildOutcome => ({
      combination,
      state,
      accuracy,
      nmi: accuracy === null ? null : accuracy / 2,
      ari: accuracy === null ? null : accuracy / 4,
      totalMs: accuracy === null ? null : 1000,
    });
    const rows = sweepRows(
      [{ k: 5 }, { k: 10 }, { k: 20 }],
      [
        child(0, 'completed', 0.4),
        child(0, 'completed', 0.6),
        child(1, 'completed', 0.7),
        child(1, 'failed', null),
        child(2, 'pending', null),
      ],
    );
    expect(rows.map((r) => [r.values, r.n, r.accuracy.mean, r.best])).toEqual([
      [{ k: 5 }, 2, 0.5, false],
      [{ k: 10 }, 1, 0.7, true],
      [{ k: 20 }, 0, null, false],
    ]);
    expect(rows[0].accuracy.sd).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(rows[0].nmi.mean).toBeCloseTo(0.25, 12);
    expect(rows[1].totalMs).toEqual({ mean: 1000, sd: null });
  });

  it('averages row-normalised confusion matrices of completed children', () => {
    const base = { combination: 0, accuracy: 1, nmi: 1, ari: 1, totalMs: 1 };
    const mean = confusionMean([
      {
        ...base,
        state: 'completed',
        confusion: [
          [3, 1],
          [0, 2],
        ],
      },
      {
        ...base,
        state: 'completed',
        confusion: [
          [1, 1],
          [2, 2],
        ],
      },
      {
        ...base,
        state: 'failed',
        confusion: [
          [9, 9],
          [9, 9],
        ],
      },
    ]);
    expect(mean).toEqual([
      [(0.75 + 0.5) / 2, (0.25 + 0.5) / 2],
      [(0 + 0.5) / 2, (1 + 0.5) / 2],
    ]);
    expect(confusionMean([{ ...base, state: 'pending' }])).toBeNull();
    // A class missing from one child's eval set is averaged over the children that have it: its row still sums to 1.
    const missing = confusionMean([
      {
        ...base,
        state: 'completed',
        confusion: [
          [3, 1],
          [0, 0],
        ],
      },
      {
        ...base,
        state: 'completed',
        confusion: [
          [1, 1],
          [1, 3],
        ],
      },
    ]);
    expect(missing).toEqual([
      [(0.75 + 0.5) / 2, (0.25 + 0.5) / 2],
      [0.25, 0.75],
    ]);
  });
});

describe('sweep time estimate', () => {
  const run = (id: number, params: Record<string, unknown>, totalMs: number, trainMs?: number, reusedEncoderFrom?: string) =>
    ({
      id,
      status: 'completed',
      params,
      // stage times that add up to the total (ownStageMs sums the stages)
      timings: { totalMs, loadMs: totalMs - (trainMs ?? 0), ...(trainMs === undefined ? {} : { trainMs }) },
      artifacts: reusedEncoderFrom ? { reusedEncoderFrom } : {},
    }) as unknown as RunRecord;

  it('mean stage time of like runs × runs, less the training of children that reuse an encoder', () => {
    const plan = planSweep({ params: { task: 'ae-kmeans', epochs: 2, trainLimit: 500 }, grid: [['k', [5, 10, 20]]], seeds: [0, 1] });
    const like = { task: 'ae-kmeans', epochs: 2, trainLimit: 500 };
    const history = [
      run(1, like, 1000, 800),
      run(2, like, 3000, 2000),
      run(3, like, 2000, 1400),
      run(4, like, 50, undefined, '1'), // reused an encoder: not a measure of a full run
      run(5, { ...like, epochs: 3 }, 9000, 8000),
    ];
    // 6 children at the mean 2000 ms; 4 of them reuse one of the 2 encoders and save the mean 1400 ms
    expect(estimateSweep(plan, history)).toEqual({
      estimateMs: 6 * 2000 - 4 * 1400,
      estimateFrom: 'the mean stage times of 3 completed runs like these in the history, less 4 encoder trainings saved by reuse',
    });
    expect(estimateSweep(plan, history.slice(3))).toEqual({
      estimateMs: null,
      estimateFrom: 'no completed ae-kmeans run with 500 training / all test images and 2 epochs in the history',
    });
  });
});

describe('--grid on the CLI', () => {
  it('takes every parameter by its flag name and by its own name', () => {
    for (const name of PARAM_NAMES) {
      expect(paramNamed(name), name).toBe(name);
      expect(paramNamed(paramFlag(name)), name).toBe(name);
    }
    expect(paramNamed('umap-protocol')).toBe('protocol');
    expect(paramNamed('nope')).toBeUndefined();
  });

  it('parses values as the flag does: numbers, choices, switches, lists separated by ;', () => {
    expect(gridArg('lr=0.01, 1e-3')).toEqual(['learningRate', [0.01, 0.001]]);
    expect(gridArg('learningRate=0.5')).toEqual(['learningRate', [0.5]]);
    expect(gridArg('--covariance=full,diag')).toEqual(['covariance', ['full', 'diag']]);
    expect(gridArg('umap=on,off')).toEqual(['umap', [true, false]]);
    expect(gridArg('layers=500,500,2000;256')).toEqual(['layers', [[500, 500, 2000], [256]]]);
    expect(() => gridArg('k=5,ten')).toThrow('--grid k: expected a number, got "ten"');
    expect(() => gridArg('umap=maybe')).toThrow('--grid umap: expected on or off, got "maybe"');
    expect(() => gridArg('k')).toThrow('--grid: expected NAME=VALUE,VALUE… such as k=5,10, got "k"');
  });
});

// Issue 19: a plan counts its runs before building any of them, maxRuns has a ceiling, names are one line of text.
describe('sweep plans are bounded before they are built (issue 19)', () => {
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  /** The web message of the audit: k 2–1001 × nInit 1–1000 × maxIter 1–1000 = 10⁹ runs, maxRuns 9e15. */
  const huge = {
    params: { task: 'kmeans' },
    seeds: [0],
    grid: [
      ['k', range(2, 1001)],
      ['nInit', range(1, 1000)],
      ['maxIter', range(1, 1000)],
    ] as [string, unknown[]][],
  };
  const quickly = <T>(work: () => T): T => {
    const started = performance.now();
    const result = work();
    expect(performance.now() - started).toBeLessThan(1000);
    return result;
  };

  it('refuses a huge grid in well under a second, naming its run count, whatever maxRuns says', () => {
    expect(quickly(() => refusal({ ...huge, maxRuns: 9e15 }))).toBe(
      `the sweep has 1000000000 runs, more than ${MAX_SWEEP_RUNS}, the most one sweep may have`,
    );
    // Just over the ceiling, with maxRuns far above it: still refused.
    const over = { params: { task: 'kmeans' }, seeds: range(0, 10), grid: [['maxIter', range(1, 1000)]] as [string, unknown[]][] };
    expect(refusal({ ...over, maxRuns: 1e12 })).toBe(`the sweep has 11000 runs, more than ${MAX_SWEEP_RUNS}, the most one sweep may have`);
    expect(planSweep({ ...over, seeds: range(0, 9), maxRuns: MAX_SWEEP_RUNS }).runs).toBe(MAX_SWEEP_RUNS);
  });

  it('a stored sweep with a huge grid is refused without expanding it; counting stays arithmetic', () => {
    expect(quickly(() => sweepRunCount(huge.grid, 3))).toBe(3e9);
    const stored = { base: { task: 'kmeans' }, grid: huge.grid, seeds: [0] };
    expect(quickly(() => () => planOfStored(stored))).toThrow(/^the sweep has 1000000000 runs, more than 10000/);
    expect(quickly(() => () => gridCombinations(huge.grid))).toThrow(
      `the grid has 1000000000 combinations, more than ${MAX_SWEEP_RUNS}, the most one sweep may have`,
    );
    // Counts past what a double holds exactly are not printed as a wrong number.
    const astronomic = Array.from({ length: 30 }, (_, i) => [`p${i}`, range(1, 1000)] as [string, unknown[]]);
    expect(sweepRunCount(astronomic, 1)).toBe(Infinity);
  });

  it('one long list of values is refused by its count, not compared pair by pair', () => {
    expect(quickly(() => refusal({ params: { task: 'kmeans' }, seeds: [0], grid: [['k', range(2, 200_001)]] }))).toBe(
      `the sweep has 200000 runs, more than ${MAX_SWEEP_RUNS}, the most one sweep may have`,
    );
  });

  it('the contract caps maxRuns, the grid and its value lists, and checks the name', () => {
    const plan = requests['sweeps.plan'];
    const ok = { params: { task: 'kmeans' }, seeds: [0], grid: [['k', [2, 3]]] };
    expect(plan.safeParse({ ...ok, maxRuns: MAX_SWEEP_RUNS }).success).toBe(true);
    for (const maxRuns of [MAX_SWEEP_RUNS + 1, 9e15, 0, -1, 1.5])
      expect(plan.safeParse({ ...ok, maxRuns }).success, String(maxRuns)).toBe(false);
    expect(plan.safeParse({ ...ok, grid: [['k', range(2, MAX_SWEEP_RUNS + 2)]] }).success).toBe(false);
    expect(plan.safeParse({ ...ok, grid: range(0, 200).map((i) => [`p${i}`, [1]]) }).success).toBe(false);
    expect(requests['sweeps.start'].safeParse({ ...ok, name: 'k grid · 2–3' }).data).toMatchObject({ name: 'k grid · 2–3' });
    for (const name of [
      'x\ntouch /tmp/PWNED #',
      'a\rb',
      'tab\there',
      'bell\u0007',
      'line\u2028sep',
      'rtl\u202eevil',
      'x'.repeat(MAX_SWEEP_NAME + 1),
    ])
      expect(requests['sweeps.start'].safeParse({ ...ok, name }).success, JSON.stringify(name)).toBe(false);
  });

  it('planSweep refuses a name that is not one short line', () => {
    const ok = { params: { task: 'kmeans' }, seeds: [0, 1] };
    expect(planSweep({ ...ok, name: 'seeds 0–1 ✓' }).runs).toBe(2);
    expect(refusal({ ...ok, name: 'x\ntouch /tmp/PWNED #' })).toBe(
      'name: must be one line of printable text (no line breaks, tabs or other control characters)',
    );
    expect(refusal({ ...ok, name: 'x'.repeat(MAX_SWEEP_NAME + 1) })).toBe(
      `name: at most ${MAX_SWEEP_NAME} characters, got ${MAX_SWEEP_NAME + 1}`,
    );
  });
});

describe('--grid values parse exactly as their flags do (issue 19)', () => {
  it('numbers are decimal: no hex, binary, octal, Infinity or blanks', () => {
    for (const bad of ['0x10', '0b11', '0o17', 'Infinity', '1e999', '1_000', '1 0'])
      expect(() => gridArg(`k=${bad}`), bad).toThrow(`--grid k: expected a number, got "${bad}"`);
    expect(() => gridArg('k=5, ,6')).toThrow('--grid k: expected a number, got ""');
    expect(() => gridArg('layers=0x10,10')).toThrow(/^--grid layers: expected comma-separated layer sizes/);
    expect(() => numberArg('0x10')).toThrow('expected a number, got "0x10"');
    expect(() => numberArg(' 10')).toThrow('expected a number, got " 10"');
    expect(gridArg('k=10, 1e1, +12, 13.0')).toEqual(['k', [10, 10, 12, 13]]);
    expect(gridArg('lr=.5,5e-3,-1')).toEqual(['learningRate', [0.5, 0.005, -1]]);
  });
});
