/**
 * The Slurm round trip, for real: a sweep emitted with `--emit slurm`, submitted with sbatch to a one-machine Slurm
 * (test/helpers/slurm.ts), each array task running `sweeps run-child` into its own database, and `runs import`
 * bringing the children back into the emitting history, where the sweep is then complete.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';
import { startLocalSlurm, type LocalSlurm } from '../helpers/slurm';

const SEEDS = [0, 1];
const KS = [8, 10];
/** Child i of the 2×2 sweep: k = KS[⌊i / seeds⌋], seed = SEEDS[i mod seeds]. */
const CHILDREN = [0, 1, 2, 3];

describe.skipIf(skipUnless('slurm', 'fashionMnist'))('a sweep run as a Slurm job array', () => {
  let slurm: LocalSlurm | undefined;
  let home: string;

  beforeAll(async () => {
    home = tempHome('clusterbench-slurm-test-');
    slurm = await startLocalSlurm();
  });
  afterAll(async () => {
    await slurm?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('emits, runs every child on Slurm, and imports them back into one complete sweep', async () => {
    const env = { CLUSTERBENCH_HOME: home };
    const db = join(home, 'runs.sqlite');
    const dir = join(home, 'array');
    const limits = ['--train-limit', '1000', '--test-limit', '300', '--backend', 'cpu'];
    const sweepArgs = ['sweep', '--task', 'kmeans', '--grid', `k=${KS.join(',')}`, '--seeds', SEEDS.join(','), ...limits];
    const slurmArgs = ['--emit', 'slurm', dir, '--cpus-per-task', '1', '--time', '20'];
    const emitted = await runCli(['--db', db, ...sweepArgs, ...slurmArgs], env);
    expect(emitted.code, emitted.stderr).toBe(0);
    const sweepId = Number(/Sweep #(\d+)/.exec(emitted.stdout)?.[1]);
    const script = readFileSync(join(dir, 'sweep.sbatch'), 'utf8');
    expect(script).toContain(`#SBATCH --array=0-${CHILDREN.length - 1}`);
    expect(script).toContain('#SBATCH --cpus-per-task=1');

    // Known to the history before any child ran.
    const queued = await runCli(['--db', db, 'sweeps', 'show', String(sweepId), '--json'], env);
    expect(queued.code, queued.stderr).toBe(0);
    expect(detailOf(queued.stdout).status).toBe('queued');

    const job = slurm!.sbatch(join(dir, 'sweep.sbatch'), [], env);
    await slurm!.waitForJob(job, 300_000);
    const results = CHILDREN.map((i) => join(dir, 'results', `child-${i}.sqlite`));
    const logs = () =>
      CHILDREN.map((i) => `--- child ${i}\n${readIfThere(join(dir, 'logs', `child-${i}.out`))}`).join('\n') + `\n${slurm!.logs()}`;
    expect(
      results.every((f) => existsSync(f)),
      logs(),
    ).toBe(true);
    for (const i of CHILDREN)
      expect(readIfThere(join(dir, 'logs', `child-${i}.out`)), logs()).toMatch(new RegExp(`^child ${i} .*completed`, 'm'));

    const imported = await runCli(['--db', db, 'runs', 'import', ...results], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout.trim().split('\n')).toHaveLength(CHILDREN.length);
    expect(imported.stdout).toMatch(/: completed$/m);

    const shown = await runCli(['--db', db, 'sweeps', 'show', String(sweepId), '--json'], env);
    expect(shown.code, shown.stderr).toBe(0);
    const sweep = detailOf(shown.stdout);
    expect(sweep.status).toBe('completed');
    expect(sweep.children.map((c) => [c.index, c.state])).toEqual(CHILDREN.map((i) => [i, 'completed']));
    // Each child is the run its index plans: k = KS[⌊i / seeds⌋], seed = SEEDS[i mod seeds].
    expect(sweep.children.map((c) => [c.run!.params.k, c.run!.params.seed])).toEqual(
      CHILDREN.map((i) => [KS[Math.floor(i / SEEDS.length)], SEEDS[i % SEEDS.length]]),
    );
    // One row per k, each the mean of its seeds' accuracies.
    expect(sweep.rows.map((r) => r.n)).toEqual([2, 2]);
    KS.forEach((_, row) => {
      const accuracies = sweep.children.slice(row * SEEDS.length, (row + 1) * SEEDS.length).map((c) => c.run!.accuracy!);
      expect(sweep.rows[row].accuracy.mean).toBeCloseTo(accuracies.reduce((a, b) => a + b, 0) / accuracies.length, 12);
    });
  }, 600_000);
});

interface Detail {
  status: string;
  children: { index: number; state: string; run: { params: Record<string, unknown>; accuracy: number | null } | null }[];
  rows: { n: number; accuracy: { mean: number | null } }[];
}

/** `sweeps show --json` prints { sweep: SweepDetail }. */
function detailOf(stdout: string): Detail {
  const parsed = JSON.parse(stdout) as { sweep?: Detail } & Detail;
  return parsed.sweep ?? parsed;
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '(missing)';
}
