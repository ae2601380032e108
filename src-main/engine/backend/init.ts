import * as tf from '@tensorflow/tfjs';
import { calibrationCachePath } from './calibration-cache';
import { BACKEND_NAMES, CONCRETE_BACKENDS, type BackendName, type ConcreteBackendName } from './names';
import { backendStatus, measured, realMeasure, throughputOptions, type BackendStatus } from './probe';
import { activate, type ActiveBackendInfo } from './registry';
import { cachedThroughput, selectAutoBackend, type AutoOptions } from './selection';
import { activeBackend, serialized, setActiveInfo } from './state';
import { releaseWebGPU, webgpuDeviceActive } from './webgpu';

/** The two operations that switch tfjs's backend, each queued behind any other (state.ts's `serialized`). */

export interface InitOptions extends AutoOptions {
  /** Explicit backends: measure its throughput now (a few seconds) instead of only reading the cache. */
  measure?: boolean;
}

/**
 * Activates a tfjs backend and returns the name of the one in use. `auto` calibrates (or reuses the
 * cached calibration) and picks the fastest. Throws BackendUnavailableError with the reason when an
 * explicitly requested backend cannot start (the previous backend stays active).
 */
export function initBackend(name: BackendName = 'auto', opts: InitOptions = {}): Promise<string> {
  return serialized(async () => {
    if (name === 'auto') {
      const { info } = await selectAutoBackend(opts);
      setActiveInfo(info);
      return info.name;
    }
    // Callers from JavaScript (bench scripts, web messages) may pass any string.
    if (!CONCRETE_BACKENDS.includes(name)) throw new Error(`unknown backend '${String(name)}' (expected ${BACKEND_NAMES.join(', ')})`);
    const info = await startNamed(name, opts);
    setActiveInfo(info);
    return info.name;
  });
}

/** An explicitly named backend, with its throughput measured now (`measure`) or from the cached calibration. */
async function startNamed(name: ConcreteBackendName, opts: InitOptions): Promise<ActiveBackendInfo> {
  const progress = opts.onProgress ?? (() => undefined);
  const info = await activate(name);
  if (info.software) progress(`${name}: ${info.device} is a software adapter (slow; wasm is usually faster)`);
  if (opts.measure) {
    progress(`${name}: timing training steps`);
    const { imagesPerSec } = await measured(realMeasure(name, throughputOptions(name, info.software === true, 0)));
    info.imagesPerSec = Math.round(imagesPerSec * 10) / 10;
    info.calibration = 'measured';
  } else {
    const cached = cachedThroughput(name, info.device, opts.cachePath ?? calibrationCachePath());
    if (cached !== undefined) Object.assign(info, { imagesPerSec: cached, calibration: 'cached' as const });
  }
  return info;
}

/**
 * Status of every concrete backend (`clusterbench backends`). With `measure`, also times the calibration
 * net on each available one (software adapters and cpu included). The active backend is left as it was.
 */
export function probeBackends(opts: { measure?: boolean; onProgress?: (msg: string) => void } = {}): Promise<BackendStatus[]> {
  return serialized(async () => {
    const target = activeBackend() ?? tf.getBackend();
    const hadWebgpu = webgpuDeviceActive();
    const progress = opts.onProgress ?? (() => undefined);
    const out: BackendStatus[] = [];
    try {
      for (const name of CONCRETE_BACKENDS) out.push(await backendStatus(name, opts.measure ? realMeasure : undefined, 0, progress));
    } finally {
      if (target && tf.findBackendFactory(target) && tf.getBackend() !== target) await tf.setBackend(target).catch(() => false);
      // A device the probe created is dropped again; one the caller was using (its tensors may live there) stays.
      if (!hadWebgpu && tf.getBackend() !== 'webgpu') releaseWebGPU();
    }
    return out;
  });
}
