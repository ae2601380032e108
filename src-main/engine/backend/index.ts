import * as tf from '@tensorflow/tfjs';

/**
 * The tfjs backend layer: `--backend auto|tensorflow|webgpu|wasm|cpu`. This file only names the public API; each
 * job has its own module:
 *
 * - names.ts: the backend names (pure: the parameter table and the renderer read them);
 * - registry.ts: how each backend starts —
 *   tensorflow: libtensorflow via the optional @tensorflow/tfjs-node-gpu (else tfjs-node), loaded on demand;
 *   webgpu: tfjs-backend-webgpu on Dawn (`webgpu` package), adapter and device chosen in webgpu.ts;
 *   wasm: tfjs-backend-wasm (XNNPACK) plus Clusterbench's training kernels, one XNNPACK thread per core (at most 8;
 *   see wasm-threads.ts), or as many as setWasmThreads / CLUSTERBENCH_WASM_THREADS say;
 *   cpu: tfjs's pure-JS backend;
 * - probe.ts: one backend started and, when asked, its training timed;
 * - selection.ts: auto, the fastest working backend by a short training calibration, cached per machine
 *   (calibration-cache.ts);
 * - state.ts: the active backend as the run record reports it, and one backend operation at a time;
 * - init.ts: initBackend and probeBackends, the operations that switch backends.
 *
 * Backends can be switched freely within a process; one that fails to start gives its reason in the error
 * and leaves the previous backend active.
 */

export { tf };
export type { CalibrationEntry, CalibrationKey } from './calibration-cache';
export { calibrationCachePath } from './calibration-cache';
export { BackendUnavailableError } from './errors';
export { initBackend, probeBackends, type InitOptions } from './init';
export { BACKEND_NAMES, CONCRETE_BACKENDS, type BackendName, type ConcreteBackendName } from './names';
export type { BackendStatus, MeasureFn } from './probe';
export type { ActiveBackendInfo } from './registry';
export { selectAutoBackend, type AutoSelection } from './selection';
export { activeBackend, activeBackendInfo, shutdownBackends } from './state';
export { setWasmThreads, wasmThreadsWanted } from './wasm-threads';
