/**
 * What `sweeps run-child` does with its own run history around the one child it runs: the child is checked against
 * its sweep's plan, the sweep recorded (joined by uid, else created) and marked running; afterwards it waits for its
 * other children, which `runs import` brings together. No contract operation asks for it; the CLI calls it here so
 * that it opens no store itself.
 */
import { planOfStored, type SweepChildPlan } from '../engine/schema/sweep';
import type { RunStore } from '../engine/store/index';
import type { TaskName } from '../contract/index';
import { withHistory } from './history';
import { recordSweep } from './sweeps';

/** A sweep as an emit folder records it: what the emitting history created, with its uid. */
export interface EmittedSweep {
  uid: string;
  name: string | null;
  task: string;
  base: Record<string, unknown>;
  grid: [string, unknown[]][];
  seeds: number[];
}

/** One child of an emitted sweep: its index in the sweep's plan and the parameters its file gives it. */
export interface EmittedChild {
  sweep: EmittedSweep;
  index: number;
  params: Record<string, unknown>;
}

/** JSON with object keys sorted: the same parameters compare equal whatever order they were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** The child as the sweep's own plan makes it: a file whose parameters were edited would not be the sweep's child. */
function plannedChild(child: EmittedChild, file: string): SweepChildPlan {
  const plan = planOfStored(child.sweep);
  const planned = plan.children[child.index];
  if (!planned) throw new Error(`${file}: child ${child.index} is outside the sweep's ${plan.runs} runs`);
  if (canonical(planned.params) !== canonical(child.params))
    throw new Error(`${file}: its params are not those the sweep plans for child ${child.index}; emit the sweep again`);
  return planned;
}

/**
 * The sweep in the child's history: joined by uid (another child ran into the same file), else created. Joined only
 * when it plans the very same runs (task, base parameters, grid, seeds): a child file edited since it was emitted is
 * not that sweep's child. (A first child in a fresh history has nothing to compare with: `runs import` compares it
 * with the emitting history's sweep.)
 */
function joinOrRecordSweep(store: RunStore, sweep: EmittedSweep, file: string): number {
  const here = store.getSweepByUid(sweep.uid);
  const planOf = (s: { task: string; base: unknown; grid: unknown; seeds: unknown }) => canonical([s.task, s.base, s.grid, s.seeds]);
  if (here && planOf(here) !== planOf(sweep))
    throw new Error(
      `${file}: ${store.path} has a sweep ${sweep.uid} with other parameters (task, base, grid or seeds); emit the sweep again`,
    );
  const id = here?.id ?? recordSweep(store, { plan: { ...sweep, task: sweep.task as TaskName }, name: sweep.name, uid: sweep.uid }).id;
  store.setSweepStatus(id, 'running');
  return id;
}

/**
 * Checks the child (read from `file`) against its sweep's plan and records the sweep, running, in the history at
 * `dbPath`. Returns the sweep's id there and the child's planned run.
 */
export async function joinChildSweep(
  dbPath: string | undefined,
  child: EmittedChild,
  file: string,
): Promise<{ sweepId: number; planned: SweepChildPlan }> {
  const planned = plannedChild(child, file);
  const sweepId = await withHistory(dbPath, (store) => joinOrRecordSweep(store, child.sweep, file));
  return { sweepId, planned };
}

/** After the child ran: the rest of the sweep runs elsewhere, so here it waits for them (`runs import` settles it). */
export function leaveChildSweep(dbPath: string | undefined, sweepId: number): Promise<void> {
  return withHistory(dbPath, (store) => store.setSweepStatus(sweepId, 'queued'));
}
