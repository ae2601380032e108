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
} from './calibration-cache';
import { firstLine } from './errors';
import { CONCRETE_BACKENDS, type ConcreteBackendName } from './names';
import { backendStatus, realMeasure, type MeasureFn } from './probe';
import { activate, cpuModel, type ActiveBackendInfo } from './registry';
import { setActiveInfo } from './state';
import { installedTensorflowPackage, NOT_INSTALLED_REASON } from './tensorflow';
import { wasmThreadsWanted } from './wasm-threads';
import { releaseWebGPU, webgpuAdapterSummary, webgpuDeviceActive } from './webgpu';

/**
 * `--backend auto`: the fastest backend by a short training calibration, cached per machine (calibration-cache.ts).
 * Software WebGPU adapters (llvmpipe, lavapipe, SwiftShader) and the pure-JS cpu backend are only considered when
 * none of tensorflow, hardware WebGPU and wasm works.
 */

export interface AutoOptions {
  /** Ignore the cached calibration and measure again. */
  recalibrate?: boolean;
  onProgress?: (msg: string) => void;
  /** Calibration cache file (default: `<appDataDir>/backend-calibration.json`). */
  cachePath?: string;
  /**
   * False when no network will train (k-means or GMM on pixels): a cached choice is still used, but without one auto
   * starts the default backend untimed rather than paying a calibration (~25 s) that only training needs.
   */
  calibrate?: boolean;
  /** Called once, just before a calibration starts (callers show it as its own phase). */
  onCalibrating?: () => void;
}

export interface AutoSelection {
  info: ActiveBackendInfo;
  entry: CalibrationEntry;
  fromCache: boolean;
}

/** A GPU adapter as auto sees it: its name, and whether it is a software rasteriser. */
type AdapterSummary = { name: string; software: boolean };

type Progress = (msg: string) => void;

/**
 * `--backend auto`. Exposed for tests: `measureFn` replaces the real timing, `gpuAdapter` the adapter lookup
 * (undefined = look it up).
 */
export async function selectAutoBackend(
  opts: AutoOptions & { measureFn?: MeasureFn; gpuAdapter?: AdapterSummary | null } = {},
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
  if (opts.calibrate === false) return startDefault(hadWebgpu, progress);
  opts.onCalibrating?.();

  const entry = await calibrationEntry(key, adapter, opts.measureFn ?? realMeasure, progress);
  saveCalibration(cachePath, entry, progress);
  const info = await startChoice(entry.chosen, hadWebgpu);
  progress(`auto: chose ${entry.chosen} (${entry.imagesPerSec} images/s)`);
  return recordChoice(info, entry, false);
}

/** The cached choice for this machine, activated; undefined when there is none or it no longer starts. */
async function fromCachedCalibration(
  cachePath: string,
  key: CalibrationKey,
  hadWebgpu: boolean,
  progress: Progress,
): Promise<AutoSelection | undefined> {
  const cached = readCalibration(cachePath, key);
  if (!cached) {
    if (readCalibrationEntry(cachePath, key.hostname))
      progress('auto: machine or installed backends changed since the last calibration; recalibrating');
    return undefined;
  }
  try {
    const info = await startChoice(cached.chosen, hadWebgpu);
    progress(`auto: ${cached.chosen} (cached calibration from ${cached.measuredAt}, ${cached.imagesPerSec} images/s)`);
    return recordChoice(info, cached, true);
  } catch (err) {
    progress(`auto: cached choice ${cached.chosen} no longer starts (${firstLine(err)}); recalibrating`);
    return undefined;
  }
}

/** The backends auto starts untimed, in order, when nothing will train: the native one if installed, else wasm, else pure JS. */
export const UNCALIBRATED_ORDER: readonly ConcreteBackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** The first backend of UNCALIBRATED_ORDER that starts, active, with no throughput and no calibration written. */
async function startDefault(hadWebgpu: boolean, progress: Progress): Promise<AutoSelection> {
  const reasons: string[] = [];
  for (const name of UNCALIBRATED_ORDER) {
    if (name === 'tensorflow' && !installedTensorflowPackage()) continue;
    try {
      const info = await startChoice(name, hadWebgpu);
      progress(`auto: ${name} (not calibrated: nothing trains in this run)`);
      setActiveInfo(info);
      const entry: CalibrationEntry = {
        key: calibrationKey(null, wasmThreadsWanted()),
        chosen: name,
        imagesPerSec: 0,
        results: [],
        measuredAt: new Date().toISOString(),
      };
      return { info: { ...info }, entry, fromCache: false };
    } catch (err) {
      reasons.push(`${name}: ${firstLine(err)}`);
    }
  }
  throw new Error(`no backend could start: ${reasons.join('; ')}`);
}

/** Starts auto's choice; a WebGPU device opened while choosing is dropped unless webgpu won or was in use before. */
async function startChoice(name: ConcreteBackendName, hadWebgpu: boolean): Promise<ActiveBackendInfo> {
  const info = await activate(name);
  if (info.name !== 'webgpu' && !hadWebgpu) releaseWebGPU();
  return info;
}

