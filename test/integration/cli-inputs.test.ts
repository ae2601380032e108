import { describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli';
import { makeTmpDir, writeIdxDataset } from '../helpers/data-fixtures';

const lines = (text: string): string[] =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');

// Usage errors: the error and one hint line, never the whole help.
describe('CLI: usage errors are one line and a hint', () => {
  const env = { CLUSTERBENCH_HOME: tempHome() };
  const cases: [string[], RegExp, string][] = [
    [['run', '--task', 'kmeans', '--k', 'NaN'], /^clusterbench: option '--k <n>' argument 'NaN' is invalid/, 'clusterbench run'],
    [['run', '--task', 'kmeans', '--bogus'], /^clusterbench: unknown option '--bogus'/, 'clusterbench run'],
    [
      ['run', '--task', 'kmeans', '--n-initt', '3'],
      /^clusterbench: unknown option '--n-initt' \(Did you mean --n-init\?\)/,
      'clusterbench run',
    ],
    [['runs', 'show'], /^clusterbench: missing required argument 'id'/, 'clusterbench runs show'],
    [['bogus'], /^clusterbench: unknown command 'bogus'/, 'clusterbench'],
  ];
  for (const [args, first, command] of cases) {
    it(args.join(' '), async () => {
      const out = await runCli(args, env);
      expect(out.code).not.toBe(0);
      const err = lines(out.stderr);
      expect(err.length).toBeLessThanOrEqual(2);
      expect(err[0]).toMatch(first);
      expect(err[1]).toBe(`Run \`${command} --help\` for the options.`);
      expect(out.stdout).toBe('');
    });
  }
});

// Issue 10, item 2: every parameter has a maximum, named in the help and in the one-line error.
describe('CLI: parameters are bounded', () => {
  const env = { CLUSTERBENCH_HOME: tempHome() };
  const cases: [string[], string][] = [
    [['--task', 'kmeans', '--n-init', '1e9'], '--n-init must be ≤ 1000'],
    [['--task', 'kmeans', '--max-iter', '1e12'], '--max-iter must be ≤ 100000'],
    [['--task', 'ae-kmeans', '--epochs', '1e15'], '--epochs must be ≤ 10000'],
    [['--task', 'ae-gmm', '--lr', '1e308'], '--lr must be ≤ 10'],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const out = await runCli(['run', ...args], env);
      expect(out.code).toBe(1);
      expect(lines(out.stderr)).toEqual([`clusterbench: Invalid parameters: ${message}`]);
    });
  }

  it('the help names the maxima', async () => {
    const help = (await runCli(['run', '--help'], env)).stdout.replace(/\s+/g, ' ');
    for (const text of [
      'restarts, the best is kept, ≤ 1000',
      'iterations per restart, ≤ 100000',
      'training epochs, ≤ 10000',
      'Adam, ≤ 10',
      'batch size, ≤ 65536',
      'clusters, 2–1000',
      'UMAP neighbours, 2–200',
    ]) {
      expect(help).toContain(text);
    }
  });
});

// Issue 10, item 6: an evaluation set smaller than k cannot be evaluated; a small one gets a warning.
describe('CLI: the evaluation set must be at least k images', () => {
  const env = { CLUSTERBENCH_HOME: tempHome() };

  it('refuses --test-limit below k before any work, with one line, and stores nothing', async () => {
    const out = await runCli(['run', '--task', 'kmeans', '--test-limit', '1'], env);
    expect(out.code).toBe(1);
    expect(lines(out.stderr)).toEqual([
      'clusterbench: Invalid parameters: --test-limit must be ≥ k (10): fewer test images than clusters cannot be evaluated',
    ]);
    const k3 = await runCli(['run', '--task', 'pipeline', '--k', '3', '--test-limit', '2'], env);
    expect(lines(k3.stderr)).toEqual([
      'clusterbench: Invalid parameters: --test-limit must be ≥ k (3): fewer test images than clusters cannot be evaluated',
    ]);
    expect(JSON.parse((await runCli(['runs', 'list', '--json'], env)).stdout)).toEqual([]);
  });

  it('refuses data whose test split has fewer images than k', async () => {
    const dir = await makeTmpDir('cb-small-test-');
    await writeIdxDataset(dir, { trainCount: 40, testCount: 5 });
    const out = await runCli(['run', '--task', 'kmeans', '--n-init', '1', '--data', dir], env);
    expect(out.code).toBe(1);
    expect(lines(out.stderr)).toEqual(['clusterbench: Invalid parameters: --k 10 clusters for only 5 test images to evaluate on']);
    expect(JSON.parse((await runCli(['runs', 'list', '--json'], env)).stdout)).toEqual([]);
  });

  it('warns on stderr below 10 × k test images, and still runs', async () => {
    const out = await runCli(
      ['run', '--task', 'kmeans', '--train-limit', '300', '--test-limit', '50', '--n-init', '1', '--backend', 'wasm', '--json'],
      env,
    );
    expect(out.code).toBe(0);
    expect(lines(out.stderr)).toEqual([
      'clusterbench: warning: only 50 test images for 10 clusters (fewer than 10 × k = 100): accuracy, NMI and ARI will be unreliable',
    ]);
    expect(JSON.parse(out.stdout)).toMatchObject({ status: 'completed', dataset: { evalSize: 50 } });
    const enough = await runCli(
      ['run', '--task', 'kmeans', '--k', '5', '--train-limit', '300', '--test-limit', '50', '--n-init', '1', '--backend', 'wasm', '--json'],
      env,
    );
    expect(enough.code).toBe(0);
    expect(enough.stderr).toBe('');
  });
});
