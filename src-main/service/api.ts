// The engine behind the contract, for any transport: validates each request, routes it to the run queue or
// to the engine worker, and turns the worker's events into contract events. Electron IPC and the web mode's
// WebSocket are thin adapters over `dispatch` and `subscribe`.
import {
  validateRequest,
  type ContractError,
  type EventName,
  type Events,
  type JobInfo,
  type Operation,
  type ParsedRequestOf,
  type Reply,
  type Responses,
} from '../contract/index';
import { parseExperimentParams } from '../engine/schema/params';
import type { RunRecord } from '../engine/store/types';
import { EngineHost, type Job } from './worker/host';
import { summarize } from './summarize';
import { handleSweepOperation, isSweepOperation } from './sweep-ops';
import { SweepRunner } from './sweep-runner';
import { summaryOf } from './sweep-views';

export interface EngineApiOptions {
  dbPath?: string;
  dataDir?: string;
  /** XNNPACK threads of the engine's wasm backend (default: CLUSTERBENCH_WASM_THREADS, else one per core). */
  wasmThreads?: number;
  /** How `files.save` stores a file: a save dialog on the desktop; absent in web mode (the browser downloads). */
  saveFile?: (req: ParsedRequestOf<'files.save'>) => Promise<Responses['files.save']>;
}

export type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

export interface EngineApi {
  dispatch(op: unknown, payload: unknown): Promise<Reply<Operation>>;
  subscribe(listener: EventListener): () => void;
  close(): Promise<void>;
}

const jobInfo = (job: Job): JobInfo => ({
  jobId: job.jobId,
  state: job.state,
  params: job.params,
  runId: job.runId,
  lastProgress: job.lastProgress,
  startedAt: job.startedAt,
});

function toContractError(err: unknown): ContractError {
  const e = err as Error & { issues?: { param: string; message: string }[] };
  if (e?.name === 'ParamError') return { code: 'invalid-params', message: e.message, issues: e.issues };
  if (e?.name === 'SweepPlanError') return { code: 'invalid-params', message: e.message };
  if (e?.name === 'NotFoundError') return { code: 'not-found', message: e.message };
  if (e?.name === 'QueueFullError') return { code: 'queue-full', message: e.message };
  return { code: 'failed', message: e?.message ?? String(err) };
}

export function createEngineApi(options: EngineApiOptions = {}): EngineApi {
  const host = new EngineHost({ dbPath: options.dbPath, dataDir: options.dataDir, wasmThreads: options.wasmThreads });
  const listeners = new Set<EventListener>();
  const emit = <E extends EventName>(event: E, payload: Events[E]): void => {
    for (const listener of listeners) listener(event, payload);
  };
  const sweeps = new SweepRunner({
    host,
    dbPath: options.dbPath,
    onUpdate: (detail) => emit('sweep.updated', summaryOf(detail)),
  });

  host.on('queued', (job) => emit('job.queued', jobInfo(job)));
  host.on('created', (job, run) => emit('job.started', { ...jobInfo(job), runId: run.id }));
  host.on('progress', (job, progress) => {
    emit('job.progress', { jobId: job.jobId, runId: job.runId, progress });
    if (progress.phase === 'epoch' && job.runId !== undefined) {
      emit('job.epoch', {
        jobId: job.jobId,
        runId: job.runId,
        loss: {
          epoch: Number(progress.epoch),
          trainLoss: Number(progress.trainLoss),
          valLoss: (progress.valLoss as number | null) ?? null,
        },
      });
    }
  });
  host.on('finished', (job, run: RunRecord) => emit('job.finished', { jobId: job.jobId, runId: run.id, summary: summarize(run) }));
  host.on('failed', (job, err) =>
    emit('job.failed', {
      jobId: job.jobId,
      runId: job.runId,
      error: err.message,
      issues: (err as Error & { issues?: { param: string; message: string }[] }).issues,
    }),
  );
  host.on('cancelled', (job) => emit('job.cancelled', { jobId: job.jobId, runId: job.runId }));
  host.on('event', (event, payload) => {
    if (event === 'dataset.downloadProgress') emit('dataset.downloadProgress', payload as Events['dataset.downloadProgress']);
    if (event === 'datasets.addProgress') emit('datasets.addProgress', payload as Events['datasets.addProgress']);
  });

  async function run<O extends Operation>(op: O, req: ParsedRequestOf<O>): Promise<Responses[O]> {
    if (isSweepOperation(op)) return handleSweepOperation(sweeps, op, req as never) as Promise<Responses[O]>;
    switch (op) {
      case 'runs.start': {
        const params = parseExperimentParams((req as ParsedRequestOf<'runs.start'>).params);
        return { jobId: host.submit(params).job.jobId } as Responses[O];
      }
      case 'runs.cancel':
        return { cancelled: host.cancel((req as ParsedRequestOf<'runs.cancel'>).jobId) } as Responses[O];
      case 'jobs.list':
        return host.jobs().map(jobInfo) as Responses[O];
      case 'files.save':
        if (!options.saveFile) throw new Error('Saving files is done by the browser in web mode');
        return (await options.saveFile(req as ParsedRequestOf<'files.save'>)) as Responses[O];
      default:
        return (await host.call(op, req)) as Responses[O];
    }
  }

  return {
    async dispatch(op, payload) {
      const checked = validateRequest(op, payload);
      if (!checked.ok) return { ok: false, error: checked.error };
      try {
        return { ok: true, value: await run(checked.op, checked.value) };
      } catch (err) {
        return { ok: false, error: toContractError(err) };
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      const stopping = sweeps.cancelAll(); // each sweep records 'cancelled' (resumable) as its child ends
      await host.close();
      await stopping;
    },
  };
}
