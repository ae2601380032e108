import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import {
  DEFAULT_MAX_RUNS,
  MAX_SWEEP_NAME,
  MAX_SWEEP_RUNS,
  planSweep,
  type PlanWording,
  type SweepPlan,
  type SweepRequest,
} from '../../engine/schema/sweep';
import { PARAM_NAMES, paramKind, TASKS, type ParamName } from '../../engine/schema/params';
import { deleteSweep, getSweepDetail, listSweeps, sweepCsvFile, sweepNotFound } from '../../service/sweeps';
import { sweepDetail } from '../../service/sweep-views';
import { CliError, idArg, wholeNumberArg } from '../args';
import { globals, printJson, withStore } from '../context';
import { addParamOptions, paramFlag, paramNamed, parseParamValue } from '../param-options';
import { driveSweep, seedsArg } from '../sweep-driver';
import { sweepReport, sweepsTable } from '../sweep-format';
import { addSlurmEmitOptions, emitFolder, emitReport, emitSweep, type EmitFlags } from '../slurm/options';
import { FORCE_OPTION, writeExport } from './export';
import { registerRunChildCommand } from './run-child';
import { registerSweepsCancelCommand } from './sweeps-cancel';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * "--grid lr=0.01,0.001" → ['learningRate', [0.01, 0.001]]: the name is the flag's or the parameter's, each value is
 * parsed as that flag parses it; a list parameter's values are separated by ';' ("layers=500,500,2000;256,256").
 */
export function gridArg(text: string): [string, unknown[]] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`--grid: expected NAME=VALUE,VALUE… such as k=5,10, got "${text}"`);
  const name = text.slice(0, eq).trim().replace(/^--/, '');
  if (name === 'seed' || name === 'seeds') throw new CliError('--grid: seed cannot be in the grid: list the seeds with --seeds');
  const param = paramNamed(name);
  if (!param) throw new CliError(`--grid: unknown parameter '${name}'`);
  const list = text.slice(eq + 1);
  if (list.trim() === '') throw new CliError(`--grid: '${name}' has no values`);
  const texts = list.split(paramKind(param) === 'list' ? ';' : ',').map((v) => v.trim());
  return [
    param,
    texts.map((value) => {
      try {
        return parseParamValue(param, value);
      } catch (err) {
        throw new CliError(`--grid ${name}: ${(err as Error).message}`);
      }
    }),
  ];
}

/** Plan refusals name parameters as the user typed them: by their flag (lr, n-init), as --grid takes them too. */
const CLI_WORDING: PlanWording = {
  label: (param) => (PARAM_NAMES.includes(param as ParamName) ? paramFlag(param as ParamName) : param),
};

/** The sweep's plan, refused in the CLI's words before anything is recorded or run (the runner plans it again). */
const planForCli = (request: SweepRequest) => planSweep(request, CLI_WORDING);

function seedsOf(opts: { seeds?: number[]; seed?: number }, fallback: number[]): number[] {
  if (opts.seeds && opts.seed !== undefined) throw new CliError('--seed and --seeds cannot be used together: --seeds lists every seed');
  return opts.seeds ?? fallback;
}

/** `run … --seeds 0,1,2`: a sweep over seeds. */
export async function runSeedsSweep(
  command: Command,
  params: Record<string, unknown>,
  opts: { seeds?: number[]; seed?: number; json?: boolean },
) {
  const request: SweepRequest = { params, seeds: seedsOf(opts, []) };
  planForCli(request);
  await driveSweep(command, { request }, opts.json);
}

