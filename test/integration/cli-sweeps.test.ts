import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SweepDetail, SweepSummary } from '../../src-main/contract/index';
import { RunStore } from '../../src-main/engine/store/index';
import type { RunRecord } from '../../src-main/engine/store/types';
import { repoRoot, runCli, tempHome, type CliResult } from '../helpers/cli';
import { recordSkip, skipUnless } from '../helpers/prereqs';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** The CLI running in the background: wait for its stdout to match, kill it, or await its end. */
function startCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/bin.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const seen: { when: RegExp; found: () => void }[] = [];
  child.stdout.on('data', (d) => {
    stdout += d;
    for (const s of [...seen]) if (s.when.test(stdout)) s.found();
  });
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    done,
    waitFor: (when: RegExp) =>
      new Promise<void>((found, fail) => {
        if (when.test(stdout)) return found();
        seen.push({ when, found });
        void done.then((r) => fail(new Error(`the CLI ended (${r.code}) before printing ${when}: ${r.stderr}`)));
      }),
  };
}

/** The CLI, interrupted (Ctrl-C) once its stdout matches `when`. */
async function runCliInterrupted(args: string[], env: NodeJS.ProcessEnv, when: RegExp): Promise<CliResult> {
  const cli = startCli(args, env);
  await cli.waitFor(when);
  cli.child.kill('SIGINT');
  return cli.done;
}

