/**
 * The `--emit slurm DIR` flags of the sweep commands, and what emitting does with the user's history: the sweep is
 * recorded there (queued, with the uid its children carry) so `sweeps show` knows it, and `runs import` of the
 * array's results joins it.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { sweepNameProblem, type SweepPlan } from '../../engine/schema/sweep';
import type { RunStore, SweepRecord } from '../../service/history';
import { queueSweep } from '../../service/sweeps';
import { CliError } from '../args';
import { emitSlurm } from './emit';
import { SBATCH_VALUE, shellQuote, type SlurmResources } from './script';

export interface EmitFlags {
  emit?: string[];
  partition?: string;
  time: string;
  cpusPerTask: number;
  mem?: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

/** Slurm's own syntax is checked by sbatch; this only keeps a value from breaking its #SBATCH line. */
function sbatchValue(value: string): string {
  if (!SBATCH_VALUE.test(value)) throw new InvalidArgumentError(`"${value}" cannot go on an #SBATCH line`);
  return value;
}

export function addSlurmEmitOptions(command: Command): Command {
  return command
    .option('--emit <target...>', 'write the sweep as a Slurm job array instead of running it: --emit slurm DIR')
    .option('--partition <name>', "with --emit slurm: the partition (default: the cluster's default)", sbatchValue)
    .option('--time <limit>', 'with --emit slurm: time limit per child, in Slurm syntax (30, 2:00:00, 1-00:00:00)', sbatchValue, '1:00:00')
    .option('--cpus-per-task <n>', 'with --emit slurm: CPUs per child (the wasm backend runs as many threads, at most 8)', positiveInt, 4)
    .option('--mem <size>', 'with --emit slurm: memory per child (e.g. 8G; default: the cluster’s)', sbatchValue);
}

/** The folder of `--emit slurm DIR`, or undefined without --emit; any other target is refused. */
export function emitFolder(flags: EmitFlags): string | undefined {
  if (flags.emit === undefined) return undefined;
  const [target, dir, ...rest] = flags.emit;
  if (target !== 'slurm' || dir === undefined || rest.length > 0)
    throw new CliError(`--emit takes "slurm DIR" (the only target so far), got "${flags.emit.join(' ')}"`);
  return dir;
}

/**
 * Records the sweep (queued) in `store` and writes its Slurm array into `dir`; a folder that cannot be written
 * leaves no sweep behind, a name that is not one printable line is refused first. Returns the sweep and the script.
 */
export function emitSweep(
  store: RunStore,
  plan: SweepPlan,
  name: string | null,
  dir: string,
  flags: EmitFlags,
  dataDir?: string,
): { sweep: SweepRecord; script: string } {
  const nameProblem = name === null ? null : sweepNameProblem(name);
  if (nameProblem) throw new CliError(`name: ${nameProblem}`);
  const resources: SlurmResources = { partition: flags.partition, time: flags.time, cpusPerTask: flags.cpusPerTask, mem: flags.mem };
  const { sweep, written } = queueSweep(store, plan, name, (queued) => emitSlurm(plan, queued, { dir, resources, dataDir }));
  return { sweep, script: written };
}

/** What `sweep --emit slurm DIR` prints: where things are and the two commands that follow, paths quoted for bash. */
export function emitReport(sweep: SweepRecord, plan: Pick<SweepPlan, 'runs'>, script: string, dir: string): string {
  const folder = resolve(dir);
  return [
    `Sweep #${sweep.id} (${sweep.uid}) recorded as queued: ${plan.runs} runs written as a Slurm job array in ${folder}`,
    `  submit:  sbatch ${shellQuote(script)}`,
    `  then:    clusterbench runs import ${shellQuote(`${folder}/results`)}/*.sqlite`,
  ].join('\n');
}
