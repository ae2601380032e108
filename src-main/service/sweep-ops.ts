/**
 * The contract's sweep operations (sweeps.*, export.sweepCsv), answered on the service side: they drive the sweep
 * runner, whose sweeps live in this process, and read the history through sweeps.ts, as the CLI's commands do.
 */
import type { ParsedRequestOf, Responses, SweepPlanInfo } from '../contract/index';
import { stageTimes } from '../contract/run-time';
import { encoderKey, planSweep, type SweepPlan } from '../engine/schema/sweep';
import type { RunStore } from '../engine/store/index';
import type { RunRecord } from '../engine/store/types';
import { SweepRunner } from './sweep-runner';
import { deleteSweep, listSweeps, sweepCsvFile } from './sweeps';

export type SweepOperation =
  | 'sweeps.plan'
  | 'sweeps.start'
  | 'sweeps.list'
  | 'sweeps.get'
  | 'sweeps.cancel'
  | 'sweeps.resume'
  | 'sweeps.delete'
  | 'sweeps.compare'
  | 'export.sweepCsv';

export const isSweepOperation = (op: string): op is SweepOperation => op.startsWith('sweeps.') || op === 'export.sweepCsv';

const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

/** What decides how long a run takes, for the estimate: the task, the data limits and the epochs. */
const sizeKey = (p: Record<string, unknown>) => JSON.stringify([p.task, p.trainLimit ?? null, p.testLimit ?? null, p.epochs ?? null]);

const describeSize = (p: Record<string, unknown>) =>
  `${String(p.task)} run with ${p.trainLimit ?? 'all'} training / ${p.testLimit ?? 'all'} test images${p.epochs !== undefined ? ` and ${String(p.epochs)} epochs` : ''}`;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * A run's own work, from its stored stage times: everything but starting the backend, which a sweep pays once (and
 * the first run after a start pays ~25 s of calibration in). Runs stored without stage times count their total.
 */
export function ownStageMs(run: Pick<RunRecord, 'timings'>): number | undefined {
  const stages = stageTimes(run.timings).filter((t) => t.key !== 'backendMs');
  return stages.length ? stages.reduce((sum, t) => sum + t.ms, 0) : run.timings?.totalMs;
}

/**
 * About how long a sweep takes: for each child, the mean of the stage times (ownStageMs) of the completed runs in the
 * history that trained their own encoder with the same task, limits and epochs; children that will reuse an encoder
 * save those runs' mean training time. Says how many runs it rests on. Null (and why) when one kind of child has none.
 */
export function estimateSweep(plan: SweepPlan, history: readonly RunRecord[]): Pick<SweepPlanInfo, 'estimateMs' | 'estimateFrom'> {
  const similar = new Map<string, RunRecord[]>();
  for (const run of history)
    if (run.status === 'completed' && ownStageMs(run) !== undefined && !run.artifacts.reusedEncoderFrom)
      similar.set(sizeKey(run.params), [...(similar.get(sizeKey(run.params)) ?? []), run]);
  const trained = new Set<string>();
  const used = new Set<number>();
  let total = 0;
  let saved = 0;
  for (const child of plan.children) {
    const params = child.params as unknown as Record<string, unknown>;
    const runs = similar.get(sizeKey(params));
    if (!runs) return { estimateMs: null, estimateFrom: `no completed ${describeSize(params)} in the history` };
    for (const run of runs) used.add(run.id);
    total += mean(runs.map((r) => ownStageMs(r)!));
    const key = encoderKey(child.params);
    if (key && trained.has(key)) {
      total -= mean(runs.map((r) => r.timings!.trainMs ?? 0));
      saved++;
    }
    if (key) trained.add(key);
  }
  const kinds = new Set(plan.children.map((c) => sizeKey(c.params as unknown as Record<string, unknown>))).size;
  const n = used.size;
  const from = `the mean stage times of ${plural(n, 'completed run')} like ${kinds === 1 ? 'these' : 'each child'} in the history`;
  const sureness = n < 3 ? ` (${n === 1 ? 'one run' : 'two runs'}: a rough guess)` : '';
  return {
    estimateMs: total,
    estimateFrom: `${from}${sureness}${saved > 0 ? `, less ${plural(saved, 'encoder training')} saved by reuse` : ''}`,
  };
}

function planInfo(req: ParsedRequestOf<'sweeps.plan'>, store: RunStore): SweepPlanInfo {
  const plan = planSweep(req);
  const history = store.listRuns({ task: plan.task, status: 'completed' });
  return { runs: plan.runs, combinations: plan.combinations, ...estimateSweep(plan, history) };
}

/** Deletes a sweep not running here (the store refuses one a live process elsewhere runs); false when there is none. */
function deleteNotRunning(runner: SweepRunner, req: ParsedRequestOf<'sweeps.delete'>): Responses['sweeps.delete'] {
  if (runner.isRunning(req.id)) throw new Error(`sweep #${req.id} is running: cancel it first`);
  const runIds = runner.withStore((store) => deleteSweep(store, req.id, { deleteRuns: req.deleteRuns })); // with the runs' files
  return { deleted: runIds !== null };
}

/** Answers one sweep operation. */
export async function handleSweepOperation<O extends SweepOperation>(
  runner: SweepRunner,
  op: O,
  request: ParsedRequestOf<O>,
): Promise<Responses[O]> {
  const req = request as never;
  const answer = async (): Promise<Responses[SweepOperation]> => {
    switch (op) {
      case 'sweeps.plan':
        return runner.withStore((store) => planInfo(req, store));
      case 'sweeps.start':
        return { sweepId: runner.start(req).sweepId };
      // Lists and pages first mark sweeps (and runs) whose process is gone as interrupted, as opening a history does.
      case 'sweeps.list':
        return runner.withStore(listSweeps, true);
      case 'sweeps.get':
        return runner.detail((req as ParsedRequestOf<'sweeps.get'>).id, true);
      case 'sweeps.cancel':
        return { cancelled: runner.cancel((req as ParsedRequestOf<'sweeps.cancel'>).id) };
      case 'sweeps.resume':
        return { resumed: runner.resume((req as ParsedRequestOf<'sweeps.resume'>).id) !== null };
      case 'sweeps.delete':
        return deleteNotRunning(runner, req);
      case 'sweeps.compare':
        return (req as ParsedRequestOf<'sweeps.compare'>).ids.map((id) => runner.detail(id));
      case 'export.sweepCsv':
        return runner.withStore((store) => sweepCsvFile(store, (req as ParsedRequestOf<'export.sweepCsv'>).id));
    }
    throw new Error(`not a sweep operation: ${String(op)}`);
  };
  return (await answer()) as Responses[O];
}
