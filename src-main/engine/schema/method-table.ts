/**
 * The methods × data sets table of a paper: one row per method, one column per data set, each cell the mean ± sample
 * sd (n − 1) of one metric over the completed runs of that method on that data set.
 *
 * A method is a task with the parameters that decide what it does: runs are grouped by their task and every parameter
 * they used (effectiveParams, older runs' missing parameters at their defaults) except those that only repeat or
 * size an experiment — the seed, the data set, the data limits, the backend and a reused encoder's run id. A method is
 * named by its task, plus, when the runs hold several methods of that task, the parameters that differ between them
 * ("n2d (umap)", "n2d (no umap)", "pipeline (cluster=gmm)"). Pure: the renderer may use it too.
 */
import { DEFAULT_DATASET } from '../data/dataset';
import { effectiveParams, paramKind, PARAM_NAMES, taskDefaults, TASKS, type ParamName, type TaskName } from './params';
import { meanSd } from './sweep-summary';

/** The metrics a table can show: higher is better for each. */
export const METHOD_TABLE_METRICS = ['accuracy', 'nmi', 'ari', 'silhouette'] as const;
export type MethodTableMetric = (typeof METHOD_TABLE_METRICS)[number];
/** The files a table is written as: CSV (raw numbers), Markdown, LaTeX (booktabs). */
export const METHOD_TABLE_FORMATS = ['csv', 'md', 'tex'] as const;
export type MethodTableFormat = (typeof METHOD_TABLE_FORMATS)[number];
/** The most runs one table is made of when they are named one by one. */
export const MAX_TABLE_RUNS = 1000;

/** The parameters that do not make another method: they repeat it (seed), feed it (data set, limits) or run it (backend). */
export const NOT_METHOD_PARAMS: readonly string[] = ['seed', 'dataset', 'trainLimit', 'testLimit', 'backend', 'reuseEncoder'];

/** What the table needs of a run (the store's RunRecord has all of it). */
export interface MethodRun {
  id: number;
  task: string;
  status: string;
  params: Record<string, unknown>;
  /** The data set's name (DEFAULT_DATASET when the run recorded none) and content hash, when recorded. */
  dataset: string | null;
  datasetSha256?: string | null;
  metrics: Record<string, number | undefined> | null;
}

export interface MethodCell {
  /** Completed runs of the method on the data set. */
  runs: number;
  /** Of them, those with a value of the metric (an unlabelled data set has no accuracy): what the mean is over. */
  n: number;
  mean: number | null;
  /** Sample sd; null below two values. */
  sd: number | null;
  /** The highest mean of its column (every equal one), when at least two methods have a value there. */
  best: boolean;
}

export interface MethodRow {
  /** "kmeans", "n2d (no umap)": the task and, when needed, what sets it apart from the task's other methods. */
  method: string;
  task: string;
  /** The parameters that set this method apart from the task's other methods in the table (empty when it is alone). */
  distinct: Record<string, unknown>;
  /** One per data set, in the table's order. */
  cells: MethodCell[];
}

export interface MethodTable {
  metric: MethodTableMetric;
  /** Column names, in the order their first run appears. */
  datasets: string[];
  rows: MethodRow[];
  /** What the reader should know (runs left out, a data set whose runs read different contents), one line each. */
  notes: string[];
}

/** Older runs lack parameters added since: those take their default, so they group with newer runs that kept it. */
function withDefaults(task: string, params: Record<string, unknown>): Record<string, unknown> {
  if (!(TASKS as readonly string[]).includes(task)) return { ...params, task };
  return { ...(taskDefaults(task as TaskName) as Record<string, unknown>), ...params, task };
}

