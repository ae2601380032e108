/**
 * What `sweep --emit slurm DIR` writes, checked without Slurm: the files, the sweep recorded in the history, and the
 * script's command line — run by bash as an array task would run it, with a stand-in for node that prints its arguments.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSweep, type SweepPlan } from '../../src-main/engine/schema/sweep';
import { RunStore } from '../../src-main/engine/store';
import type { SweepRecord } from '../../src-main/engine/store/types';
import { readChildFile } from '../../src-main/cli/slurm/child-file';
import { currentCliInvocation, emitSlurm } from '../../src-main/cli/slurm/emit';
import { emitFolder, emitReport, emitSweep, type EmitFlags } from '../../src-main/cli/slurm/options';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cb-emit-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FLAGS: EmitFlags = { time: '30', cpusPerTask: 2, partition: 'short' };
const plan = () => planSweep({ params: { task: 'kmeans', trainLimit: 1000, testLimit: 300 }, seeds: [0, 1, 2], grid: [['k', [8, 10]]] });

/** Runs the emitted script for one array task with `node` replaced by a script that prints its arguments, one a line. */
function runTask(script: string, task: number, env: NodeJS.ProcessEnv = {}): { args: string[]; env: string[] } {
  const fakeNode = join(root, 'fake-node.sh');
  writeFileSync(fakeNode, '#!/bin/bash\nprintf "%s\\n" "$@"\necho "DATA=$CLUSTERBENCH_DATA THREADS=$CLUSTERBENCH_WASM_THREADS"\n', {
    mode: 0o755,
  });
  const r = spawnSync('bash', [script], {
    env: { PATH: process.env.PATH, SLURM_ARRAY_TASK_ID: String(task), SLURM_CPUS_PER_TASK: '2', CLUSTERBENCH_NODE: fakeNode, ...env },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return { args: lines.slice(0, -1), env: lines.slice(-1) };
}

describe('sweep --emit slurm', () => {
  it('records the sweep (queued) and writes the array, one child file per run', () => {
    const db = join(root, 'h1', 'runs.sqlite');
    const dir = join(root, 'array-one');
    const store = RunStore.open(db);
    try {
      const { sweep, script } = emitSweep(store, plan(), 'k grid', dir, FLAGS, '/data/fmnist');
      expect(store.getSweep(sweep.id)).toMatchObject({ status: 'queued', name: 'k grid', grid: [['k', [8, 10]]], seeds: [0, 1, 2] });
      const text = readFileSync(script, 'utf8');
      expect(text).toContain('#SBATCH --array=0-5');
      expect(text).toContain('#SBATCH --cpus-per-task=2\n#SBATCH --time=30\n#SBATCH --partition=short');
      expect(text).toContain(`#SBATCH --output=${dir}/logs/child-%a.out`);
      expect(spawnSync('bash', ['-n', script]).status).toBe(0);
      for (const sub of ['results', 'logs']) expect(existsSync(join(dir, sub))).toBe(true);
      const child = readChildFile(join(dir, 'children', 'child-3.json'));
      expect(child).toMatchObject({ index: 3, values: { k: 10, seed: 0 }, sweep: { uid: sweep.uid, name: 'k grid' } });
      expect(child.params).toMatchObject({ task: 'kmeans', k: 10, seed: 0, trainLimit: 1000 });
      expect(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'))).toMatchObject({ uid: sweep.uid, runs: 6 });

      const self = currentCliInvocation();
      const task = runTask(script, 4);
      expect(task.args).toEqual([
        ...self.nodeArgs,
        self.entry,
        'sweeps',
        'run-child',
        join(dir, 'children', 'child-4.json'),
        '--db',
        join(dir, 'results', 'child-4.sqlite'),
      ]);
      expect(task.env).toEqual(['DATA=/data/fmnist THREADS=2']);
      // An installed CLI elsewhere, and the data somewhere else: the environment wins.
      const other = runTask(script, 0, { CLUSTERBENCH_CLI: '/opt/cb/bin/clusterbench.js', CLUSTERBENCH_DATA: '/scratch/d' });
      expect(other.args.slice(0, 3)).toEqual(['/opt/cb/bin/clusterbench.js', 'sweeps', 'run-child']);
      expect(other.env).toEqual(['DATA=/scratch/d THREADS=2']);
    } finally {
      store.close();
    }
  });

  it('refuses a folder that already holds a sweep, leaving no second sweep in the history', () => {
    const db = join(root, 'h2', 'runs.sqlite');
    const dir = join(root, 'taken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'sweep.sbatch'), '');
    const store = RunStore.open(db);
    try {
      expect(() => emitSweep(store, plan(), null, dir, FLAGS)).toThrow(`--emit slurm ${dir}: the folder already holds an emitted sweep`);
      expect(store.listSweeps()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('takes "slurm DIR" and nothing else', () => {
    expect(emitFolder({ ...FLAGS })).toBeUndefined();
    expect(emitFolder({ ...FLAGS, emit: ['slurm', 'out'] })).toBe('out');
    expect(() => emitFolder({ ...FLAGS, emit: ['pbs', 'out'] })).toThrow(
      '--emit takes "slurm DIR" (the only target so far), got "pbs out"',
    );
    expect(() => emitFolder({ ...FLAGS, emit: ['slurm'] })).toThrow('--emit takes "slurm DIR"');
  });
});

// Issue 19: a sweep's name is user text; nothing of it may run, and the printed commands must survive copy and paste.
describe('sweep --emit slurm: user text never reaches the shell (issue 19)', () => {
  const hostile = (marker: string) => `x\ntouch ${marker} #\r\u2028touch ${marker}`;

  /** The script's lines up to its first command: every #SBATCH line must come before it, or sbatch ignores it. */
  function sbatchLinesBeforeCommands(text: string): void {
    const lines = text.split('\n');
    const firstCommand = lines.findIndex((line, i) => i > 0 && line.trim() !== '' && !line.startsWith('#'));
    const lastSbatch = lines.map((line) => line.startsWith('#SBATCH')).lastIndexOf(true);
    expect(lastSbatch).toBeGreaterThan(0);
    expect(lastSbatch).toBeLessThan(firstCommand);
  }

  it('a name with line breaks is written as one comment line: running the script creates no file', () => {
    const dir = join(root, 'hostile-name');
    const marker = join(root, 'PWNED-name');
    const script = emitSlurm(plan(), { uid: 'abcdef0123456789', name: hostile(marker) }, { dir, resources: FLAGS });
    const text = readFileSync(script, 'utf8');
    sbatchLinesBeforeCommands(text);
    expect(text.split('\n').filter((l) => l.includes('PWNED-name'))).toHaveLength(1);
    const r = spawnSync('bash', [script], {
      cwd: root,
      env: { PATH: process.env.PATH, SLURM_ARRAY_TASK_ID: '0', CLUSTERBENCH_NODE: 'true' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('emitSweep refuses such a name in one line, recording nothing and writing nothing', () => {
    const store = RunStore.open(join(root, 'h-hostile', 'runs.sqlite'));
    const dir = join(root, 'hostile-refused');
    try {
      expect(() => emitSweep(store, plan(), hostile('/tmp/PWNED'), dir, FLAGS)).toThrow(
        /^name: must be one line of printable text \(no line breaks, tabs or other control characters\)$/,
      );
      expect(store.listSweeps()).toEqual([]);
      expect(existsSync(join(dir, 'sweep.sbatch'))).toBe(false);
    } finally {
      store.close();
    }
  });

  it('the printed submit and import commands quote their paths (spaces, quotes, $(…))', () => {
    const marker = join(root, 'PWNED-report');
    const dir = join(root, `it's a "dir" $(touch ${marker})`);
    mkdirSync(join(dir, 'results'), { recursive: true });
    writeFileSync(join(dir, 'results', 'child-0.sqlite'), '');
    const script = join(dir, 'sweep.sbatch');
    const report = emitReport({ id: 7, uid: 'abcdef0123456789' } as SweepRecord, { runs: 6 } as SweepPlan, script, dir);
    const command = (label: string) =>
      report
        .split('\n')
        .find((l) => l.trimStart().startsWith(label))!
        .split(label)[1]
        .trim();
    /** What bash passes to the printed command, one argument a line (sbatch and clusterbench stand-ins print them). */
    const argsOf = (line: string) =>
      spawnSync('bash', ['-c', `sbatch() { printf '%s\\n' "$@"; }; clusterbench() { printf '%s\\n' "$@"; }; ${line}`], {
        encoding: 'utf8',
      }).stdout;
    expect(argsOf(command('submit:'))).toBe(`${script}\n`);
    expect(argsOf(command('then:'))).toBe(`runs\nimport\n${join(dir, 'results', 'child-0.sqlite')}\n`);
    expect(existsSync(marker)).toBe(false);
  });
});