// Sweeps through the CLI, as the "done when" runs them (on smaller data).
describe.skipIf(skipUnless('fashionMnist'))('sweeps from the CLI', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  const cli = (...args: string[]) => runCli(args, env);

  it('run --seeds 0,1,2: three runs, each printed, then their mean ± sd', async () => {
    const out = await cli('run', '--task', 'kmeans', '--seeds', '0,1,2', '--train-limit', '2000', '--test-limit', '500');
    expect(out.code, out.stderr).toBe(0);
    const runs = JSON.parse((await cli('runs', 'list', '--json')).stdout) as RunRecord[];
    expect(runs.map((r) => [r.seed, r.sweepId, r.sweepChild, r.status])).toEqual([
      [2, 1, 2, 'completed'],
      [1, 1, 1, 'completed'],
      [0, 1, 0, 'completed'],
    ]);
    for (const run of runs)
      expect(out.stdout).toContain(
        `seed=${run.seed} · run #${run.id} · accuracy ${pct(run.metrics!.accuracy!)} · NMI ${run.metrics!.nmi!.toFixed(3)}`,
      );
    const acc = runs.map((r) => r.metrics!.accuracy!);
    const mean = acc.reduce((s, a) => s + a, 0) / 3;
    const sd = Math.sqrt(acc.reduce((s, a) => s + (a - mean) ** 2, 0) / 2);
    expect(out.stdout).toMatch(new RegExp(`\\*\\s+3\\s+${pct(mean)} ± ${pct(sd)}\\s`));
    expect(out.stdout).toContain('Sweep #1 · kmeans · completed · 3/3 runs completed');
  });

  it('sweeps list / show / show --json / export / resume on a completed sweep', async () => {
    const list = await cli('sweeps', 'list');
    expect(list.stdout).toMatch(/^\s*1\s+kmeans\s+completed\s+3\/3\s+0\s+seed\s+\d/m);
    const show = await cli('sweeps', 'show', '1');
    expect(show.stdout).toContain('Varied: seed ∈ {0, 1, 2}');
    expect(show.stdout.match(/^child \d\/3 seed=\d · run #\d+ · accuracy/gm)).toHaveLength(3);
    const { sweep } = JSON.parse((await cli('sweeps', 'show', '1', '--json')).stdout) as { sweep: SweepDetail };
    expect(sweep).toMatchObject({ id: 1, status: 'completed', runs: 3, completed: 3, seeds: [0, 1, 2], grid: [] });
    expect(sweep.rows).toHaveLength(1);
    const file = join(home, 'sweep.csv');
    expect((await cli('sweeps', 'export', '1', '--out', file)).code).toBe(0);
    const [header, row] = readFileSync(file, 'utf8').trim().split('\n');
    expect(header).toBe('n,accuracy_mean,accuracy_sd,nmi_mean,nmi_sd,ari_mean,ari_sd,seconds_mean,seconds_sd,best');
    expect(Number(row.split(',')[1])).toBeCloseTo(sweep.rows[0].accuracy.mean!, 12);
    const resume = await cli('sweeps', 'resume', '1');
    expect([resume.code, resume.stdout.trim()]).toEqual([0, 'Sweep #1: every child has completed; nothing to resume']);
  });

  it('sweep --grid by flag name and by parameter name, --json; sweeps delete removes it and its runs', async () => {
    const small = ['--train-limit', '1000', '--test-limit', '300', '--backend', 'wasm'];
    const out = await cli('sweep', '--task', 'kmeans', '--grid', 'n-init=1,2', '--grid', 'maxIter=50', '--seed', '4', ...small, '--json');
    expect(out.code, out.stderr).toBe(0);
    const { sweep } = JSON.parse(out.stdout) as { sweep: SweepDetail };
    expect(sweep.grid).toEqual([
      ['nInit', [1, 2]],
      ['maxIter', [50]],
    ]);
    expect(sweep.children.map((c) => [c.values, c.run?.params.seed])).toEqual([
      [{ nInit: 1, maxIter: 50, seed: 4 }, 4],
      [{ nInit: 2, maxIter: 50, seed: 4 }, 4],
    ]);
    const del = await cli('sweeps', 'delete', String(sweep.id));
    expect(del.stdout.trim()).toBe(`Deleted sweep #${sweep.id} and its 2 runs`);
    const runs = JSON.parse((await cli('runs', 'list', '--json')).stdout) as RunRecord[];
    expect(runs.map((r) => r.sweepId)).toEqual([1, 1, 1]);
  });

  it('sweep --emit slurm DIR --json prints one JSON object: the queued sweep and where its array is', async () => {
    const dir = join(home, 'emitted');
    const out = await cli('sweep', '--task', 'kmeans', '--seeds', '0,1', '--train-limit', '500', '--emit', 'slurm', dir, '--json');
    expect(out.code, out.stderr).toBe(0);
    const { sweep, slurm } = JSON.parse(out.stdout) as { sweep: SweepDetail; slurm: { dir: string; script: string } };
    expect(sweep).toMatchObject({ status: 'queued', runs: 2, pending: 2, task: 'kmeans' });
    expect(slurm.dir).toBe(dir);
    expect(existsSync(slurm.script)).toBe(true);
    const shown = JSON.parse((await cli('sweeps', 'show', String(sweep.id), '--json')).stdout) as { sweep: SweepDetail };
    expect(shown.sweep).toEqual(sweep);
    await cli('sweeps', 'delete', String(sweep.id));
  });

  it('Ctrl-C cancels the sweep (exit 130); sweeps resume runs only the children that did not complete', async () => {
    const small = ['--train-limit', '1000', '--test-limit', '300', '--backend', 'wasm', '--n-init', '1'];
    const env2 = { CLUSTERBENCH_HOME: tempHome() };
    const out = await runCliInterrupted(['run', '--task', 'kmeans', '--seeds', '5,6,7', ...small], env2, /^child 1\/3 /m);
    expect(out.code).toBe(130);
    expect(out.stderr).toContain('clusterbench: sweep #1 cancelled; continue it with: clusterbench sweeps resume 1');
    const stopped = JSON.parse((await runCli(['sweeps', 'show', '1', '--json'], env2)).stdout) as { sweep: SweepDetail };
    expect(stopped.sweep.status).toBe('cancelled');
    expect(stopped.sweep.children[0].state).toBe('completed');
    expect(stopped.sweep.completed).toBeLessThan(3);
    const firstRun = stopped.sweep.children[0].run!.id;
    const resumed = await runCli(['sweeps', 'resume', '1', '--json'], env2);
    expect(resumed.code, resumed.stderr).toBe(0);
    const { sweep } = JSON.parse(resumed.stdout) as { sweep: SweepDetail };
    expect(sweep.status).toBe('completed');
    expect(sweep.children[0].run!.id).toBe(firstRun);
    expect(sweep.children.map((c) => [c.state, c.run?.params.seed])).toEqual([
      ['completed', 5],
      ['completed', 6],
      ['completed', 7],
    ]);
  });

  it('refuses bad input in one line, exit code 1, running nothing', async () => {
    const refusals: [string[], string][] = [
      [['sweep', '--task', 'kmeans', '--grid', 'k='], "clusterbench: --grid: 'k' has no values"],
      [['sweep', '--task', 'kmeans', '--seeds', '3'], 'clusterbench: sweep needs a --grid NAME=VALUE,VALUE… or two or more --seeds'],
      [['sweep', '--task', 'kmeans', '--grid', 'kay=2,3'], "clusterbench: --grid: unknown parameter 'kay'"],
      [['sweep', '--task', 'kmeans', '--grid', 'epochs=1,2'], "clusterbench: grid: task kmeans does not take the parameter 'epochs'"],
      [['sweep', '--task', 'kmeans', '--grid', 'k=1,5'], 'clusterbench: k: must be ≥ 2 (grid k=1)'],
      [
        ['sweep', '--task', 'ae-gmm', '--grid', 'covariance=full,round'],
        'clusterbench: --grid covariance: "round" is not one of: full, diag, spherical',
      ],
      [
        ['sweep', '--task', 'kmeans', '--grid', 'seed=1,2'],
        'clusterbench: --grid: seed cannot be in the grid: list the seeds with --seeds',
      ],
      [
        ['sweep', '--task', 'kmeans', '--grid', 'k=2,3,4,5,6', '--seeds', '0,1,2', '--max-runs', '10'],
        'clusterbench: the sweep has 15 runs, more than the limit of 10 (raise it with --max-runs / maxRuns)',
      ],
      [
        ['sweep', '--task', 'kmeans', '--grid', 'k=2,3', '--seeds', '0,1', '--seed', '3'],
        'clusterbench: --seed and --seeds cannot be used together: --seeds lists every seed',
      ],
      [
        ['run', '--task', 'kmeans', '--seed', '1', '--seeds', '0,1'],
        'clusterbench: --seed and --seeds cannot be used together: --seeds lists every seed',
      ],
      [['run', '--task', 'kmeans', '--seeds', '0,0'], 'clusterbench: seeds: 0 is listed twice'],
    ];
    const fresh = { CLUSTERBENCH_HOME: tempHome() };
    for (const [args, message] of refusals) {
      const out = await runCli(args, fresh);
      expect([out.code, out.stderr.trim(), out.stdout], args.join(' ')).toEqual([1, message, '']);
    }
    expect(JSON.parse((await runCli(['sweeps', 'list', '--json'], fresh)).stdout)).toEqual([]);
    expect(JSON.parse((await runCli(['runs', 'list', '--json'], fresh)).stdout)).toEqual([]);
  });
});

// Issue 19: what the CLI refuses before planning or writing anything (no data needed).
describe('sweep refuses hostile or unbounded input in one line (issue 19)', () => {
  const env = { CLUSTERBENCH_HOME: tempHome() };
  const usage = (message: string) => [`clusterbench: ${message}`, 'Run `clusterbench sweep --help` for the options.'];
  const errLines = (text: string) => text.trim().split('\n');

  it('--max-runs takes a whole number from 1 to 10000', async () => {
    for (const bad of ['-1', '0', '1.5', '1e12', '0x10']) {
      const out = await runCli(['sweep', '--task', 'kmeans', '--grid', 'k=2,3', '--max-runs', bad], env);
      expect([out.code, errLines(out.stderr), out.stdout], bad).toEqual([
        1,
        usage(`option '--max-runs <n>' argument '${bad}' is invalid. expected a whole number from 1 to 10000, got "${bad}"`),
        '',
      ]);
    }
    const help = (await runCli(['sweep', '--help'], env)).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('refuse sweeps of more runs than this (default 500, at most 10000)');
  });

  it('a huge grid is refused at once, naming its run count', async () => {
    const values = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i).join(',');
    const started = Date.now();
    const out = await runCli(
      ['sweep', '--task', 'kmeans', '--grid', `k=${values(2, 1001)}`, '--grid', `n-init=${values(1, 1000)}`, '--max-runs', '10000'],
      env,
    );
    expect([out.code, out.stderr.trim(), out.stdout]).toEqual([
      1,
      'clusterbench: the sweep has 1000000 runs, more than 10000, the most one sweep may have',
      '',
    ]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('--grid k=0x10 and --k 0x10 are not numbers', async () => {
    const grid = await runCli(['sweep', '--task', 'kmeans', '--grid', 'k=0x10,12'], env);
    expect([grid.code, grid.stderr.trim()]).toEqual([1, 'clusterbench: --grid k: expected a number, got "0x10"']);
    const flag = await runCli(['run', '--task', 'kmeans', '--k', '0x10'], env);
    expect(errLines(flag.stderr)[0]).toBe(`clusterbench: option '--k <n>' argument '0x10' is invalid. expected a number, got "0x10"`);
  });

  it('--name with a line break is refused before anything is recorded or written', async () => {
    const dir = join(tempHome(), 'array');
    const marker = join(dir, 'PWNED');
    const out = await runCli(
      ['sweep', '--task', 'kmeans', '--seeds', '0,1', '--name', `x\ntouch ${marker} #`, '--emit', 'slurm', dir],
      env,
    );
    expect([out.code, out.stderr.trim(), out.stdout]).toEqual([
      1,
      'clusterbench: name: must be one line of printable text (no line breaks, tabs or other control characters)',
      '',
    ]);
    expect(existsSync(join(dir, 'sweep.sbatch'))).toBe(false);
    expect(JSON.parse((await runCli(['sweeps', 'list', '--json'], env)).stdout)).toEqual([]);
  });

  it('plan refusals name the flag the user typed (lr), not the parameter (learningRate)', async () => {
    const out = await runCli(['sweep', '--task', 'ae-kmeans', '--grid', 'lr=0.1,20', '--emit', 'slurm', join(tempHome(), 'a')], env);
    expect([out.code, out.stderr.trim()]).toEqual([1, 'clusterbench: lr: must be ≤ 10 (grid lr=20)']);
    const base = await runCli(['sweep', '--task', 'kmeans', '--seeds', '0,1', '--n-init', '0'], env);
    expect([base.code, base.stderr.trim()]).toEqual([1, 'clusterbench: n-init: must be ≥ 1']);
    const seeds = await runCli(['run', '--task', 'kmeans', '--seeds', '0,1', '--n-init', '0'], env);
    expect([seeds.code, seeds.stderr.trim()]).toEqual([1, 'clusterbench: n-init: must be ≥ 1']);
  });
});

// Issue 19 follow-up: --seeds reads decimal numbers only, as every other number flag does.
describe('--seeds is decimal', () => {
  it('--seeds 0,0x1 is refused in one line, recording and writing nothing (it was seeds 0 and 1)', async () => {
    const home = tempHome();
    const dir = join(home, 'array');
    for (const token of ['0x1', '0b1', '1_0']) {
      const out = await runCli(['sweep', '--task', 'kmeans', '--seeds', `0,${token}`, '--emit', 'slurm', dir], { CLUSTERBENCH_HOME: home });
      expect([out.code, out.stderr.trim().split('\n'), out.stdout], token).toEqual([
        1,
        [
          `clusterbench: option '--seeds <list>' argument '0,${token}' is invalid. expected comma-separated seeds such as 0,1,2, got "${token}"`,
          'Run `clusterbench sweep --help` for the options.',
        ],
        '',
      ]);
    }
    expect(existsSync(join(dir, 'sweep.sbatch'))).toBe(false);
    expect(JSON.parse((await runCli(['sweeps', 'list', '--json'], { CLUSTERBENCH_HOME: home })).stdout)).toEqual([]);
  });
});

// Issue 19 follow-up: one stored sweep that today's validation refuses (hand-edited, or written by an older version)
// is listed as unreadable with its reason; it does not hide the others.
describe('an unreadable stored sweep', () => {
  it('sweeps list shows it as unreadable with the reason and lists the others; sweeps show says why in one line', async () => {
    const home = tempHome();
    const store = RunStore.open(join(home, 'runs.sqlite'));
    const sweep = (name: string, seeds: number[]) =>
      store.createSweep({ name, task: 'kmeans', base: { task: 'kmeans' }, grid: [], seeds, status: 'cancelled' });
    sweep('good', [0, 1]);
    const bad = sweep('edited', [0, -1]);
    store.close();
    const env = { CLUSTERBENCH_HOME: home };

    const json = await runCli(['sweeps', 'list', '--json'], env);
    expect([json.code, json.stderr]).toEqual([0, '']);
    const list = JSON.parse(json.stdout) as SweepSummary[];
    expect(list.map((s) => [s.name, s.runs, s.unreadable ?? null])).toEqual([
      ['edited', 0, 'seeds: -1 must be ≥ 0'],
      ['good', 2, null],
    ]);
    const table = await runCli(['sweeps', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^\\s*${bad.id}\\s+kmeans\\s+unreadable\\s`, 'm'));
    expect(table.stdout).toContain(`sweep #${bad.id} cannot be read: seeds: -1 must be ≥ 0`);
    expect(table.stdout).toMatch(/^\s*1\s+kmeans\s+cancelled\s+0\/2\s/m);

    const show = await runCli(['sweeps', 'show', String(bad.id)], env);
    expect([show.code, show.stderr.trim(), show.stdout]).toEqual([
      1,
      `clusterbench: sweep #${bad.id} cannot be read: seeds: -1 must be ≥ 0`,
      '',
    ]);
  });
});

// Issue 19: a sweep is claimed by the process running it; other processes are refused, or ask it to cancel.
describe.skipIf(skipUnless('fashionMnist'))('sweeps run by another process', () => {
  const slow = ['--train-limit', '3000', '--test-limit', '500', '--backend', 'wasm', '--n-init', '3'];
  const small = ['--train-limit', '1000', '--test-limit', '300', '--backend', 'wasm', '--n-init', '1'];

  it('resume and delete are refused in one line while it runs; sweeps cancel stops it; each child ran once', async () => {
    const env = { CLUSTERBENCH_HOME: tempHome() };
    const running = startCli(['run', '--task', 'kmeans', '--seeds', '0,1,2,3,4,5,6,7', ...slow], env);
    await running.waitFor(/^child 1\/8 /m);
    const pid = running.child.pid;
    const [resume, del] = await Promise.all([runCli(['sweeps', 'resume', '1'], env), runCli(['sweeps', 'delete', '1'], env)]);
    expect([resume.code, resume.stderr.trim(), resume.stdout]).toEqual([
      1,
      `clusterbench: sweep 1 is already running (process ${pid} on ${hostname()}): cancel it first or wait for it to end`,
      '',
    ]);
    expect([del.code, del.stderr.trim()]).toEqual([
      1,
      `clusterbench: sweep 1 is still running (process ${pid} on ${hostname()}): cancel it first`,
    ]);
    const cancel = await runCli(['sweeps', 'cancel', '1'], env);
    expect([cancel.code, cancel.stderr]).toEqual([0, '']);
    expect(cancel.stdout.trim()).toMatch(/^Cancelled sweep #1: \d\/8 runs completed; continue it with: clusterbench sweeps resume 1$/);
    const ended = await running.done;
    expect(ended.code).toBe(130);
    expect(ended.stderr).toContain('clusterbench: sweep #1 cancelled; continue it with: clusterbench sweeps resume 1');
    const { sweep } = JSON.parse((await runCli(['sweeps', 'show', '1', '--json'], env)).stdout) as { sweep: SweepDetail };
    expect(sweep.status).toBe('cancelled');
    const runs = JSON.parse((await runCli(['runs', 'list', '--json'], env)).stdout) as RunRecord[];
    expect(new Set(runs.map((r) => r.sweepChild)).size).toBe(runs.length); // no child ran twice
    expect(runs.length).toBeLessThan(8);
    const again = await runCli(['sweeps', 'cancel', '1'], env);
    expect([again.code, again.stderr.trim()]).toEqual([1, 'clusterbench: sweep #1 is not running (it is cancelled)']);
  });

  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };

  it('a sweep whose process was killed is listed as cancelled (interrupted), and resumes', async () => {
    const running = startCli(['run', '--task', 'kmeans', '--seeds', '5,6,7,8', ...small], env);
    await running.waitFor(/^child 1\/4 /m);
    running.child.kill('SIGKILL');
    await running.done;
    const [listed] = JSON.parse((await runCli(['sweeps', 'list', '--json'], env)).stdout) as SweepDetail[];
    expect([listed.status, listed.running]).toEqual(['cancelled', 0]);
    const resumed = await runCli(['sweeps', 'resume', '1', '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const { sweep } = JSON.parse(resumed.stdout) as { sweep: SweepDetail };
    expect(sweep.status).toBe('completed');
    expect(sweep.children.map((c) => c.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
  });
  it('sweeps export and export confusion --out: no silent overwrite, never through a symlink, one line for a folder or a full disk', async () => {
    const dir = tempHome();
    const csv = join(dir, 'sweep.csv');
    const svg = join(dir, 'sweep.svg');
    const exports = (out: string, ...more: string[]) => [
      ['sweeps', 'export', '1', '--out', out, ...more],
      ['export', 'confusion', '1', '--out', out.replace(/\.csv$/, '.svg'), ...more],
    ];
    for (const args of exports(csv)) expect((await runCli(args, env)).code).toBe(0);
    writeFileSync(csv, 'mine');
    writeFileSync(svg, 'mine');
    for (const args of exports(csv)) {
      const out = await runCli(args, env);
      const file = args[args.indexOf('--out') + 1];
      expect([out.code, out.stderr.trim()]).toEqual([1, `clusterbench: cannot write ${file}: it exists (add --force to replace it)`]);
    }
    expect([readFileSync(csv, 'utf8'), readFileSync(svg, 'utf8')]).toEqual(['mine', 'mine']);
    for (const args of exports(csv, '--force')) expect((await runCli(args, env)).code).toBe(0);
    expect(readFileSync(csv, 'utf8')).toMatch(/^n,accuracy_mean/);
    expect(readFileSync(svg, 'utf8')).toContain('<svg');

    // a symlink at the path is never followed, even with --force: its target is left as it was
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'precious');
    for (const link of [join(dir, 'link.csv'), join(dir, 'link.svg')]) symlinkSync(target, link);
    for (const args of exports(join(dir, 'link.csv'), '--force')) {
      const out = await runCli(args, env);
      const file = args[args.indexOf('--out') + 1];
      expect([out.code, out.stderr.trim()]).toEqual([1, `clusterbench: cannot write ${file}: it is a symbolic link`]);
    }
    expect(readFileSync(target, 'utf8')).toBe('precious');

    const folder = join(dir, 'folder.csv');
    mkdirSync(folder);
    mkdirSync(join(dir, 'folder.svg'));
    for (const args of exports(folder, '--force')) {
      const out = await runCli(args, env);
      const file = args[args.indexOf('--out') + 1];
      expect([out.code, out.stderr.trim()]).toEqual([1, `clusterbench: cannot write ${file}: it is a folder`]);
    }

    // a full disk: a tiny tmpfs (root can mount one; elsewhere this part is skipped, and says so)
    const full = join(dir, 'full');
    mkdirSync(full);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', full]).status !== 0) {
      recordSkip('the full-disk case of the exports: mounting a tmpfs needs root');
      return;
    }
    try {
      writeFileSync(join(full, 'filler'), Buffer.alloc(4096));
      for (const args of exports(join(full, 'sweep.csv'))) {
        const out = await runCli(args, env);
        const file = args[args.indexOf('--out') + 1];
        expect([out.code, out.stderr.trim()]).toEqual([1, `clusterbench: cannot write ${file}: no space left on the device`]);
      }
      expect(readdirSync(full)).toEqual(['filler']); // no temporary file left behind
    } finally {
      spawnSync('umount', [full]);
    }
  });
});
