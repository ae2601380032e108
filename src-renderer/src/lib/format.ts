import { wallTimeMs, type RunTimes } from '@contract/run-time';
import { isAutoencoderTask, isPipelineTask, PARAM_NAMES, specOf, type ParamName, type TaskName } from '@contract/params';

// Which tasks train an autoencoder or are pipelines, and which parameters a run used: from the parameter schema.
export { effectiveParams, isAutoencoderTask, isParamUsed, isPipelineTask } from '@contract/params';

export const TASK_LABELS: Record<TaskName, string> = {
  kmeans: 'k-means on pixels',
  'ae-kmeans': 'Autoencoder + k-means',
  'ae-gmm': 'Autoencoder + GMM',
  pipeline: 'Pipeline (encoder → UMAP → clusterer)',
  n2d: 'N2D (AE → UMAP → GMM)',
  'n2d-aug': 'N2D with augmentation (augmented AE → UMAP → GMM)',
};

export const TASK_SHORT: Record<TaskName, string> = {
  kmeans: 'k-means',
  'ae-kmeans': 'AE + k-means',
  'ae-gmm': 'AE + GMM',
  pipeline: 'Pipeline',
  n2d: 'N2D',
  'n2d-aug': 'N2D-aug',
};

export function taskLabel(task: TaskName | string): string {
  return TASK_LABELS[task as TaskName] ?? task;
}

export function taskShort(task: TaskName | string): string {
  return TASK_SHORT[task as TaskName] ?? task;
}

/** "1 run", "4 runs". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function pct(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : `${(value * 100).toFixed(digits)}%`;
}

export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

/** Pixel values after normalisation, as the Data page and a run's details show them. */
export function pixelStatsText(stats: { min: number; max: number; mean: number }): string {
  return `min ${fixed(stats.min, 3)} · max ${fixed(stats.max, 3)} · mean ${fixed(stats.mean, 4)}`;
}

export function int(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : Math.round(value).toLocaleString('en-US');
}

/** A compact human duration: 850 ms, 12.4 s, 3 min 05 s, 1 h 02 min. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m - h * 60).padStart(2, '0')} min`;
}

/**
 * A run's wall time (stored start → stored end, contract/run-time.ts): the one number every view shows as its time.
 * A run record passes its timings, a summary its totalMs (for runs stored before the start counted loading).
 */
export function runDurationMs(run: RunTimes & { timings?: Record<string, number> | null }): number | null {
  return wallTimeMs({ ...run, totalMs: run.totalMs ?? run.timings?.totalMs ?? null });
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function rate(perSec: number | null | undefined): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return '—';
  if (perSec >= 10_000) return `${(perSec / 1000).toFixed(1)}k img/s`;
  return `${Math.round(perSec).toLocaleString('en-US')} img/s`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Labels of the experiment parameters, as the UI and the exports name them (from the parameter schema). */
export const PARAM_LABELS: Record<string, string> = {
  task: 'Task',
  ...Object.fromEntries(PARAM_NAMES.map((name) => [name, specOf(name).label])),
};

export function paramLabel(key: string): string {
  return PARAM_LABELS[key] ?? key;
}

export function paramValue(key: string, value: unknown): string {
  if (value === undefined) return '—';
  if (value === null) return (PARAM_NAMES.includes(key as ParamName) ? specOf(key as ParamName).unset : undefined) ?? '—';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (key === 'cluster') return value === 'gmm' ? 'GMM' : 'k-means';
  if (key === 'reuseEncoder') return `run #${value}`;
  if ((key === 'trainLimit' || key === 'testLimit') && typeof value === 'number') return value.toLocaleString('en-US');
  if (typeof value === 'number') return String(value);
  return String(value);
}

/** The few parameters worth showing in a one-line summary of a run. */
export function keyParams(task: string, params: Record<string, unknown>): string {
  const parts = [`k=${params.k ?? '—'}`];
  if (isPipelineTask(task)) {
    const enc = params.encoder ?? 'dense';
    if (enc === 'dense') parts.push(`dense ${Array.isArray(params.layers) ? params.layers.join('-') : '—'}-${params.codeSize ?? '—'}`);
    else parts.push(enc === 'none' ? 'pixels' : 'conv AE');
    if (enc !== 'none') {
      if (params.reuseEncoder !== undefined && params.reuseEncoder !== null) parts.push(`encoder #${params.reuseEncoder}`);
      else parts.push(`${params.epochs ?? '—'} ep`);
    }
    if (params.umap !== false) parts.push(`UMAP ${params.umapNeighbors ?? '—'} nn`);
    parts.push(params.cluster === 'kmeans' ? 'k-means' : `GMM ${params.covariance ?? 'full'}`);
    if (params.protocol) parts.push(String(params.protocol));
  } else if (isAutoencoderTask(task)) {
    if (params.reuseEncoder !== undefined && params.reuseEncoder !== null) parts.push(`encoder #${params.reuseEncoder}`);
    else parts.push(`${params.epochs ?? '—'} ep`, `bs ${params.batchSize ?? '—'}`, `lr ${params.learningRate ?? '—'}`);
    if (task === 'ae-gmm' && params.covariance) parts.push(String(params.covariance));
  }
  if (params.nInit !== undefined && !(isPipelineTask(task) && params.cluster !== 'kmeans')) parts.push(`n_init ${params.nInit}`);
  if (params.gmmNInit !== undefined && Number(params.gmmNInit) > 1) parts.push(`n_init ${params.gmmNInit}`);
  parts.push(`seed ${params.seed ?? 0}`);
  if (params.trainLimit !== undefined || params.testLimit !== undefined) {
    parts.push(`${params.trainLimit ?? 'all'}/${params.testLimit ?? 'all'}`);
  }
  return parts.join(' · ');
}

/** Training parameters an autoencoder run does not use when it reuses an earlier run's encoder. */
export const TRAINING_KEYS: string[] = PARAM_NAMES.filter((name) => specOf(name).section === 'training');

/** A run's parameters for display: with a reused encoder, the training settings come from that run. */
export function displayParams(params: Record<string, unknown>): [string, string][] {
  const reused = params.reuseEncoder !== undefined && params.reuseEncoder !== null;
  return Object.entries(params)
    .filter(([k]) => k !== 'task')
    .map(([k, v]) => [k, reused && TRAINING_KEYS.includes(k) ? `from run #${params.reuseEncoder}` : paramValue(k, v)]);
}

const METRIC_LABELS: Record<string, string> = {
  accuracy: 'Accuracy',
  nmi: 'NMI',
  ari: 'ARI',
  inertia: 'Inertia (fit set)',
  iterations: 'Iterations (best init)',
  backendImagesPerSec: 'Backend speed (images/s, calibration)',
  backendThreads: 'Backend threads (wasm)',
  backendFusedTraining: 'Fused WebGPU training step (1 yes, 0 no)',
  trainImagesPerSec: 'Training speed (images/s)',
  epochsRun: 'Epochs run',
  finalTrainLoss: 'Final train loss',
  finalValLoss: 'Final validation loss',
  logLikelihood: 'Log-likelihood per image (eval)',
  trainLowerBound: 'Lower bound (fit)',
  converged: 'Converged',
  bic: 'BIC (fit)',
  fitRows: 'Images fitted',
  umapComponents: 'UMAP components',
  umapEpochs: 'UMAP epochs',
  encoderParams: 'Autoencoder parameters',
};

export function metricLabel(key: string): string {
  return METRIC_LABELS[key] ?? key;
}
