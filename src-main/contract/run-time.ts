/**
 * One truth about a run's time, for every view (run page, Runs list, Compare, the CLI): its wall time, from the
 * stored start to the stored end (or to now while it runs), and its stage times as the engine stored them. Wall time
 * includes loading the data and starting the backend; "compute" is the pipeline's stages after those.
 */

/** A run's stage times in the order they happen, with the label every view gives them. */
export const STAGE_LABELS: Readonly<Record<string, string>> = {
  loadMs: 'Loading data',
  backendMs: 'Starting the backend',
  trainMs: 'Training the autoencoder',
  encodeMs: 'Encoding images',
  umapMs: 'UMAP',
  fitMs: 'Clustering (fit)',
  evalMs: 'Evaluation',
  mapMs: '2-D map',
  scoreMs: 'Label-free scores',
};

/** The stages that are not the pipeline's compute: reading the data and starting (or calibrating) the backend. */
const SETUP_STAGES = new Set(['loadMs', 'backendMs']);

/** What the times are called in every view. */
export const WALL_TIME_LABEL = 'Wall time';
export const COMPUTE_LABEL = 'Compute';

export interface RunTimes {
  startedAt: string;
  endedAt: string | null;
  /** The engine's own measure from the start of loading; older runs' rows were created after loading, so it is longer. */
  totalMs?: number | null;
}

/**
 * Wall time in ms: stored end (or `now`, for a run still going) minus stored start. Runs recorded before the start
 * was stored at the beginning of loading keep their longer measured total. Null for an unfinished run without `now`.
 */
export function wallTimeMs(run: RunTimes, now?: number): number | null {
  const start = Date.parse(run.startedAt);
  const end = run.endedAt ? Date.parse(run.endedAt) : now;
  if (end === undefined || !Number.isFinite(start) || !Number.isFinite(end)) return null;
  const ms = Math.max(0, end - start);
  return run.endedAt && run.totalMs != null && run.totalMs > ms ? run.totalMs : ms;
}

export interface StageTime {
  key: string;
  label: string;
  ms: number;
}

/** The stored stage times in pipeline order (unknown keys after, by name); the engine's total is not a stage. */
export function stageTimes(timings: Readonly<Record<string, number>> | null | undefined): StageTime[] {
  const order = Object.keys(STAGE_LABELS);
  return Object.entries(timings ?? {})
    .filter(([key, ms]) => key !== 'totalMs' && Number.isFinite(ms))
    .sort(([a], [b]) => (order.indexOf(a) + 1 || order.length + 1) - (order.indexOf(b) + 1 || order.length + 1) || a.localeCompare(b))
    .map(([key, ms]) => ({ key, label: STAGE_LABELS[key] ?? key.replace(/Ms$/, ''), ms }));
}

/** The pipeline's compute: the sum of the stages after loading the data and starting the backend; null when none was stored. */
export function computeMs(timings: Readonly<Record<string, number>> | null | undefined): number | null {
  const stages = stageTimes(timings).filter((s) => !SETUP_STAGES.has(s.key));
  return stages.length ? stages.reduce((sum, s) => sum + s.ms, 0) : null;
}
