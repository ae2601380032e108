/**
 * A sweep's plan: a base experiment, a grid of parameter values and a list of seeds, expanded into its children —
 * the cartesian product of the grid in order, each combination × seeds, seed innermost: child i is combination
 * ⌊i / seeds⌋ with seed i mod seeds. Every combination is validated like a single run (parseExperimentParams), so a
 * sweep is refused, in one line naming the problem, before anything runs. Pure (no Node imports): the renderer
 * uses it for the run count.
 */
import { z } from 'zod';
import {
  PARAM_NAMES,
  PARAMS,
  checkExperimentParams,
  isParamUsed,
  taskTakes,
  type ExperimentParams,
  type ParamName,
  type TaskName,
} from './params';

/** More runs than this are refused unless the request raises the limit. */
export const DEFAULT_MAX_RUNS = 500;
/** At most this many seeds (the contract's limit too). */
export const MAX_SEEDS = 1000;
/** The most runs one sweep may have, whatever maxRuns says: a grid is counted against it before it is expanded. */
export const MAX_SWEEP_RUNS = 10_000;
/** The longest sweep name, in characters. */
export const MAX_SWEEP_NAME = 200;

/** Characters that break a line or hide text: C0/C1 controls (newline, tab, ESC…), line separators, bidi overrides. */
const HIDDEN_CHARACTER = /[\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]/u;

/** Why a sweep name cannot be used (it ends up in terminals, CSV files and Slurm scripts), or null when it can. */
export function sweepNameProblem(name: string): string | null {
  if (name.length > MAX_SWEEP_NAME) return `at most ${MAX_SWEEP_NAME} characters, got ${name.length}`;
  if (HIDDEN_CHARACTER.test(name)) return 'must be one line of printable text (no line breaks, tabs or other control characters)';
  return null;
}