/** The parameter table's order, then names it does not know (older runs') alphabetically. */
function byTableOrder(a: string, b: string): number {
  const rank = (name: string) => {
    const i = (PARAM_NAMES as readonly string[]).indexOf(name);
    return i < 0 ? PARAM_NAMES.length : i;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A run's method parameters (see the module comment), in the table's order. */
export function methodParams(run: Pick<MethodRun, 'task' | 'params'>): Record<string, unknown> {
  // A run that reused an encoder keeps the training settings it was given (a sweep's: those of the run that trained
  // it), which effectiveParams would drop: it is the same method as the run that trained the encoder.
  const { reuseEncoder: _reused, ...params } = run.params;
  const used = effectiveParams(withDefaults(run.task, params));
  const names = Object.keys(used)
    .filter((name) => name !== 'task' && !NOT_METHOD_PARAMS.includes(name))
    .sort(byTableOrder);
  return Object.fromEntries(names.map((name) => [name, used[name]]));
}

/** The same value for grouping: JSON with object keys sorted (values come from stored JSON). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** Names come from stored runs (an imported history may have crafted them): no control character reaches a terminal. */
const printable = (text: string) => text.replace(/\p{Cc}/gu, '?');

/** How a distinguishing parameter reads in a method's name: a switch by its name ("umap", "no umap"), else name=value. */
function partText(name: string, value: unknown): string {
  if ((PARAM_NAMES as readonly string[]).includes(name) && paramKind(name as ParamName) === 'switch' && typeof value === 'boolean')
    return value ? name : `no ${name}`;
  if (value === null) return `${name}=none`;
  return `${name}=${Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
}

interface Group {
  task: string;
  params: Record<string, unknown>;
  runs: MethodRun[];
}

/**
 * Per task, the parameters that take different values in the groups that use them (a parameter only one kind of
 * method uses, like the GMM's settings beside k-means, follows from another that differs); each group is named by those
 * it uses.
 */
function nameGroups(groups: readonly Group[]): { method: string; distinct: Record<string, unknown> }[] {
  const names = groups.map((group) => {
    const sameTask = groups.filter((g) => g.task === group.task);
    const keys = [...new Set(sameTask.flatMap((g) => Object.keys(g.params)))].sort(byTableOrder);
    const differing = keys.filter(
      (key) =>
        group.params[key] !== undefined &&
        new Set(sameTask.flatMap((g) => (g.params[key] === undefined ? [] : [canonical(g.params[key])]))).size > 1,
    );
    const distinct = Object.fromEntries(differing.map((key) => [key, group.params[key]]));
    const parts = differing.map((key) => partText(key, group.params[key]));
    const method = printable(parts.length ? `${group.task} (${parts.join(', ')})` : group.task);
    return { method, distinct };
  });
  // Two groups can read alike only when values differ in type alone ("1" and 1): number the later ones.
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name.method) ?? 0) + 1;
    seen.set(name.method, count);
    return count === 1 ? name : { ...name, method: `${name.method} [${count}]` };
  });
}

const metricOf = (run: MethodRun, metric: MethodTableMetric): number | null => {
  const value = run.metrics?.[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

const shortHash = (sha: string) => printable(sha.slice(0, 12));

/** The table of `runs` (any order; only completed runs count) for one metric. */
export function methodTable(runs: readonly MethodRun[], metric: MethodTableMetric = 'accuracy'): MethodTable {
  const byId = [...runs].sort((a, b) => a.id - b.id);
  const completed = byId.filter((run) => run.status === 'completed');
  const notes: string[] = [];
  const left = byId.filter((run) => run.status !== 'completed');
  if (left.length)
    notes.push(
      `${left.length} run${left.length === 1 ? '' : 's'} not completed left out: ${left.map((r) => `#${r.id} (${r.status})`).join(', ')}`,
    );

  const datasetOf = (run: MethodRun) => printable(run.dataset ?? DEFAULT_DATASET);
  const datasets = [...new Set(completed.map(datasetOf))];
  for (const name of datasets) {
    const hashes = [...new Set(completed.filter((r) => datasetOf(r) === name && r.datasetSha256).map((r) => r.datasetSha256!))];
    if (hashes.length > 1)
      notes.push(`data set ${name}: its runs read ${hashes.length} different contents (sha256 ${hashes.map(shortHash).join(', ')})`);
  }

  const groups = new Map<string, Group>();
  for (const run of completed) {
    const params = methodParams(run);
    const key = `${run.task}\0${canonical(params)}`;
    const group = groups.get(key) ?? { task: run.task, params, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  const taskOrder = (task: string) => {
    const i = (TASKS as readonly string[]).indexOf(task);
    return i < 0 ? TASKS.length : i;
  };
  const ordered = [...groups.values()].sort((a, b) => taskOrder(a.task) - taskOrder(b.task) || a.runs[0].id - b.runs[0].id);
  const names = nameGroups(ordered);

  const rows: MethodRow[] = ordered.map((group, i) => ({
    ...names[i],
    task: group.task,
    cells: datasets.map((name) => {
      const inCell = group.runs.filter((run) => datasetOf(run) === name);
      const values = inCell.flatMap((run) => {
        const value = metricOf(run, metric);
        return value === null ? [] : [value];
      });
      return { runs: inCell.length, n: values.length, ...meanSd(values), best: false };
    }),
  }));
  datasets.forEach((_, column) => {
    const cells = rows.map((row) => row.cells[column]).filter((cell) => cell.mean !== null);
    if (cells.length < 2) return;
    const top = Math.max(...cells.map((cell) => cell.mean!));
    for (const cell of cells) cell.best = cell.mean === top;
  });
  return { metric, datasets, rows, notes };
}
