/**
 * A stored sweep as the contract shows it: its children (planned, each with its latest run), its progress, the
 * summary rows (mean ± sd per combination) and the averaged confusion matrix; and the rows as CSV.
 */
import { wallTimeMs } from '../contract/run-time';
import type { SweepChild, SweepDetail, SweepSummary } from '../contract/index';
import { gridCombinations, oneLine, planOfStored, type SweepPlan } from '../engine/schema/sweep';
import { sweepConfusionMean, sweepRows, type ChildOutcome } from '../engine/schema/sweep-summary';
import type { RunRecord, SweepRecord } from '../engine/store/types';
import { csvCell } from './csv';
import { summarize } from './summarize';

/** The latest run of each child index (runs come ordered by child, then id). */
export function latestRuns(runs: readonly RunRecord[]): Map<number, RunRecord> {
  const latest = new Map<number, RunRecord>();
  for (const run of runs) if (run.sweepChild !== null) latest.set(run.sweepChild, run);
  return latest;
}

/**
 * The stored sweep's plan, or why today's validation refuses it (a hand-edited row, or one an older version wrote),
 * in one line: one such sweep must not hide the others.
 */
function readStoredPlan(sweep: SweepRecord): { plan: SweepPlan } | { problem: string } {
  try {
    return { plan: planOfStored(sweep) };
  } catch (err) {
    return { problem: oneLine(err instanceof Error ? err.message : String(err)) };
  }
}

const unreadableText = (sweep: SweepRecord, problem: string) => `sweep #${sweep.id} cannot be read: ${problem}`;

/** How many children are in each kind of state. */
function progressOf(states: readonly SweepChild['state'][]): Pick<SweepSummary, 'completed' | 'failed' | 'running' | 'pending'> {
  const count = (...kinds: SweepChild['state'][]) => states.filter((s) => kinds.includes(s)).length;
  return {
    completed: count('completed'),
    failed: count('failed', 'cancelled'),
    running: count('running', 'queued'),
    pending: count('pending'),
  };
}

/** A sweep's detail from its record and its child runs (store.sweepRuns); one line when it cannot be read. */
export function sweepDetail(sweep: SweepRecord, runs: readonly RunRecord[]): SweepDetail {
  const stored = readStoredPlan(sweep);
  if ('problem' in stored) throw new Error(unreadableText(sweep, stored.problem));
  return detailOf(sweep, stored.plan, runs);
}

function detailOf(sweep: SweepRecord, plan: SweepPlan, runs: readonly RunRecord[]): SweepDetail {
  const latest = latestRuns(runs);
  const children: SweepChild[] = plan.children.map((child) => {
    const run = latest.get(child.index);
    return { index: child.index, values: child.values, state: run?.status ?? 'pending', run: run ? summarize(run) : null };
  });
  const outcomes: ChildOutcome[] = plan.children.map((child) => {
    const run = latest.get(child.index);
    return {
      combination: child.combination,
      state: run?.status ?? 'pending',
      accuracy: run?.metrics?.accuracy ?? null,
      nmi: run?.metrics?.nmi ?? null,
      ari: run?.metrics?.ari ?? null,
      silhouette: run?.metrics?.silhouette ?? null,
      bic: run?.metrics?.bic ?? null,
      // the run's wall time, as every view shows it (contract/run-time.ts)
      totalMs: run?.status === 'completed' ? wallTimeMs({ ...run, totalMs: run.timings?.totalMs }) : null,
      confusion: run?.status === 'completed' ? (run.evaluation?.confusion ?? null) : null,
    };
  });
  const combinations = gridCombinations(sweep.grid);
  const rows = sweepRows(combinations, outcomes);
  const mean = readOneDataset(latest) ? sweepConfusionMean(combinations, outcomes, rows) : null;
  const classNames = [...latest.values()].find((r) => r.status === 'completed' && r.evaluation)?.evaluation?.classNames ?? [];
  const bestRow = rows.find((r) => r.best);
  return {
    id: sweep.id,
    uid: sweep.uid,
    name: sweep.name,
    task: sweep.task,
    status: sweep.status,
    createdAt: sweep.createdAt,
    endedAt: sweep.endedAt,
    varied: [...sweep.grid.map(([name]) => name), ...(sweep.seeds.length > 1 ? ['seed'] : [])],
    runs: plan.runs,
    ...progressOf(children.map((c) => c.state)),
    // the best accuracy; a sweep on unlabelled data has none (its rows still mark the best silhouette)
    best:
      bestRow && bestRow.accuracy.mean !== null
        ? { accuracyMean: bestRow.accuracy.mean, accuracySd: bestRow.accuracy.sd, values: bestRow.values }
        : null,
    base: sweep.base,
    grid: sweep.grid,
    seeds: sweep.seeds,
    children,
    rows,
    confusionMean: mean ? { classNames, matrix: mean.matrix, runs: mean.runs, note: mean.note } : null,
  };
}

/** Whether the completed runs all read one data set: a mean confusion matrix over several would mix their classes. */
function readOneDataset(latest: ReadonlyMap<number, RunRecord>): boolean {
  const completed = [...latest.values()].filter((run) => run.status === 'completed');
  return new Set(completed.map((run) => `${run.dataset?.name ?? ''}\0${run.dataset?.sha256 ?? ''}`)).size <= 1;
}

/** A detail's list entry (without the children, rows and matrix). */
export function summaryOf(detail: SweepDetail): SweepSummary {
  const { base: _b, grid: _g, seeds: _s, children: _c, rows: _r, confusionMean: _m, ...summary } = detail;
  return summary;
}

/** The list entry of a sweep that cannot be read: why, and the children it has runs for (its plan is unknown). */
function unreadableSummary(sweep: SweepRecord, runs: readonly RunRecord[], problem: string): SweepSummary {
  const states = [...latestRuns(runs).values()].map((run) => run.status);
  const { id, uid, name, task, status, createdAt, endedAt } = sweep;
  return {
    id,
    uid,
    name,
    task,
    status,
    createdAt,
    endedAt,
    varied: [],
    runs: states.length,
    ...progressOf(states),
    best: null,
    unreadable: problem,
  };
}

/** The list entry of a sweep; one that cannot be read is listed with the reason. */
export function sweepSummary(sweep: SweepRecord, runs: readonly RunRecord[]): SweepSummary {
  const stored = readStoredPlan(sweep);
  return 'problem' in stored ? unreadableSummary(sweep, runs, stored.problem) : summaryOf(detailOf(sweep, stored.plan, runs));
}

/** The summary rows as CSV: the varied values, n, mean and sd of each metric, time in seconds, the best row marked. */
export function sweepCsv(detail: SweepDetail): string {
  const names = detail.grid.map(([name]) => name);
  const metrics = ['accuracy', 'nmi', 'ari'] as const;
  const header = [...names, 'n', ...metrics.flatMap((m) => [`${m}_mean`, `${m}_sd`]), 'seconds_mean', 'seconds_sd', 'best'];
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  const lines = detail.rows.map((row) =>
    [
      ...names.map((name) => row.values[name]),
      row.n,
      ...metrics.flatMap((m) => [row[m].mean, row[m].sd]),
      seconds(row.totalMs.mean),
      seconds(row.totalMs.sd),
      row.best ? 'best' : '',
    ]
      .map((v) => csvCell(Array.isArray(v) ? v.join(' ') : v))
      .join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}
