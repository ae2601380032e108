/**
 * The sbatch script of an emitted sweep: a Slurm job array whose task i runs the headless CLI on child i
 * (`sweeps run-child children/child-i.json --db results/child-i.sqlite`). Pure text; slurm/emit.ts writes it.
 */
import { MAX_WASM_THREADS, WASM_THREADS_ENV } from '../../engine/backend/wasmThreads';

/** How the array tasks start this CLI: the node binary, its loader flags (running from sources) and the entry script. */
export interface CliInvocation {
  node: string;
  nodeArgs: string[];
  entry: string;
}

/** Slurm resources, each a `#SBATCH` line (edit it in the script, or override with `sbatch --flag=…`). */
export interface SlurmResources {
  partition?: string;
  time: string;
  cpusPerTask: number;
  mem?: string;
}

export interface SlurmScriptInput {
  /** The emit folder, absolute. */
  dir: string;
  runs: number;
  uid: string;
  /** One line describing the sweep, for the script's header. */
  description: string;
  cli: CliInvocation;
  resources: SlurmResources;
  /** The data folder given when emitting (absolute), exported as CLUSTERBENCH_DATA unless the job's environment sets it. */
  dataDir?: string;
}

/** A word for bash, single-quoted (a ' inside becomes '\''). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function sbatchLines(input: SlurmScriptInput): string[] {
  const { resources: r, dir } = input;
  return [
    `#SBATCH --job-name=clusterbench-${input.uid.slice(0, 8)}`,
    `#SBATCH --array=0-${input.runs - 1}`,
    `#SBATCH --output=${dir}/logs/child-%a.out`,
    `#SBATCH --cpus-per-task=${r.cpusPerTask}`,
    `#SBATCH --time=${r.time}`,
    ...(r.partition ? [`#SBATCH --partition=${r.partition}`] : []),
    ...(r.mem ? [`#SBATCH --mem=${r.mem}`] : []),
  ];
}

export function slurmScript(input: SlurmScriptInput): string {
  const { dir, cli } = input;
  const q = shellQuote;
  const fromSources = [...cli.nodeArgs, cli.entry].map(q).join(' ');
  return `#!/bin/bash
# Clusterbench sweep ${input.uid}: ${input.description}
# One array task per child run; each writes its own run history, results/child-<i>.sqlite.
#   submit:   sbatch ${dir}/sweep.sbatch          (resources: edit the #SBATCH lines below, or override them:
#             sbatch --partition=gpu --time=4:00:00 --cpus-per-task=8 ${dir}/sweep.sbatch)
#   then:     clusterbench runs import ${dir}/results/*.sqlite
# The CLI that emitted this sweep runs each child; on nodes where it lives elsewhere set, e.g. with sbatch --export=ALL,…:
#   CLUSTERBENCH_NODE   the node binary            (default: the one below)
#   CLUSTERBENCH_CLI    the CLI's entry script     (an installed clusterbench: $(npm root -g)/clusterbench/bin/clusterbench.js)
#   CLUSTERBENCH_DATA   the Fashion-MNIST folder   (default: the one given when emitting, else the CLI's usual search)
${sbatchLines(input).join('\n')}
set -euo pipefail
sweep_dir=${q(dir)}
child=\${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is a job array)}
node=\${CLUSTERBENCH_NODE:-${q(cli.node)}}
if [ -n "\${CLUSTERBENCH_CLI:-}" ]; then cli=("$CLUSTERBENCH_CLI"); else cli=(${fromSources}); fi
${input.dataDir ? `default_data=${q(input.dataDir)}\nexport CLUSTERBENCH_DATA="\${CLUSTERBENCH_DATA:-$default_data}"\n` : ''}\
# The wasm backend's threads follow the CPUs Slurm gave the task (at most ${MAX_WASM_THREADS}).
cpus=\${SLURM_CPUS_PER_TASK:-1}
export ${WASM_THREADS_ENV}="\${${WASM_THREADS_ENV}:-$(( cpus < ${MAX_WASM_THREADS} ? cpus : ${MAX_WASM_THREADS} ))}"
mkdir -p "$sweep_dir/results"
exec "$node" "\${cli[@]}" sweeps run-child "$sweep_dir/children/child-$child.json" --db "$sweep_dir/results/child-$child.sqlite"
`;
}