/** A sweep name as every boundary takes it (the contract, emitted child files). */
export const sweepNameSchema = z.string().superRefine((name, ctx) => {
  const problem = sweepNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** `text` on one line: every line-breaking or hidden character written as \u{…}, for comments in generated files. */
export function oneLine(text: string): string {
  return text.replace(new RegExp(HIDDEN_CHARACTER.source, 'gu'), (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** What a sweep is asked for: the base params (task + params, like runs.start), the seeds, the grid. */
export interface SweepRequest {
  params: Record<string, unknown>;
  seeds: number[];
  /** Ordered [[paramName, [values…]], …]; [] or absent for a seeds-only sweep. */
  grid?: [string, unknown[]][];
  /** More runs are refused (default DEFAULT_MAX_RUNS); never more than MAX_SWEEP_RUNS. */
  maxRuns?: number;
  /** Checked when given (sweepNameProblem); the plan does not carry it. */
  name?: string | null;
}

export interface SweepChildPlan {
  index: number;
  combination: number;
  /** The grid values of its combination, and its seed. */
  values: Record<string, unknown>;
  /** The run's validated parameters. */
  params: ExperimentParams;
}

export interface SweepPlan {
  task: TaskName;
  /** Every parameter but the seed (the grid's parameters at their first values). */
  base: Record<string, unknown>;
  grid: [ParamName, unknown[]][];
  seeds: number[];
  combinations: number;
  runs: number;
  children: SweepChildPlan[];
}

/** A sweep refused before anything ran; the message is the one line to show. */
export class SweepPlanError extends Error {
  override name = 'SweepPlanError';
}

const refuse = (message: string): never => {
  throw new SweepPlanError(message);
};

const show = (value: unknown): string => (Array.isArray(value) ? value.join(',') : String(value));

/** The first value listed twice (compared as JSON), found in one pass: a list may be long before it is counted. */
function firstDuplicate(values: readonly unknown[]): unknown {
  const seen = new Set<string>();
  for (const value of values) {
    const text = JSON.stringify(value);
    if (seen.has(text)) return value;
    seen.add(text);
  }
  return undefined;
}

function checkSeeds(seeds: unknown): number[] {
  if (!Array.isArray(seeds) || seeds.length === 0) return refuse('seeds: give at least one seed');
  if (seeds.length > MAX_SEEDS) refuse(`seeds: at most ${MAX_SEEDS} seeds, got ${seeds.length}`);
  const schema = PARAMS.seed.schema;
  for (const seed of seeds) {
    const parsed = schema.safeParse(seed);
    if (!parsed.success) refuse(`seeds: ${show(seed)} ${parsed.error.issues[0].message}`);
  }
  const dup = firstDuplicate(seeds);
  if (dup !== undefined) refuse(`seeds: ${show(dup)} is listed twice`);
  return seeds as number[];
}

function checkGrid(task: string, grid: unknown): [ParamName, unknown[]][] {
  if (!Array.isArray(grid)) return refuse('grid: expected a list of [parameter, values] pairs');
  const seen = new Set<string>();
  for (const entry of grid) {
    const [name, values] = Array.isArray(entry) ? (entry as [unknown, unknown]) : [undefined, undefined];
    if (typeof name !== 'string') refuse('grid: expected a list of [parameter, values] pairs');
    const param = name as string;
    if (param === 'seed') refuse('grid: seed cannot be in the grid: list the seeds in seeds (--seeds) instead');
    if (param === 'task') refuse('grid: the task cannot be varied: one sweep runs one task');
    if (!PARAM_NAMES.includes(param as ParamName)) refuse(`grid: unknown parameter '${param}'`);
    if (!taskTakes(task, param as ParamName)) refuse(`grid: task ${task} does not take the parameter '${param}'`);
    if (seen.has(param)) refuse(`grid: '${param}' is listed twice`);
    seen.add(param);
    if (!Array.isArray(values) || values.length === 0) refuse(`grid: '${param}' has no values`);
  }
  return grid as [ParamName, unknown[]][];
}

/** Refuses a value listed twice for one parameter (after the count: the lists are known to be short by then). */
function checkGridValues(grid: [ParamName, unknown[]][]): void {
  for (const [param, values] of grid) {
    const dup = firstDuplicate(values);
    if (dup !== undefined) refuse(`grid: '${param}' lists the value ${show(dup)} twice`);
  }
}

type Grid = readonly (readonly [string, readonly unknown[]])[];

/** The product of the grid's value counts, without expanding it; Infinity once past what a double counts exactly. */
function combinationCount(grid: Grid): number {
  let count = 1;
  for (const [, values] of grid) {
    count *= values.length;
    if (count > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return count;
}

const countText = (n: number): string => (Number.isFinite(n) ? String(n) : `more than ${Number.MAX_SAFE_INTEGER}`);

/** Refuses a count over MAX_SWEEP_RUNS, before anything of that size is built. */
function checkCeiling(count: number, what: 'runs' | 'combinations'): void {
  if (count > MAX_SWEEP_RUNS)
    refuse(
      `the ${what === 'runs' ? 'sweep' : 'grid'} has ${countText(count)} ${what}, more than ${MAX_SWEEP_RUNS}, the most one sweep may have`,
    );
}

/** The grid's combinations in order (the last parameter varies fastest), each as { param: value }; at most MAX_SWEEP_RUNS. */
export function gridCombinations(grid: Grid): Record<string, unknown>[] {
  checkCeiling(combinationCount(grid), 'combinations');
  let combos: Record<string, unknown>[] = [{}];
  for (const [name, values] of grid) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  return combos;
}

/** The number of runs a grid × seeds makes (without expanding it; Infinity for a count too large to hold exactly). */
export function sweepRunCount(grid: Grid, seedCount: number): number {
  const runs = combinationCount(grid) * seedCount;
  return runs > Number.MAX_SAFE_INTEGER ? Infinity : runs;
}

/** How a refusal names a parameter: its own name by default; the CLI names the flag the user typed. */
export interface PlanWording {
  label?: (param: string) => string;
}

/**
 * Validates a sweep request and expands it into its children; throws a SweepPlanError naming the problem. The runs
 * are counted (and refused past maxRuns or MAX_SWEEP_RUNS) before any combination is built.
 */
export function planSweep(request: SweepRequest, wording: PlanWording = {}): SweepPlan {
  const label = wording.label ?? ((param: string) => param);
  const { seed: _ignored, ...params } = request.params ?? {};
  const task = params.task;
  if (typeof task !== 'string' || !checkExperimentParams({ task }).ok) return refuse(`unknown task '${String(task)}'`);
  const nameProblem = request.name == null ? null : sweepNameProblem(String(request.name));
  if (nameProblem) refuse(`name: ${nameProblem}`);
  const seeds = checkSeeds(request.seeds);
  const grid = checkGrid(task, request.grid ?? []);
  const maxRuns = request.maxRuns ?? DEFAULT_MAX_RUNS;
  const runs = sweepRunCount(grid, seeds.length);
  checkCeiling(runs, 'runs');
  if (runs > maxRuns) refuse(`the sweep has ${runs} runs, more than the limit of ${maxRuns} (raise it with --max-runs / maxRuns)`);
  checkGridValues(grid);
  const combos = gridCombinations(grid);
  const validated = combos.map((combo) => {
    const checked = checkExperimentParams({ ...params, ...combo, seed: seeds[0] });
    if (checked.ok) return checked.params;
    const issue = checked.issues[0];
    const where = Object.keys(combo).length
      ? ` (grid ${Object.entries(combo)
          .map(([k, v]) => `${label(k)}=${show(v)}`)
          .join(' ')})`
      : '';
    return refuse(`${issue.param ? `${label(issue.param)}: ` : ''}${issue.message}${where}`);
  });
  const children = validated.flatMap((parsed, combination) =>
    seeds.map((seed, s) => ({
      index: combination * seeds.length + s,
      combination,
      values: { ...combos[combination], seed },
      params: { ...parsed, seed } as ExperimentParams,
    })),
  );
  const { seed: _seed, ...base } = validated[0];
  return { task: task as TaskName, base, grid, seeds, combinations: combos.length, runs, children };
}

/**
 * The plan of a stored sweep (validated again: it may come from an imported history); one over MAX_SWEEP_RUNS is
 * refused before it is expanded.
 */
export function planOfStored(sweep: { base: Record<string, unknown>; grid: [string, unknown[]][]; seeds: number[] }): SweepPlan {
  return planSweep({ params: sweep.base, grid: sweep.grid, seeds: sweep.seeds, maxRuns: MAX_SWEEP_RUNS });
}

/** The parameters besides the encoder's own ones that decide what an encoder is trained on. */
const ENCODER_DATA_PARAMS: readonly ParamName[] = ['trainLimit', 'testLimit', 'protocol', 'seed', 'backend'];

/**
 * What decides the encoder a run trains (everything the feature stage reads: the encoder and its architecture, its
 * training settings, the data limits, the protocol, the seed, the backend), as a string: children with the same key
 * can share one trained encoder. null when the run trains none (no encoder, or it already reuses one).
 */
export function encoderKey(params: ExperimentParams): string | null {
  const values = params as unknown as Record<string, unknown>;
  if (!taskTakes(params.task, 'epochs') || values.encoder === 'none' || values.reuseEncoder != null) return null;
  const names = PARAM_NAMES.filter(
    (name) =>
      name !== 'reuseEncoder' &&
      (ENCODER_DATA_PARAMS.includes(name) || PARAMS[name].section === 'training' || PARAMS[name].section === 'encoder') &&
      taskTakes(params.task, name) &&
      isParamUsed(name, values),
  );
  const encoder = taskTakes(params.task, 'encoder') ? values.encoder : 'conv';
  return JSON.stringify([encoder, ...names.map((name) => [name, values[name] ?? null])]);
}
