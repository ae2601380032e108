import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ensureHeadlessEglPlatform } from '../../engine/backend/egl';
import { RunStore } from '../../engine/store/index';
import type { RunRecord, SweepLink } from '../../engine/store/types';
import type { ProgressEvent } from '../../engine/types';
import { deserializeError, type EngineWorkerData, type HostMessage, type WorkerMessage } from './protocol';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  jobId: string;
  params: unknown;
  /** Set when the job runs a sweep's child. */
  sweep?: SweepLink;
  state: JobState;
  runId?: number;
  lastProgress?: ProgressEvent;
  /** When the job began (ISO 8601): its run's stored start once the run exists, so every window counts from it. */
  startedAt?: string;
}

export interface EngineHostOptions {
  dbPath?: string;
  dataDir?: string;
  /** The worker script; defaults to engineWorker next to this file (.js when built, .ts through tsx). */
  workerUrl?: URL;
  /** XNNPACK threads of the worker's wasm backend (default: CLUSTERBENCH_WASM_THREADS, else one per core). */
  wasmThreads?: number;
}

export interface EngineHostEvents {
  queued: [Job];
  created: [Job, RunRecord];
  progress: [Job, ProgressEvent];
  finished: [Job, RunRecord];
  failed: [Job, Error];
  cancelled: [Job];
  /** Other events from the worker (e.g. download progress). */
  event: [string, unknown];
}

/** Runs waiting behind the running one, at most: a client cannot queue unbounded work (or memory). */
export const MAX_QUEUED_JOBS = 32;

/** `submit` when {@link MAX_QUEUED_JOBS} runs are already waiting (and other queues that are full: the contract's 'queue-full'). */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(message = `The run queue is full (${MAX_QUEUED_JOBS} runs waiting): wait for one to finish, or cancel one`) {
    super(message);
  }
}

function defaultWorker(): { url: URL; workerData?: EngineWorkerData } {
  // Built app: this module is bundled into out/main/index.js (or a chunk in out/main/chunks/), and the
  // worker entry is out/main/engineWorker.js.
  for (const candidate of ['./engineWorker.js', '../engineWorker.js']) {
    const js = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(js))) return { url: js };
  }
  // Running from TypeScript sources (CLI via tsx, tests): boot the worker through tsx.
  return {
    url: new URL('./tsWorkerBoot.mjs', import.meta.url),
    workerData: { tsEntry: new URL('./engine-worker.ts', import.meta.url).href },
  };
}

/**
 * Runs experiments in one worker thread, strictly one after another (runs never overlap on a backend),
 * and turns the worker's messages into events and promises. The thread that owns the host never does
 * engine work, so it stays free to serve the UI.
 */