function registerSweepCommand(program: Command): void {
  const sweep = program
    .command('sweep')
    .description('run an experiment over a grid of parameter values and seeds; prints mean ± sd per combination')
    .addOption(new Option('--task <task>', 'experiment').choices([...TASKS]).makeOptionMandatory())
    .option(
      '--grid <name=values>',
      'a parameter and its values, e.g. k=5,10 or lr=0.01,0.001 (repeat for more; lists: layers=500,2000;256)',
      collect,
    )
    .option('--seeds <list>', 'seeds, e.g. 0,1,2 (default: --seed, else 0)', seedsArg)
    .option(
      '--max-runs <n>',
      `refuse sweeps of more runs than this (default ${DEFAULT_MAX_RUNS}, at most ${MAX_SWEEP_RUNS})`,
      wholeNumberArg(1, MAX_SWEEP_RUNS),
    )
    .option('--name <text>', `a name for the sweep (one line, at most ${MAX_SWEEP_NAME} characters)`);
  const readParams = addParamOptions(sweep);
  addSlurmEmitOptions(sweep);
  sweep
    .option('--json', 'print exactly one JSON object on stdout: { sweep } (with --emit: { sweep, slurm })')
    .action(async (opts, command: Command) => {
      const params: Record<string, unknown> = { task: opts.task, ...readParams(opts) };
      const seeds = seedsOf(opts, [typeof params.seed === 'number' ? params.seed : 0]);
      // A sweep of one run is a run: ask for something to vary (a seeds-only sweep can also be emitted for Slurm).
      if (!opts.grid?.length && seeds.length < 2) throw new CliError('sweep needs a --grid NAME=VALUE,VALUE… or two or more --seeds');
      const request: SweepRequest = {
        params,
        seeds,
        grid: ((opts.grid ?? []) as string[]).map(gridArg),
        maxRuns: opts.maxRuns,
        name: opts.name,
      };
      const emitDir = emitFolder(opts);
      const plan = planForCli(request);
      if (emitDir !== undefined) return emitAsSlurm(command, plan, request.name ?? null, emitDir, opts, opts.json);
      await driveSweep(command, { request }, opts.json);
    });
}

/**
 * `sweep … --emit slurm DIR`: the sweep is recorded (queued) and written as a Slurm job array instead of run here.
 * With --json: `{ sweep, slurm: { dir, script } }`, the sweep as `sweeps show --json` prints it.
 */
function emitAsSlurm(command: Command, plan: SweepPlan, name: string | null, dir: string, flags: EmitFlags, json?: boolean) {
  return withStore(command, (store) => {
    const { sweep, script } = emitSweep(store, plan, name, dir, flags, globals(command).data);
    if (json) printJson({ sweep: sweepDetail(sweep, []), slurm: { dir: resolve(dir), script } });
    else process.stdout.write(`${emitReport(sweep, plan, script, dir)}\n`);
  });
}

export function registerSweepCommands(program: Command): void {
  registerSweepCommand(program);
  const sweeps = program.command('sweeps').description('the sweeps in the history');
  sweeps
    .command('list')
    .description('list sweeps, newest first')
    .option('--json', 'print JSON')
    .action((opts, command: Command) =>
      withStore(command, (store) => {
        const list = listSweeps(store);
        if (opts.json) printJson(list);
        else process.stdout.write(`${sweepsTable(list)}\n`);
      }),
    );
  sweeps
    .command('show')
    .description('one sweep: its children and the mean ± sd (and n) of accuracy, NMI, ARI and time per combination')
    .argument('<id>', 'sweep id', idArg)
    .option('--json', 'print JSON: { sweep }')
    .action((id: number, opts, command: Command) =>
      withStore(command, (store) => {
        const detail = getSweepDetail(store, id);
        if (opts.json) printJson({ sweep: detail });
        else process.stdout.write(`${sweepReport(detail)}\n`);
      }),
    );
  sweeps
    .command('resume')
    .description('run the children of a sweep that are pending, failed or cancelled (completed ones are kept)')
    .argument('<id>', 'sweep id', idArg)
    .option('--json', 'print exactly one JSON object on stdout: { sweep }')
    .action((id: number, opts, command: Command) => driveSweep(command, { resume: id }, opts.json));
  sweeps
    .command('delete')
    .description('delete a sweep and its runs')
    .argument('<id>', 'sweep id', idArg)
    .option('--keep-runs', 'keep its runs, as runs of their own')
    .action((id: number, opts, command: Command) =>
      withStore(command, (store) => {
        const runIds = deleteSweep(store, id, { deleteRuns: !opts.keepRuns }); // the deleted runs with their files
        if (runIds === null) throw sweepNotFound(store, id);
        process.stdout.write(`Deleted sweep #${id}${opts.keepRuns ? ' (its runs kept)' : ` and its ${runIds.length} runs`}\n`);
      }),
    );
  sweeps
    .command('export')
    .description("a sweep's summary rows (mean ± sd per combination) as CSV")
    .argument('<id>', 'sweep id', idArg)
    .requiredOption('--out <file>', 'output file (.csv)')
    .option(...FORCE_OPTION)
    .action((id: number, opts: { out: string; force?: boolean }, command: Command) =>
      withStore(command, async (store) => writeExport(sweepCsvFile(store, id), opts)),
    );
  registerSweepsCancelCommand(sweeps);
  registerRunChildCommand(sweeps);
}
