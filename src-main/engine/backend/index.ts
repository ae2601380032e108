import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  calibrationCachePath,
  calibrationKey,
  readCalibration,
  readCalibrationEntry,
  sameKey,
  writeCalibration,
  type CalibrationEntry,
  type CalibrationKey,
  type CalibrationResult,
} from './calibrationCache';
import { measureTrainingThroughput, type ThroughputOptions, type TrainingPath } from './calibrationTraining';
import { installedTensorflowPackage, NOT_INSTALLED_REASON, registerTensorflowBackend, tensorflowDevice } from './tensorflow';
import { registerWasmTrainingKernels } from './wasmKernels';
import { defaultWasmThreads, parseWasmThreads, prepareWasmBackend, wasmBackendThreads, wasmThreadsFromEnv } from './wasmThreads';
import { registerWebGPUBackend, releaseWebGPU, webgpuAdapterSummary, webgpuDeviceActive, webgpuDeviceLost } from './webgpu';
import { fusedTrainingEnabled } from './webgpuTraining/index';

/**
 * The tfjs backend layer: `--backend auto|tensorflow|webgpu|wasm|cpu`.
 *
 * - tensorflow: libtensorflow via the optional @tensorflow/tfjs-node-gpu (else tfjs-node), loaded on demand;
 * - webgpu: tfjs-backend-webgpu on Dawn (`webgpu` package), adapter and device chosen here (see webgpu.ts);
 * - wasm: tfjs-backend-wasm (XNNPACK) plus Clusterbench's training kernels, one XNNPACK thread per core (at most 8;
 *   see wasmThreads.ts), or as many as setWasmThreads / CLUSTERBENCH_WASM_THREADS say;
 * - cpu: tfjs's pure-JS backend;
 * - auto: the fastest working backend by a short training calibration, cached per machine (see
 *   calibrationCache.ts). Software WebGPU adapters (llvmpipe, lavapipe, SwiftShader) and the pure-JS cpu
 *   backend are only considered when none of tensorflow, hardware WebGPU and wasm works.
 *
 * Backends can be switched freely within a process; one that fails to start gives its reason in the error
 * and leaves the previous backend active.
 */

export { tf };
export type { CalibrationEntry, CalibrationKey } from './calibrationCache';
export { calibrationCachePath } from './calibrationCache';

export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;
export const CONCRETE_BACKENDS: readonly ConcreteBackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export type BackendStatus = CalibrationResult;

export interface ActiveBackendInfo {
  name: ConcreteBackendName;
  device?: string;
  software?: boolean;
  /** wasm: XNNPACK threads. */
  threads?: number;
  /** Calibration-net training throughput (images/s) on this backend, when known. */
  imagesPerSec?: number;
  /** Where imagesPerSec comes from. */
  calibration?: 'measured' | 'cached';
  /** How autoencoders train here: the fused WebGPU step (webgpu, CLUSTERBENCH_WEBGPU_FUSED not 0) or tfjs's kernels. */
  trainingPath: TrainingPath;
}

export interface InitOptions {
  /** auto: ignore the cached calibration and measure again. */
  recalibrate?: boolean;
  /** Explicit backends: measure its throughput now (a few seconds) instead of only reading the cache. */
  measure?: boolean;
  onProgress?: (msg: string) => void;
  /** Calibration cache file (default: `<appDataDir>/backend-calibration.json`). */
  cachePath?: string;
}

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
  constructor(
    readonly backend: ConcreteBackendName,
    readonly reason: string,
  ) {
    super(`Backend '${backend}' is not available: ${reason}`);
  }
}

let activeInfo: ActiveBackendInfo | undefined;
let wasmKernelsRegistered = false;
let wasmThreadsSetting: number | undefined;

/**
 * The wasm backend's thread count from now on (the CLI's --wasm-threads); undefined: CLUSTERBENCH_WASM_THREADS,
 * else one per core. A wasm backend already running with another count is restarted on its next activation (its
 * tensors are lost: set this before creating any).
 */
export function setWasmThreads(threads: number | undefined): void {
  wasmThreadsSetting = threads === undefined ? undefined : parseWasmThreads(threads, 'the wasm thread count');
}