/** Makes the started choice the active backend, with the calibration's throughput. */
function recordChoice(info: ActiveBackendInfo, entry: CalibrationEntry, fromCache: boolean): AutoSelection {
  const active: ActiveBackendInfo = { ...info, imagesPerSec: entry.imagesPerSec, calibration: fromCache ? 'cached' : 'measured' };
  setActiveInfo(active);
  return { info: { ...active }, entry, fromCache };
}

/** A fresh calibration for `key`: every backend's result in the usual order, and the winner. */
async function calibrationEntry(
  key: CalibrationKey,
  adapter: AdapterSummary | null,
  measure: MeasureFn,
  progress: Progress,
): Promise<CalibrationEntry> {
  const { results, winner } = await calibrate(adapter, measure, progress);
  const order = (n: string) => CONCRETE_BACKENDS.indexOf(n as ConcreteBackendName);
  results.sort((a, b) => order(a.name) - order(b.name));
  return { key, chosen: winner.name, imagesPerSec: winner.imagesPerSec ?? 0, results, measuredAt: new Date().toISOString() };
}

/** A calibration that cannot be saved still chooses: the next run measures again. */
function saveCalibration(cachePath: string, entry: CalibrationEntry, progress: Progress): void {
  try {
    writeCalibration(cachePath, entry);
  } catch (err) {
    progress(`auto: could not save the calibration (${firstLine(err)})`);
  }
}

/** The fastest backend that trained, if any. */
const fastestOf = (list: CalibrationResult[]): CalibrationResult | undefined =>
  list.filter((r) => r.available && (r.imagesPerSec ?? 0) > 0).sort((a, b) => (b.imagesPerSec ?? 0) - (a.imagesPerSec ?? 0))[0];

/**
 * Times the backends and picks the fastest. Tier 1: backends that can be fast (tensorflow, hardware WebGPU, wasm);
 * tier 2, only when tier 1 has none that works: software WebGPU and pure JS. Backends not timed are listed with
 * the reason. Throws when no backend can train.
 */
async function calibrate(
  adapter: AdapterSummary | null,
  measure: MeasureFn,
  progress: Progress,
): Promise<{ results: CalibrationResult[]; winner: CalibrationResult }> {
  const results: CalibrationResult[] = [];
  const software = adapter?.software === true;
  await timeTier(['tensorflow', ...(adapter && !software ? (['webgpu'] as const) : []), 'wasm'], results, measure, progress);
  let winner = fastestOf(results);
  if (winner) results.push(...untimed(adapter, winner));
  else {
    await timeTier([...(software ? (['webgpu'] as const) : []), 'cpu'], results, measure, progress);
    winner = fastestOf(results);
  }
  if (!adapter && !results.some((r) => r.name === 'webgpu'))
    results.push({ name: 'webgpu', available: false, reason: 'no WebGPU adapter' });
  if (!winner) {
    throw new Error(`no backend could train: ${results.map((r) => `${r.name}: ${r.reason ?? 'no throughput'}`).join('; ')}`);
  }
  return { results, winner };
}

/** Times each backend of a tier in turn into `results`; each gives up early below half the best so far. */
async function timeTier(names: ConcreteBackendName[], results: CalibrationResult[], measure: MeasureFn, progress: Progress): Promise<void> {
  for (const name of names) {
    if (name === 'tensorflow' && !installedTensorflowPackage()) {
      results.push({ name, available: false, reason: NOT_INSTALLED_REASON });
      continue;
    }
    const best = fastestOf(results)?.imagesPerSec ?? 0;
    results.push(await backendStatus(name, measure, best, (m) => progress(`auto: ${m}`)));
  }
}

/** The tier-2 backends left untimed because tier 1 has a winner, each with why. */
function untimed(adapter: AdapterSummary | null, winner: CalibrationResult): CalibrationResult[] {
  const softwareGpu: CalibrationResult[] = adapter?.software
    ? [
        {
          name: 'webgpu',
          available: true,
          device: adapter.name,
          software: true,
          note: 'software adapter: not timed, auto does not use it while a faster CPU path works',
        },
      ]
    : [];
  const cpu: CalibrationResult = {
    name: 'cpu',
    available: true,
    device: `JavaScript (${cpuModel()})`,
    note: `not timed: ${winner.name} works and pure-JS cpu is far slower`,
  };
  return [...softwareGpu, cpu];
}

/** Throughput of `name` from a still-valid cached calibration, if it was timed (an explicit backend's record). */
export function cachedThroughput(name: ConcreteBackendName, device: string | undefined, cachePath: string): number | undefined {
  const gpu = name === 'webgpu' ? (device ?? null) : null;
  const key = calibrationKey(gpu, wasmThreadsWanted());
  const entry = readCalibrationEntry(cachePath, key.hostname);
  if (!entry || !sameKey(entry.key, key, name !== 'webgpu')) return undefined;
  return entry.results.find((r) => r.name === name)?.imagesPerSec;
}
