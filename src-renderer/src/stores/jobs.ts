import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '../api';
import type { EpochLoss, JobInfo, ProgressInfo, RunSummary } from '@contract';
import { errorMessage } from '../lib/errors';
import { taskShort } from '../lib/format';
import { useRunsStore } from './runs';
import { useToastStore } from './toasts';

export interface LiveJob {
  jobId: string;
  state: JobInfo['state'];
  params: Record<string, unknown>;
  task: string;
  runId?: number;
  progress?: ProgressInfo;
  /** When the current phase began (client clock) and how far it was then: the basis of the ETA. */
  phase?: string;
  phaseStartedAt?: number;
  phaseStartFraction?: number;
  queuedAt: number;
  /** The run's stored start and end (ms since the epoch) as the engine reports them, so every window shows one elapsed time. */
  startedAt?: number;
  endedAt?: number;
  losses: EpochLoss[];
  /** The engine's own estimate (training reports etaSeconds), and when it came. */
  reportedEta?: { ms: number; at: number; phase: string };
  imagesPerSec?: number;
  error?: string;
  /** Parameter problems found by the engine (field name + message), for marking the form. */
  issues?: { param: string; message: string }[];
  summary?: RunSummary;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

/** How far the current phase is, 0..1, from whatever the engine reported. */
export function phaseFraction(p: ProgressInfo | undefined): number | undefined {
  if (!p) return undefined;
  const f = num(p.fraction);
  if (f !== undefined) return clamp01(f);
  const epoch = num(p.epoch);
  const epochs = num(p.epochs);
  const batch = num(p.batch);
  const batches = num(p.batches);
  if (epoch !== undefined && epochs) {
    if (batch !== undefined && batches) return clamp01((epoch - 1 + batch / batches) / epochs);
    return clamp01(epoch / epochs);
  }
  return undefined;
}

const PHASE_NAMES: Record<string, string> = {
  load: 'Loading data',
  backend: 'Starting backend',
  calibrate: 'Calibrating backends',
  reuse: 'Loading the earlier encoder',
  kmeans: 'k-means',
  gmm: 'Gaussian mixture (EM)',
  epoch: 'Training autoencoder',
  batch: 'Training autoencoder',
  train: 'Training autoencoder',
  encode: 'Encoding images',
  umap: 'UMAP embedding',
  map: '2-D map',
  evaluate: 'Evaluating',
};

export function phaseName(phase: string | undefined): string {
  if (!phase) return 'Waiting';
  return PHASE_NAMES[phase] ?? phase.charAt(0).toUpperCase() + phase.slice(1);
}

/** The details line under the phase: restart, iteration, epoch… */
export function phaseDetail(p: ProgressInfo | undefined): string {
  if (!p) return '';
  const parts: string[] = [];
  const init = num(p.init);
  const nInit = num(p.nInit);
  if ((p.phase === 'kmeans' || p.phase === 'gmm') && init !== undefined)
    parts.push(nInit ? `init ${init + 1}/${nInit}` : `init ${init + 1}`);
  const iter = num(p.iter);
  if (iter !== undefined) parts.push(`iteration ${iter}`);
  const epoch = num(p.epoch);
  const epochs = num(p.epochs);
  if (epoch !== undefined) parts.push(epochs ? `epoch ${epoch}/${epochs}` : `epoch ${epoch}`);
  const batch = num(p.batch);
  const batches = num(p.batches);
  if (batch !== undefined && batches) parts.push(`batch ${batch}/${batches}`);
  if (!parts.length && typeof p.message === 'string') parts.push(p.message);
  return parts.join(' · ');
}

/** An ISO time the engine stored, as ms since the epoch; undefined when absent or unreadable. */
export function storedTime(iso: string | null | undefined): number | undefined {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function asParams(params: unknown): Record<string, unknown> {
  return params && typeof params === 'object' ? (params as Record<string, unknown>) : {};
}

/** The live queue: every job this UI has seen (jobs.list + job.* events), with its progress and losses. */
export const useJobsStore = defineStore('jobs', () => {
  const jobs = ref<LiveJob[]>([]);
  const now = ref(Date.now());
  const ready = ref(false);
  const error = ref<string | null>(null);
  let started = false;
  let clock: ReturnType<typeof setInterval> | undefined;

  const byId = (jobId: string): LiveJob | undefined => jobs.value.find((j) => j.jobId === jobId);

  function upsert(info: Partial<JobInfo> & { jobId: string }): LiveJob {
    let job = byId(info.jobId);
    if (!job) {
      const params = asParams(info.params);
      job = { jobId: info.jobId, state: info.state ?? 'queued', params, task: String(params.task ?? ''), queuedAt: Date.now(), losses: [] };
      jobs.value.push(job);
      job = byId(info.jobId)!; // the reactive proxy
    }
    if (info.state) job.state = info.state;
    if (info.params !== undefined && Object.keys(job.params).length === 0) {
      job.params = asParams(info.params);
      job.task = String(job.params.task ?? '');
    }
    if (info.runId !== undefined) job.runId = info.runId;
    const storedStart = storedTime(info.startedAt);
    if (storedStart !== undefined) job.startedAt = storedStart;
    if (info.lastProgress) applyProgress(job, info.lastProgress);
    return job;
  }

  function applyProgress(job: LiveJob, progress: ProgressInfo): void {
    const t = Date.now();
    const fraction = phaseFraction(progress);
    // The training phase spans epoch and batch events: one phase for the ETA.
    const phaseKey = PHASE_NAMES[progress.phase] ?? progress.phase;
    if (job.phase !== phaseKey || (fraction !== undefined && job.phaseStartFraction !== undefined && fraction < job.phaseStartFraction)) {
      job.phase = phaseKey;
      job.phaseStartedAt = t;
      job.phaseStartFraction = fraction ?? 0;
    }
    job.progress = progress;
    const etaSeconds = num(progress.etaSeconds);
    if (etaSeconds !== undefined) job.reportedEta = { ms: etaSeconds * 1000, at: t, phase: phaseKey };
    const ips = num(progress.imagesPerSec);
    if (ips !== undefined) job.imagesPerSec = ips;
    if (job.state === 'queued') job.state = 'running';
    job.startedAt ??= t;
  }

  function tick(): void {
    now.value = Date.now();
    const active = jobs.value.some((j) => j.state === 'running' || j.state === 'queued');
    if (!active && clock) {
      clearInterval(clock);
      clock = undefined;
    }
  }

  function ensureClock(): void {
    if (!clock) clock = setInterval(tick, 1000);
  }

  /** Seconds left in the current phase, extrapolated from its progress so far. */
  function etaMs(job: LiveJob): number | undefined {
    if (job.state !== 'running') return undefined;
    const reported = job.reportedEta;
    if (reported && reported.phase === job.phase) return Math.max(0, reported.ms - (now.value - reported.at));
    const f = phaseFraction(job.progress);
    if (f === undefined || job.phaseStartedAt === undefined) return undefined;
    const f0 = job.phaseStartFraction ?? 0;
    const elapsed = now.value - job.phaseStartedAt;
    if (f <= f0 || elapsed < 1500) return undefined;
    return (elapsed * (1 - f)) / (f - f0);
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    const runs = useRunsStore();
    const toasts = useToastStore();
    api.on('job.queued', (info) => {
      upsert(info);
      ensureClock();
    });
    api.on('job.started', (info) => {
      const job = upsert({ ...info, state: 'running' });
      job.startedAt ??= Date.now();
      ensureClock();
      void runs.refresh();
    });
    api.on('job.progress', ({ jobId, runId, progress }) => {
      const job = upsert({ jobId, runId });
      applyProgress(job, progress);
      ensureClock();
    });
    api.on('job.epoch', ({ jobId, runId, loss }) => {
      const job = upsert({ jobId, runId });
      if (!job.losses.some((l) => l.epoch === loss.epoch)) job.losses = [...job.losses, loss];
    });
    api.on('job.finished', ({ jobId, runId, summary }) => {
      const job = upsert({ jobId, runId, state: 'done' });
      job.summary = summary;
      job.startedAt = storedTime(summary.startedAt) ?? job.startedAt;
      job.endedAt = storedTime(summary.endedAt) ?? Date.now();
      runs.upsert(summary);
      toasts.success(
        `Run #${runId} (${taskShort(summary.task)}) finished${summary.accuracy !== null ? ` — accuracy ${(summary.accuracy * 100).toFixed(2)}%` : ''}`,
      );
    });
    api.on('job.failed', ({ jobId, runId, error: message, issues }) => {
      const job = upsert({ jobId, runId, state: 'failed' });
      job.error = message;
      job.issues = issues;
      job.endedAt = Date.now();
      if (runId !== undefined) runs.invalidate(runId);
      void runs.refresh();
      toasts.error(`${runId !== undefined ? `Run #${runId}` : 'A run'} failed: ${message}`);
    });
    api.on('job.cancelled', ({ jobId, runId }) => {
      const job = upsert({ jobId, runId, state: 'cancelled' });
      job.endedAt = Date.now();
      if (runId !== undefined) runs.invalidate(runId);
      void runs.refresh();
    });
    try {
      const list = await api['jobs.list']({});
      for (const info of list) upsert(info);
      // Losses of a run that was already training when this window opened.
      for (const job of jobs.value) {
        if (job.state === 'running' && job.runId !== undefined && job.losses.length === 0) {
          runs.get(job.runId, true).then(
            (r) => {
              if (job.losses.length === 0 && r.losses?.length) job.losses = [...r.losses];
            },
            () => undefined,
          );
        }
      }
      if (jobs.value.some((j) => j.state === 'running' || j.state === 'queued')) ensureClock();
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      ready.value = true;
    }
  }

  /** Called right after runs.start, so the job shows before its first event arrives. */
  function track(jobId: string, params: Record<string, unknown>): void {
    upsert({ jobId, params, state: 'queued' });
    ensureClock();
  }

  async function cancel(jobId: string): Promise<boolean> {
    try {
      const { cancelled } = await api['runs.cancel']({ jobId });
      return cancelled;
    } catch (err) {
      useToastStore().error(`Could not cancel: ${errorMessage(err)}`);
      return false;
    }
  }

  function dismiss(jobId: string): void {
    jobs.value = jobs.value.filter((j) => j.jobId !== jobId);
  }

  function clearFinished(): void {
    jobs.value = jobs.value.filter((j) => j.state === 'running' || j.state === 'queued');
  }

  const active = computed(() => jobs.value.filter((j) => j.state === 'running' || j.state === 'queued'));
  const finished = computed(() => jobs.value.filter((j) => j.state !== 'running' && j.state !== 'queued').reverse());
  /** Running first, then queued in order, then the most recent finished ones. */
  const ordered = computed(() => [
    ...jobs.value.filter((j) => j.state === 'running'),
    ...jobs.value.filter((j) => j.state === 'queued'),
    ...finished.value,
  ]);

  return { jobs, now, ready, error, init, track, cancel, dismiss, clearFinished, etaMs, byId, active, finished, ordered };
});
