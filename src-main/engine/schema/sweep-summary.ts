/**
 * A sweep read as a whole: one row per parameter combination with the mean ± sample sd (n − 1) of accuracy, NMI,
 * ARI, the label-free silhouette, the GMM's BIC and time over its completed children, the best row marked (highest
 * mean accuracy; highest mean silhouette on unlabelled data), and the children's row-normalised confusion matrices
 * averaged. Pure: the renderer may use it too.
 */
import { PARAM_NAMES, specOf, type ParamName } from './param-table';

/** How a run ended, or that it has not (the store's run statuses). */
type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface MeanSd {
  mean: number | null;
  /** Sample standard deviation (n − 1); null with fewer than two values. */
  sd: number | null;
}

export interface SweepRow {
  /** The combination's grid values (the seed is what varies within a row). */
  values: Record<string, unknown>;
  /** Completed children in the row. */
  n: number;
  accuracy: MeanSd;
  nmi: MeanSd;
  ari: MeanSd;
  /** Label-free: what chooses k on unlabelled data (with BIC for a mixture: lower is better). */
  silhouette: MeanSd;
  bic: MeanSd;
  totalMs: MeanSd;
  best: boolean;
}

/** What the summary needs of one child. */
export interface ChildOutcome {
  combination: number;
  state: 'pending' | RunStatus;
  accuracy: number | null;
  nmi: number | null;
  ari: number | null;
  silhouette?: number | null;
  bic?: number | null;
  totalMs: number | null;
  confusion?: number[][] | null;
}

export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  if (n === 0) return { mean: null, sd: null };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, sd: null };
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

type Metric = 'accuracy' | 'nmi' | 'ari' | 'silhouette' | 'bic' | 'totalMs';

const completedValues = (children: readonly ChildOutcome[], metric: Metric): number[] =>
  children.flatMap((c) => {
    const value = c[metric];
    return c.state === 'completed' && typeof value === 'number' ? [value] : [];
  });

/**
 * One row per combination (`combinations[i]`: its grid values), in plan order; `best` marks the row with the highest
 * mean accuracy (the first of equals) — or, when no row has an accuracy (unlabelled data), the highest mean
 * silhouette — none when nothing completed.
 */
export function sweepRows(combinations: readonly Record<string, unknown>[], children: readonly ChildOutcome[]): SweepRow[] {
  const rows = combinations.map((values, i) => {
    const inRow = children.filter((c) => c.combination === i);
    return {
      values,
      n: inRow.filter((c) => c.state === 'completed').length,
      accuracy: meanSd(completedValues(inRow, 'accuracy')),
      nmi: meanSd(completedValues(inRow, 'nmi')),
      ari: meanSd(completedValues(inRow, 'ari')),
      silhouette: meanSd(completedValues(inRow, 'silhouette')),
      bic: meanSd(completedValues(inRow, 'bic')),
      totalMs: meanSd(completedValues(inRow, 'totalMs')),
      best: false,
    };
  });
  const by: 'accuracy' | 'silhouette' = rows.some((row) => row.accuracy.mean !== null) ? 'accuracy' : 'silhouette';
  let best: SweepRow | undefined;
  for (const row of rows) if (row[by].mean !== null && (!best || row[by].mean > best[by].mean!)) best = row;
  if (best) best.best = true;
  return rows;
}

/** The row-normalised (each true class sums to 1) confusion matrices of the completed children, averaged; null when none. */
export function confusionMean(children: readonly ChildOutcome[]): number[][] | null {
  const all = children.flatMap((c) => (c.state === 'completed' && c.confusion ? [c.confusion] : []));
  if (all.length === 0) return null;
  const size = all[0].length;
  const matrices = all.filter((m) => m.length === size);
  const sum = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  // Each true class is averaged over the children whose eval set has it (a small eval set may miss a class).
  const having = new Array<number>(size).fill(0);
  for (const m of matrices) {
    m.forEach((row, i) => {
      const total = row.reduce((s, v) => s + v, 0);
      if (total === 0) return;
      having[i]++;
      row.forEach((v, j) => (sum[i][j] += v / total));
    });
  }
  return sum.map((row, i) => row.map((v) => (having[i] > 0 ? v / having[i] : 0)));
}

/** A sweep's mean confusion matrix and what it averages (the UI's caption, the figure's subtitle). */
export interface SweepConfusionMean {
  matrix: number[][];
  /** Completed children averaged. */
  runs: number;
  /** The combination averaged (index into the plan's combinations). */
  combination: number;
  /** In words, e.g. "mean of 3 runs at k=10 (the best row); 2 other combinations not averaged". */
  note: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "k=10, Covariance full": a combination's grid values, named as in the parameter table. */
export function combinationText(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([name, value]) => {
      const shown = Array.isArray(value) ? value.join('-') : String(value);
      if (name === 'k') return `k=${shown}`;
      const label = PARAM_NAMES.includes(name as ParamName) ? specOf(name as ParamName).label : name;
      return `${label} ${shown}`;
    })
    .join(', ');
}

/**
 * The mean confusion matrix a sweep shows: never across combinations (children with another k, covariance… are
 * other models). With one combination, its completed children; with several, those of the best row (the first
 * combination that completed when no row is best). Matrices of another size than the first (another class count)
 * are left out and counted. The note says what was averaged; null when nothing completed.
 */
export function sweepConfusionMean(
  combinations: readonly Record<string, unknown>[],
  children: readonly ChildOutcome[],
  rows: readonly SweepRow[],
): SweepConfusionMean | null {
  const done = children.filter((c) => c.state === 'completed' && c.confusion);
  if (done.length === 0) return null;
  const combos = [...new Set(done.map((c) => c.combination))];
  const bestIndex = rows.findIndex((r) => r.best);
  const combination = combos.length === 1 ? combos[0] : combos.includes(bestIndex) ? bestIndex : combos[0];
  const inCombination = done.filter((c) => c.combination === combination);
  const size = inCombination[0].confusion!.length;
  const averaged = inCombination.filter((c) => c.confusion!.length === size);
  const matrix = confusionMean(averaged)!;
  const parts = [`mean of ${plural(averaged.length, 'run')}`];
  if (combos.length > 1) {
    const which = combination === bestIndex ? ' (the best row)' : '';
    parts[0] += ` at ${combinationText(combinations[combination] ?? {})}${which}`;
    parts.push(`${plural(combos.length - 1, 'other combination')} not averaged`);
  }
  const left = inCombination.length - averaged.length;
  if (left > 0) parts.push(`${plural(left, 'run')} with another number of classes left out`);
  return { matrix, runs: averaged.length, combination, note: parts.join('; ') };
}

/**
 * How a sweep ended, from its children's latest runs' `statuses` (`planned` children in all): null while a child is
 * pending or active; else completed (all), partial (some), failed (none completed, some failed) or cancelled.
 */
export function settledSweepStatus(planned: number, statuses: readonly string[]): 'completed' | 'partial' | 'failed' | 'cancelled' | null {
  if (statuses.length < planned || statuses.some((s) => s === 'queued' || s === 'running')) return null;
  const completed = statuses.filter((s) => s === 'completed').length;
  if (completed === statuses.length) return 'completed';
  if (completed > 0) return 'partial';
  return statuses.some((s) => s === 'failed') ? 'failed' : 'cancelled';
}
