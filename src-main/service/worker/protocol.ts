import type { RunRecord, SweepLink } from '../../engine/store/types';
import type { ProgressEvent } from '../../engine/types';

/** The engine worker's workerData. */
export interface EngineWorkerData {
  /** The TypeScript entry that tsWorkerBoot.mjs imports (runs from sources). */
  tsEntry?: string;
  /** XNNPACK threads of the worker's wasm backend; undefined: CLUSTERBENCH_WASM_THREADS, else one per core. */
  wasmThreads?: number;
}

/** What the host sends to the engine worker. */
export type HostMessage =
  /** `sweep`: the run is that sweep's child (its row is linked when created). */
  | { type: 'start'; jobId: string; params: unknown; dbPath?: string; dataDir?: string; sweep?: SweepLink }
  | { type: 'cancel'; jobId: string }
  /** A read-side request (run details, images, exports…), answered between training steps. */
  | { type: 'call'; callId: number; op: string; request: unknown; dbPath?: string; dataDir?: string };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** ParamError issues, so callers can point at the offending field. */
  issues?: { param: string; message: string }[];
}

/** What the engine worker sends back. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'created'; jobId: string; run: RunRecord }
  | { type: 'progress'; jobId: string; event: ProgressEvent }
  | { type: 'done'; jobId: string; run: RunRecord }
  | { type: 'error'; jobId: string; error: SerializedError }
  | { type: 'reply'; callId: number; ok: true; value: unknown }
  | { type: 'reply'; callId: number; ok: false; error: SerializedError }
  | { type: 'event'; event: string; payload: unknown };

export function serializeError(err: unknown): SerializedError {
  const e = err as Error & { issues?: SerializedError['issues'] };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), stack: e?.stack, issues: e?.issues };
}

/** Rebuilds an Error on the host side that keeps the worker's name, message and issues. */
export function deserializeError(s: SerializedError): Error {
  const err = new Error(s.message) as Error & { issues?: SerializedError['issues'] };
  err.name = s.name;
  if (s.stack) err.stack = s.stack;
  if (s.issues) err.issues = s.issues;
  return err;
}