/** The thread count the wasm backend is (or will be) started with. Throws when CLUSTERBENCH_WASM_THREADS is bad. */
export function wasmThreadsWanted(): number {
  return wasmThreadsSetting ?? wasmThreadsFromEnv() ?? defaultWasmThreads();
}

// One backend operation at a time (switching while another activation awaits would interleave setBackend).
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

const firstLine = (err: unknown): string =>
  String((err as Error)?.message ?? err)
    .split('\n')[0]
    .trim();

// tfjs-backend-cpu greets Node users once, on its first tensor; not useful in Clusterbench's output.
const TFJS_NOISE = /looks like you are running TensorFlow\.js in Node\.js/;

/** Runs fn collecting console.warn output (tfjs reports backend init failures there); noise is dropped. */
async function capturingWarnings<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; warnings: string[] }> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
    if (!TFJS_NOISE.test(text)) warnings.push(text);
  };
  try {
    return { value: await fn(), warnings };
  } catch (error) {
    return { error, warnings };
  } finally {
    console.warn = warn;
  }
}

/** tf.setBackend plus a test addition, turning `false`/errors and tfjs's console warnings into an error with the reason. */
async function setBackendOrThrow(name: ConcreteBackendName): Promise<void> {
  const {
    value: ok,
    error,
    warnings,
  } = await capturingWarnings(async () => {
    if (!(await tf.setBackend(name))) return false;
    const t = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3]), tf.tensor1d([3, 4, 5])));
    const v = await t.data();
    t.dispose();
    if (v[0] !== 4 || v[1] !== 6 || v[2] !== 8) throw new Error(`wrong result for a test addition (${Array.from(v).join(',')})`);
    return true;
  });
  if (ok) {
    for (const w of warnings) console.warn(w);
    return;
  }
  const detail = [...warnings.map((w) => w.split('\n')[0]), ...(error ? [firstLine(error)] : [])]
    .filter((w) => w && !/^Initialization of backend .* failed$/.test(w))
    .join('; ');
  throw new Error(`initialisation failed${detail ? `: ${detail}` : ''}`);
}

function ensureWasmKernels(): void {
  if (wasmKernelsRegistered) return;
  registerWasmTrainingKernels();
  wasmKernelsRegistered = true;
}

const cpuModel = (): string => cpus()[0]?.model?.trim() ?? 'unknown CPU';

/** Makes `name` the active tfjs backend; on failure the previous backend stays active and it throws. */
async function activate(name: ConcreteBackendName): Promise<ActiveBackendInfo> {
  const previous = tf.getBackend();
  try {
    let info: ActiveBackendInfo;
    switch (name) {
      case 'cpu':
        await setBackendOrThrow('cpu');
        info = { name, device: `JavaScript (${cpuModel()})`, trainingPath: 'tfjs' };
        break;
      case 'wasm': {
        ensureWasmKernels();
        await prepareWasmBackend(wasmThreadsWanted());
        await setBackendOrThrow('wasm');
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        const threads = wasmBackendThreads() ?? 1;
        info = {
          name,
          device: `WebAssembly${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'} (${cpuModel()})`,
          threads,
          trainingPath: 'tfjs',
        };
        break;
      }
      case 'tensorflow': {
        const pkg = await registerTensorflowBackend();
        await setBackendOrThrow('tensorflow');
        info = { name, device: tensorflowDevice(pkg), trainingPath: 'tfjs' };
        break;
      }
      case 'webgpu': {
        const adapter = await registerWebGPUBackend();
        try {
          await setBackendOrThrow('webgpu');
        } catch (err) {
          releaseWebGPU();
          throw err;
        }
        info = { name, device: adapter.name, software: adapter.software, trainingPath: fusedTrainingEnabled() ? 'fused' : 'tfjs' };
        break;
      }
    }
    const lost = name === 'webgpu' ? webgpuDeviceLost() : undefined;
    if (lost) throw new Error(`device lost (${lost})`);
    return info;
  } catch (err) {
    if (previous && previous !== name && tf.findBackendFactory(previous)) {
      try {
        await tf.setBackend(previous);
      } catch {
        /* keep going: the error below is what matters */
      }
    }
    if (name === 'webgpu' && tf.getBackend() !== 'webgpu') releaseWebGPU();
    throw new BackendUnavailableError(name, firstLine(err));
  }
}

