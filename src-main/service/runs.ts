/**
 * The run history's runs as every entry point reads them: the UI's runs.* operations (queries.ts) and the CLI's
 * `runs` commands call these, so a run is found, listed and refused in one way and in the same words.
 */
import type { ParsedRequestOf, RunRecord } from '../contract/index';
import type { RunStore } from '../engine/store/index';

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** A run of the history, or a NotFoundError naming the history. */
export function requireRun(store: RunStore, id: number, withAssignments = false): RunRecord {
  const run = store.getRun(id, { withAssignments });
  if (!run) throw new NotFoundError(`No run #${id} in ${store.path}`);
  return run;
}

/** The runs, newest first, of a task and status when given, at most `limit` of them. */
export function listRuns(store: RunStore, filter: ParsedRequestOf<'runs.list'>): RunRecord[] {
  return store.listRuns({ task: filter.task, status: filter.status, limit: filter.limit });
}

/** Several runs, in the order asked; any missing one refuses the whole comparison. */
export function compareRuns(store: RunStore, ids: readonly number[]): RunRecord[] {
  return ids.map((id) => requireRun(store, id));
}
