/**
 * The sbatch script of an emitted sweep: a Slurm job array whose task i runs the headless CLI on child i
 * (`sweeps run-child children/child-i.json --db results/child-i.sqlite`). Pure text; slurm/emit.ts writes it.
 */
import { MAX_WASM_THREADS, WASM_THREADS_ENV } from '../../engine/backend/wasm-threads';
import { oneLine } from '../../engine/schema/sweep';

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
  /** One line describing the sweep, for the script's header (user text: written with oneLine, never run). */
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

/** What a value on an #SBATCH line may hold: Slurm checks its syntax; this keeps it one word on its line. */
export const SBATCH_VALUE = /^[\w.:,+-]+$/;

/** An #SBATCH line; a value that could end its line or the script's header is refused, not written. */
function sbatchLine(option: string, value: string | number): string {
  if (!SBATCH_VALUE.test(String(value))) throw new Error(`"${value}" cannot go on an #SBATCH line`);
  return `#SBATCH --${option}=${value}`;
}

function sbatchLines(input: SlurmScriptInput): string[] {
  const { resources: r, dir } = input;
  // Slurm reads the --output line, not bash: the path cannot be quoted there (emit.ts refuses such folders first).
  if (/[\s%]/.test(dir)) throw new Error(`${JSON.stringify(dir)}: a folder with spaces or % cannot go on an #SBATCH line`);
  return [
    sbatchLine('job-name', `clusterbench-${input.uid.slice(0, 8)}`),
    sbatchLine('array', `0-${input.runs - 1}`),
    `#SBATCH --output=${dir}/logs/child-%a.out`,
    sbatchLine('cpus-per-task', r.cpusPerTask),
    sbatchLine('time', r.time),
    ...(r.partition ? [sbatchLine('partition', r.partition)] : []),
    ...(r.mem ? [sbatchLine('mem', r.mem)] : []),
  ];
}

/**
 * The script. Every #SBATCH line comes before the first command (sbatch reads none after it); user text appears only
 * in the header comment, made one line by oneLine; every path and argument is single-quoted.
 */
export function slurmScript(input: SlurmScriptInput): string {
  const { dir, cli } = input;
  const q = shellQuote;
  const fromSources = [...cli.nodeArgs, cli.entry].map(q).join(' ');
  const script = q(`${dir}/sweep.sbatch`);
  return `#!/bin/bash
# Clusterbench sweep ${input.uid}: ${oneLine(input.description)}
# One array task per child run; each writes its own run history, results/child-<i>.sqlite.
#   submit:   sbatch ${script}          (resources: edit the #SBATCH lines below, or override them:
#             sbatch --partition=gpu --time=4:00:00 --cpus-per-task=8 ${script})
#   then:     clusterbench runs import ${q(`${dir}/results`)}/*.sqlite
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