/** Calibration settings per backend: the pure-JS cpu backend (~3 images/s) only gets a couple of small steps. */
function throughputOptions(name: ConcreteBackendName, software: boolean, best: number): ThroughputOptions {
  const giveUpBelow = best > 0 ? best / 2 : undefined;
  if (name === 'cpu') return { batchSize: 8, warmupSteps: 0, minSteps: 1, maxSteps: 2, budgetMs: 1500, giveUpBelow };
  if (software) return { batchSize: 32, warmupSteps: 1, minSteps: 1, maxSteps: 5, budgetMs: 2000, giveUpBelow };
  return { batchSize: 32, warmupSteps: 1, minSteps: 3, maxSteps: 40, budgetMs: 1500, giveUpBelow };
}

/** Measures the calibration training on the ACTIVE backend: images/s, with the path it ran when known. */
export type MeasureFn = (
  name: ConcreteBackendName,
  opts: ThroughputOptions,
) => Promise<number | { imagesPerSec: number; path: TrainingPath }>;
const realMeasure: MeasureFn = async (_name, opts) => {
  const { imagesPerSec, path } = await measureTrainingThroughput(opts);
  return { imagesPerSec, path };
};
const measured = async (m: ReturnType<MeasureFn>) => {
  const r = await m;
  return typeof r === 'number' ? { imagesPerSec: r, path: undefined } : r;
};

async function statusOf(
  name: ConcreteBackendName,
  measure: MeasureFn | undefined,
  best: number,
  progress: (msg: string) => void,
): Promise<BackendStatus> {
  let info: ActiveBackendInfo;
  try {
    progress(`${name}: starting`);
    info = await activate(name);
  } catch (err) {
    const reason = err instanceof BackendUnavailableError ? err.reason : firstLine(err);
    progress(`${name}: unavailable (${reason})`);
    return { name, available: false, reason };
  }
  const status: BackendStatus = {
    name,
    available: true,
    device: info.device,
    ...(info.software !== undefined ? { software: info.software } : {}),
    ...(info.threads !== undefined ? { threads: info.threads } : {}),
  };
  if (!measure) return status;
  try {
    progress(`${name}: timing training steps on ${info.device}`);
    const { imagesPerSec, path } = await measured(measure(name, throughputOptions(name, info.software === true, best)));
    status.imagesPerSec = Math.round(imagesPerSec * 10) / 10;
    if (path) status.trainingPath = path;
    progress(`${name}: ${status.imagesPerSec} images/s${path ? ` (${path} training step)` : ''}`);
  } catch (err) {
    status.available = false;
    status.reason = `training failed: ${firstLine(err)}`;
    progress(`${name}: ${status.reason}`);
  }
  return status;
}

/**
 * Status of every concrete backend (`clusterbench backends`). With `measure`, also times the calibration
 * net on each available one (software adapters and cpu included). The active backend is left as it was.
 */
export function probeBackends(opts: { measure?: boolean; onProgress?: (msg: string) => void } = {}): Promise<BackendStatus[]> {
  return serialized(async () => {
    const target = activeInfo?.name ?? tf.getBackend();
    const hadWebgpu = webgpuDeviceActive();
    const progress = opts.onProgress ?? (() => undefined);
    const out: BackendStatus[] = [];
    try {
      for (const name of CONCRETE_BACKENDS) out.push(await statusOf(name, opts.measure ? realMeasure : undefined, 0, progress));
    } finally {
      if (target && tf.findBackendFactory(target) && tf.getBackend() !== target) await tf.setBackend(target).catch(() => false);
      // A device the probe created is dropped again; one the caller was using (its tensors may live there) stays.
      if (!hadWebgpu && tf.getBackend() !== 'webgpu') releaseWebGPU();
    }
    return out;
  });
}

export interface AutoSelection {
  info: ActiveBackendInfo;
  entry: CalibrationEntry;
  fromCache: boolean;
}

/** A GPU adapter as auto sees it: its name, and whether it is a software rasteriser. */
type AdapterSummary = { name: string; software: boolean };