export class EngineHost extends EventEmitter<EngineHostEvents> {
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private current: { job: Job; resolve: (r: RunRecord) => void; reject: (e: Error) => void } | undefined;
  private readonly waiters = new Map<string, { resolve: (r: RunRecord) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private nextCallId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(private readonly options: EngineHostOptions = {}) {
    super();
  }

  /**
   * Queues an experiment. The promise settles when its run completes, fails or is cancelled. Throws a
   * {@link QueueFullError} when {@link MAX_QUEUED_JOBS} runs are already waiting. `options.sweep` links the run to a
   * sweep's child.
   */
  submit(params: unknown, options: { sweep?: SweepLink } = {}): { job: Job; result: Promise<RunRecord> } {
    if (this.closed) throw new Error('The engine has been shut down');
    if (this.queue.length >= MAX_QUEUED_JOBS) throw new QueueFullError();
    const job: Job = { jobId: `job-${this.nextId++}`, params, state: 'queued', ...(options.sweep ? { sweep: options.sweep } : {}) };
    const result = new Promise<RunRecord>((resolve, reject) => this.waiters.set(job.jobId, { resolve, reject }));
    // Callers that follow the events instead of awaiting the promise must not get unhandled rejections.
    result.catch(() => undefined);
    this.queue.push(job);
    this.emit('queued', job);
    this.pump();
    return { job, result };
  }

  /** Cancels a queued or running job; returns false when there is no such job. */
  cancel(jobId: string): boolean {
    const index = this.queue.findIndex((j) => j.jobId === jobId);
    if (index >= 0) {
      const [job] = this.queue.splice(index, 1);
      job.state = 'cancelled';
      this.emit('cancelled', job);
      this.settle(job, undefined, Object.assign(new Error('Run cancelled'), { name: 'CancelledError' }));
      return true;
    }
    if (this.current?.job.jobId === jobId) {
      this.post({ type: 'cancel', jobId });
      return true;
    }
    return false;
  }

  /** Asks the worker a read-side question (see service/queries); answered even while a run trains. */
  call(op: string, request: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('The engine has been shut down'));
    const callId = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.calls.set(callId, { resolve, reject });
      this.post({ type: 'call', callId, op, request, dbPath: this.options.dbPath, dataDir: this.options.dataDir });
    });
  }

  jobs(): Job[] {
    return [...(this.current ? [this.current.job] : []), ...this.queue];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of [...this.queue]) this.cancel(job.jobId);
    if (this.current) this.cancel(this.current.job.jobId);
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { url, workerData } = this.options.workerUrl ? { url: this.options.workerUrl, workerData: undefined } : defaultWorker();
    // before the worker exists: Mesa reads the process's real environment, which the worker's process.env is not
    ensureHeadlessEglPlatform();
    const worker = new Worker(url, { workerData: { ...workerData, wasmThreads: this.options.wasmThreads } satisfies EngineWorkerData });
    worker.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    worker.on('error', (err) => this.onWorkerLost(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (code !== 0 && (this.current || this.calls.size > 0))
        this.onWorkerLost(new Error(`The engine worker stopped unexpectedly (exit code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private post(msg: HostMessage): void {
    this.ensureWorker().postMessage(msg);
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    const waiter = this.waiters.get(job.jobId)!;
    this.current = { job, ...waiter };
    this.post({
      type: 'start',
      jobId: job.jobId,
      params: job.params,
      dbPath: this.options.dbPath,
      dataDir: this.options.dataDir,
      sweep: job.sweep,
    });
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.type === 'ready') return;
    if (msg.type === 'reply') {
      const pending = this.calls.get(msg.callId);
      this.calls.delete(msg.callId);
      if (msg.ok) pending?.resolve(msg.value);
      else pending?.reject(deserializeError(msg.error));
      return;
    }
    if (msg.type === 'event') {
      this.emit('event', msg.event, msg.payload);
      return;
    }
    const job = this.current?.job;
    if (!job || job.jobId !== msg.jobId) return;
    switch (msg.type) {
      case 'created':
        job.runId = msg.run.id;
        job.startedAt = msg.run.startedAt;
        this.emit('created', job, msg.run);
        break;
      case 'progress':
        job.lastProgress = msg.event;
        this.emit('progress', job, msg.event);
        break;
      case 'done':
        job.state = 'done';
        this.emit('finished', job, msg.run);
        this.finishCurrent(msg.run);
        break;
      case 'error': {
        const err = deserializeError(msg.error);
        job.state = err.name === 'CancelledError' ? 'cancelled' : 'failed';
        if (job.state === 'cancelled') this.emit('cancelled', job);
        else this.emit('failed', job, err);
        this.finishCurrent(undefined, err);
        break;
      }
    }
  }

  private onWorkerLost(err: Error): void {
    for (const pending of this.calls.values()) pending.reject(err);
    this.calls.clear();
    if (!this.current) return;
    const { job } = this.current;
    job.state = 'failed';
    // The worker shares this process's pid, so stale-run recovery would not catch its run: record the failure here.
    if (job.runId !== undefined) {
      try {
        const store = RunStore.open(this.options.dbPath, { recoverStale: false });
        store.failRun(job.runId, err.message);
        store.close();
      } catch {
        // The run stays 'running' until the next recovery; the job itself still fails below.
      }
    }
    this.emit('failed', job, err);
    this.finishCurrent(undefined, err);
  }

  private finishCurrent(run?: RunRecord, err?: Error): void {
    const job = this.current!.job;
    this.current = undefined;
    this.settle(job, run, err);
    this.pump();
  }

  private settle(job: Job, run?: RunRecord, err?: Error): void {
    const waiter = this.waiters.get(job.jobId);
    this.waiters.delete(job.jobId);
    if (!waiter) return;
    if (err) waiter.reject(err);
    else waiter.resolve(run!);
  }
}
