import type { ActiveBackendInfo } from './registry';
import { releaseWebGPU } from './webgpu';

/**
 * The backend in use, as the run record reports it, and the queue that keeps backend operations one at a time.
 * tfjs itself knows only a name; this adds the device, threads and throughput. It changes in switching.ts and,
 * for auto, selection.ts.
 */

let activeInfo: ActiveBackendInfo | undefined;

/** Records `info` as the active backend (after tfjs has switched to it). */
export function setActiveInfo(info: ActiveBackendInfo | undefined): void {
  activeInfo = info;
}

/** Name of the active backend, once initBackend has succeeded. */
export function activeBackend(): string | undefined {
  return activeInfo?.name;
}

/** The active backend with its device and measured throughput (for the run record); a copy, so callers cannot change it. */
export function activeBackendInfo(): ActiveBackendInfo | undefined {
  return activeInfo ? { ...activeInfo } : undefined;
}

// One backend operation at a time (switching while another activation awaits would interleave setBackend).
let queue: Promise<unknown> = Promise.resolve();
export function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Releases native GPU resources (the Dawn instance keeps Node's event loop alive). Call before exit; if
 * webgpu was active, no backend is active afterwards until the next initBackend.
 */
export function shutdownBackends(): void {
  if (activeInfo?.name === 'webgpu') activeInfo = undefined;
  releaseWebGPU();
}