/**
 * `--backend auto`. Exposed for tests: `measureFn` replaces the real timing, `gpuAdapter` the adapter lookup
 * (undefined = look it up).
 */
export async function selectAutoBackend(
  opts: Omit<InitOptions, 'measure'> & { measureFn?: MeasureFn; gpuAdapter?: AdapterSummary | null } = {},
): Promise<AutoSelection> {
  const progress = opts.onProgress ?? (() => undefined);
  const cachePath = opts.cachePath ?? calibrationCachePath();
  const adapter = opts.gpuAdapter !== undefined ? opts.gpuAdapter : ((await webgpuAdapterSummary()) ?? null);
  const key = calibrationKey(adapter?.name ?? null, wasmThreadsWanted());
  const hadWebgpu = webgpuDeviceActive();

  if (!opts.recalibrate) {
    const cached = await fromCachedCalibration(cachePath, key, hadWebgpu, progress);
    if (cached) return cached;
  }

  const { results, winner } = await calibrate(adapter, opts.measureFn ?? realMeasure, progress);
  const order = (n: string) => CONCRETE_BACKENDS.indexOf(n as ConcreteBackendName);
  results.sort((a, b) => order(a.name) - order(b.name));
  const entry: CalibrationEntry = {
    key,
    chosen: winner.name,
    imagesPerSec: winner.imagesPerSec ?? 0,
    results,
    measuredAt: new Date().toISOString(),
  };
  try {
    writeCalibration(cachePath, entry);
  } catch (err) {
    progress(`auto: could not save the calibration (${firstLine(err)})`);
  }
  const info = await activate(winner.name);
  if (info.name !== 'webgpu' && !hadWebgpu) releaseWebGPU();
  progress(`auto: chose ${winner.name} (${entry.imagesPerSec} images/s)`);
  activeInfo = { ...info, imagesPerSec: entry.imagesPerSec, calibration: 'measured' };
  return { info: { ...activeInfo }, entry, fromCache: false };
}

/** The cached choice for this machine, activated; undefined when there is none or it no longer starts. */
async function fromCachedCalibration(
  cachePath: string,
  key: CalibrationKey,
  hadWebgpu: boolean,
  progress: (msg: string) => void,
): Promise<AutoSelection | undefined> {
  const cached = readCalibration(cachePath, key);
  if (!cached) {
    if (readCalibrationEntry(cachePath, key.hostname))
      progress('auto: machine or installed backends changed since the last calibration; recalibrating');
    return undefined;
  }
  try {
    const info = await activate(cached.chosen);
    if (info.name !== 'webgpu' && !hadWebgpu) releaseWebGPU();
    progress(`auto: ${cached.chosen} (cached calibration from ${cached.measuredAt}, ${cached.imagesPerSec} images/s)`);
    activeInfo = { ...info, imagesPerSec: cached.imagesPerSec, calibration: 'cached' };
    return { info: { ...activeInfo }, entry: cached, fromCache: true };
  } catch (err) {
    progress(`auto: cached choice ${cached.chosen} no longer starts (${firstLine(err)}); recalibrating`);
    return undefined;
  }
}

/**
 * Times the backends and picks the fastest. Tier 1: backends that can be fast (tensorflow, hardware WebGPU, wasm);
 * tier 2, only when tier 1 has none that works: software WebGPU and pure JS. Backends not timed are listed with
 * the reason. Throws when no backend can train.
 */
