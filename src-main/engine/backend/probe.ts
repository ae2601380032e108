import type { CalibrationResult } from './calibration-cache';
import { measureTrainingThroughput, type ThroughputOptions, type TrainingPath } from './calibration-training';
import { BackendUnavailableError, firstLine } from './errors';
import type { ConcreteBackendName } from './names';
import { activate, type ActiveBackendInfo } from './registry';

/**
 * Probing one backend: start it and, when asked, time the calibration net's training on it. Both the
 * `clusterbench backends` listing and auto's calibration (selection.ts) are made of these.
 */

export type BackendStatus = CalibrationResult;

/** Measures the calibration training on the ACTIVE backend: images/s, with the path it ran when known. */
export type MeasureFn = (
  name: ConcreteBackendName,
  opts: ThroughputOptions,
) => Promise<number | { imagesPerSec: number; path: TrainingPath }>;

export const realMeasure: MeasureFn = async (_name, opts) => {
  const { imagesPerSec, path } = await measureTrainingThroughput(opts);
  return { imagesPerSec, path };
};

/** A measurement in one shape (tests' MeasureFns may return a bare number). */
export const measured = async (m: ReturnType<MeasureFn>) => {
  const r = await m;
  return typeof r === 'number' ? { imagesPerSec: r, path: undefined } : r;
};

/** Calibration settings per backend: the pure-JS cpu backend (~3 images/s) only gets a couple of small steps. */
export function throughputOptions(name: ConcreteBackendName, software: boolean, best: number): ThroughputOptions {
  const giveUpBelow = best > 0 ? best / 2 : undefined;
  if (name === 'cpu') return { batchSize: 8, warmupSteps: 0, minSteps: 1, maxSteps: 2, budgetMs: 1500, giveUpBelow };
  if (software) return { batchSize: 32, warmupSteps: 1, minSteps: 1, maxSteps: 5, budgetMs: 2000, giveUpBelow };
  return { batchSize: 32, warmupSteps: 1, minSteps: 3, maxSteps: 40, budgetMs: 1500, giveUpBelow };
}

/** The status of a backend that started, before any timing. */
function startedStatus(name: ConcreteBackendName, info: ActiveBackendInfo): BackendStatus {
  return {
    name,
    available: true,
    device: info.device,
    ...(info.software !== undefined ? { software: info.software } : {}),
    ...(info.threads !== undefined ? { threads: info.threads } : {}),
  };
}

/**
 * Starts `name` and, with `measure`, times training on it (`best`: the fastest so far, below half of which the
 * timing gives up early). A backend that starts but cannot train is reported unavailable.
 */
export async function backendStatus(
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
  const status = startedStatus(name, info);
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
