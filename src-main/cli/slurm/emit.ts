/**
 * `sweep … --emit slurm DIR`: writes a sweep as a Slurm job array — DIR/sweep.sbatch, DIR/sweep.json (the sweep),
 * DIR/children/child-<i>.json (each child's parameters), and empty DIR/results and DIR/logs for what the tasks write.
 * `runs import DIR/results/*.sqlite` brings the children back; the sweep (same uid) is recorded in the user's history
 * when emitting, so `sweeps show` knows it before any child has run.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SweepPlan } from '../../engine/schema/sweep';
import { CliError } from '../args';
import { CHILD_FORMAT, SWEEP_FORMAT, type ChildFile, type SweepDefinition } from './child-file';
import { slurmScript, type CliInvocation, type SlurmResources } from './script';

/** Flags that take a module (tsx's loader when running from sources); --require takes a path, the others a URL too. */
const MODULE_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/** A module flag's value made absolute: bare names and relative paths are resolved now, from the current folder. */
function absoluteModule(flag: string, value: string): string {
  if (value.startsWith('file:') || isAbsolute(value)) return value;
  const path = createRequire(join(process.cwd(), 'noop.js')).resolve(value);
  return flag === '--require' || flag === '-r' ? path : pathToFileURL(path).href;
}

/** How this very process was started (node, its loader flags, the CLI entry), with every path absolute. */
export function currentCliInvocation(): CliInvocation {
  const nodeArgs = process.execArgv.map((arg, i, all) => {
    const joined = /^(--[a-z-]+)=(.*)$/.exec(arg);
    if (joined && MODULE_FLAGS.has(joined[1])) return `${joined[1]}=${absoluteModule(joined[1], joined[2])}`;
    const flag = all[i - 1] ?? '';
    return MODULE_FLAGS.has(flag) ? absoluteModule(flag, arg) : arg;
  });
  return { node: process.execPath, nodeArgs, entry: realpathSync(process.argv[1]) };
}

export interface EmitOptions {
  dir: string;
  resources: SlurmResources;
  dataDir?: string;
  cli?: CliInvocation;
}

/** Refuses a folder that already holds an emitted sweep, or whose path Slurm's #SBATCH lines cannot carry. */
function prepareFolder(dir: string): void {
  if (/[\s%]/.test(dir))
    throw new CliError(`--emit slurm ${dir}: the folder's path must not contain spaces or %, which #SBATCH lines cannot carry`);
  if (existsSync(join(dir, 'sweep.sbatch')) || (existsSync(join(dir, 'children')) && readdirSync(join(dir, 'children')).length > 0))
    throw new CliError(`--emit slurm ${dir}: the folder already holds an emitted sweep; choose an empty folder`);
  for (const sub of ['children', 'results', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
}

/** One line describing a sweep: task, grid, seeds, runs. */
export function describeSweep(plan: SweepPlan, name: string | null): string {
  const grid = plan.grid.map(([param, values]) => `${param}=${values.map((v) => JSON.stringify(v)).join(',')}`).join(' ');
  return `${name ? `${name}: ` : ''}${plan.task}, ${grid ? `grid ${grid}, ` : ''}seeds ${plan.seeds.join(',')}: ${plan.runs} runs`;
}

/** Writes the emit folder for a sweep recorded as `sweep` (uid, name); returns the script's path. */
export function emitSlurm(plan: SweepPlan, sweep: { uid: string; name: string | null }, options: EmitOptions): string {
  const dir = resolve(options.dir);
  prepareFolder(dir);
  const definition: SweepDefinition = {
    uid: sweep.uid,
    name: sweep.name,
    task: plan.task,
    base: plan.base,
    grid: plan.grid,
    seeds: plan.seeds,
  };
  const description = describeSweep(plan, sweep.name);
  for (const child of plan.children) {
    const file: ChildFile = {
      format: CHILD_FORMAT,
      sweep: definition,
      description,
      index: child.index,
      values: child.values,
      params: child.params,
    };
    writeFileSync(join(dir, 'children', `child-${child.index}.json`), `${JSON.stringify(file, null, 2)}\n`);
  }
  const sweepFile = { format: SWEEP_FORMAT, ...definition, description, runs: plan.runs, emittedAt: new Date().toISOString() };
  writeFileSync(join(dir, 'sweep.json'), `${JSON.stringify(sweepFile, null, 2)}\n`);
  const script = join(dir, 'sweep.sbatch');
  const text = slurmScript({
    dir,
    runs: plan.runs,
    uid: sweep.uid,
    description,
    cli: options.cli ?? currentCliInvocation(),
    resources: options.resources,
    dataDir: options.dataDir === undefined ? undefined : resolve(options.dataDir),
  });
  writeFileSync(script, text, { mode: 0o755 });
  return script;
}