async function calibrate(
  adapter: AdapterSummary | null,
  measure: MeasureFn,
  progress: (msg: string) => void,
): Promise<{ results: CalibrationResult[]; winner: CalibrationResult }> {
  const results: CalibrationResult[] = [];
  const hardwareGpu = adapter !== null && !adapter.software;
  const tier1: ConcreteBackendName[] = ['tensorflow', ...(hardwareGpu ? (['webgpu'] as const) : []), 'wasm'];
  const tier2: ConcreteBackendName[] = [...(adapter?.software ? (['webgpu'] as const) : []), 'cpu'];
  const fastestOf = (list: CalibrationResult[]) =>
    list.filter((r) => r.available && (r.imagesPerSec ?? 0) > 0).sort((a, b) => (b.imagesPerSec ?? 0) - (a.imagesPerSec ?? 0))[0];

  const runTier = async (names: ConcreteBackendName[]) => {
    for (const name of names) {
      if (name === 'tensorflow' && !installedTensorflowPackage()) {
        results.push({ name, available: false, reason: NOT_INSTALLED_REASON });
        continue;
      }
      const best = fastestOf(results)?.imagesPerSec ?? 0;
      results.push(await statusOf(name, measure, best, (m) => progress(`auto: ${m}`)));
    }
  };
  await runTier(tier1);
  let winner = fastestOf(results);
  if (!winner) {
    await runTier(tier2);
    winner = fastestOf(results);
  } else {
    if (adapter && !hardwareGpu) {
      results.push({
        name: 'webgpu',
        available: true,
        device: adapter.name,
        software: true,
        note: 'software adapter: not timed, auto does not use it while a faster CPU path works',
      });
    }
    results.push({
      name: 'cpu',
      available: true,
      device: `JavaScript (${cpuModel()})`,
      note: `not timed: ${winner.name} works and pure-JS cpu is far slower`,
    });
  }
  if (!adapter && !results.some((r) => r.name === 'webgpu'))
    results.push({ name: 'webgpu', available: false, reason: 'no WebGPU adapter' });
  if (!winner) {
    throw new Error(`no backend could train: ${results.map((r) => `${r.name}: ${r.reason ?? 'no throughput'}`).join('; ')}`);
  }
  return { results, winner };
}

/** Throughput of `name` from a still-valid cached calibration, if it was timed. */
async function cachedThroughput(name: ConcreteBackendName, device: string | undefined, cachePath: string): Promise<number | undefined> {
  const gpu = name === 'webgpu' ? (device ?? null) : null;
  const key = calibrationKey(gpu, wasmThreadsWanted());
  const entry = readCalibrationEntry(cachePath, key.hostname);
  if (!entry || !sameKey(entry.key, key, name !== 'webgpu')) return undefined;
  return entry.results.find((r) => r.name === name)?.imagesPerSec;
}

/**
 * Activates a tfjs backend and returns the name of the one in use. `auto` calibrates (or reuses the
 * cached calibration) and picks the fastest. Throws BackendUnavailableError with the reason when an
 * explicitly requested backend cannot start (the previous backend stays active).
 */
export function initBackend(name: BackendName = 'auto', opts: InitOptions = {}): Promise<string> {
  return serialized(async () => {
    const progress = opts.onProgress ?? (() => undefined);
    if (name === 'auto') {
      activeInfo = (await selectAutoBackend(opts)).info;
      return activeInfo.name;
    }
    if (!CONCRETE_BACKENDS.includes(name))
      throw new Error(`unknown backend '${String(name)}' (expected auto, ${CONCRETE_BACKENDS.join(', ')})`);
    const info = await activate(name);
    if (info.software) progress(`${name}: ${info.device} is a software adapter (slow; wasm is usually faster)`);
    if (opts.measure) {
      const software = info.software === true;
      progress(`${name}: timing training steps`);
      const { imagesPerSec } = await measured(realMeasure(name, throughputOptions(name, software, 0)));
      info.imagesPerSec = Math.round(imagesPerSec * 10) / 10;
      info.calibration = 'measured';
    } else {
      const cached = await cachedThroughput(name, info.device, opts.cachePath ?? calibrationCachePath());
      if (cached !== undefined) Object.assign(info, { imagesPerSec: cached, calibration: 'cached' as const });
    }
    activeInfo = info;
    return info.name;
  });
}

/** Name of the active backend, once initBackend has succeeded. */
export function activeBackend(): string | undefined {
  return activeInfo?.name;
}

/** The active backend with its device and measured throughput (for the run record). */
export function activeBackendInfo(): ActiveBackendInfo | undefined {
  return activeInfo ? { ...activeInfo } : undefined;
}

/**
 * Releases native GPU resources (the Dawn instance keeps Node's event loop alive). Call before exit; if
 * webgpu was active, no backend is active afterwards until the next initBackend.
 */
export function shutdownBackends(): void {
  if (activeInfo?.name === 'webgpu') activeInfo = undefined;
  releaseWebGPU();
}
