import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { appDataDir } from '../paths';
import { CALIBRATION_NET_VERSION } from './calibration-net';
import type { ConcreteBackendName } from './names';
import { packageInfo } from './tensorflow';
import { fusedTrainingEnabled } from './webgpuTraining/device';

/**
 * Per-machine cache of the `--backend auto` calibration, in `<appDataDir>/backend-calibration.json`.
 * One entry per hostname (the data folder may be shared between machines); an entry is used only while its
 * key still matches: hostname, CPU model and count, platform, Node version, installed backend package
 * versions, the WebGPU adapter, the wasm thread count, the calibration net's version, and whether webgpu's fused step is on.
 */

export interface CalibrationKey {
  hostname: string;
  cpuModel: string;
  cpuCount: number;
  platform: string;
  arch: string;
  node: string;
  /** Installed versions (null when absent) of the packages that implement the backends. */
  versions: Record<string, string | null>;
  /** WebGPU adapter name, null when there is none. */
  gpuAdapter: string | null;
  /** XNNPACK threads the wasm backend runs with (absent in caches written before it was recorded). */
  wasmThreads?: number;
  calibrationNet: number;
  /** Whether webgpu trains through the fused step (CLUSTERBENCH_WEBGPU_FUSED); absent in caches from before it. */
  webgpuFused?: boolean;
}

/** What probing or calibrating one backend found (also what `probeBackends` reports). */
export interface CalibrationResult {
  name: ConcreteBackendName;
  available: boolean;
  /** Why it is unavailable (or could not train). */
  reason?: string;
  /** Device / adapter description, e.g. "CUDA GPU (libtensorflow…)", "llvmpipe … [opengl]", "WebAssembly SIMD, 1 thread". */
  device?: string;
  /** A software GPU adapter (WebGPU on llvmpipe, lavapipe, SwiftShader…). */
  software?: boolean;
  /** wasm: XNNPACK threads. */
  threads?: number;
  /** Training throughput of the calibration net, when measured. */
  imagesPerSec?: number;
  /** How the measured steps ran: the fused WebGPU step or tfjs's kernels. */
  trainingPath?: 'fused' | 'tfjs';
  /** Extra information, e.g. why auto did not time it. */
  note?: string;
}

export interface CalibrationEntry {
  key: CalibrationKey;
  chosen: ConcreteBackendName;
  imagesPerSec: number;
  results: CalibrationResult[];
  measuredAt: string;
}

interface CacheFile {
  schema: 1;
  entries: Record<string, CalibrationEntry>;
}

export const BACKEND_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-node',
] as const;

export function calibrationCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(appDataDir(env), 'backend-calibration.json');
}

/** The key for this machine and install. `gpuAdapter` is passed in (finding it needs Dawn). */
export function calibrationKey(gpuAdapter: string | null, wasmThreads = 1): CalibrationKey {
  const cpu = cpus();
  const versions: Record<string, string | null> = {};
  for (const name of BACKEND_PACKAGES) versions[name] = packageInfo(name)?.version ?? null;
  versions['@tensorflow/tfjs-core'] ??= tf.version_core;
  return {
    hostname: hostname(),
    cpuModel: cpu[0]?.model?.trim() ?? 'unknown',
    cpuCount: cpu.length,
    platform: process.platform,
    arch: process.arch,
    node: process.versions.node,
    versions,
    gpuAdapter,
    wasmThreads,
    calibrationNet: CALIBRATION_NET_VERSION,
    webgpuFused: fusedTrainingEnabled(),
  };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Field-by-field key comparison; `ignoreGpu` skips the adapter (for backends that do not use it). */
export function sameKey(a: CalibrationKey, b: CalibrationKey, ignoreGpu = false): boolean {
  if (ignoreGpu) return canonical({ ...a, gpuAdapter: null }) === canonical({ ...b, gpuAdapter: null });
  return canonical(a) === canonical(b);
}

function readFile(path: string): CacheFile {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
    if (parsed?.schema === 1 && parsed.entries && typeof parsed.entries === 'object') return parsed;
  } catch {
    /* missing or unreadable: start afresh */
  }
  return { schema: 1, entries: {} };
}

/** This host's entry, whatever its key (callers compare keys). */
export function readCalibrationEntry(path: string, host: string = hostname()): CalibrationEntry | undefined {
  const entry = readFile(path).entries[host];
  return entry?.key && entry.results ? entry : undefined;
}

/** The entry for `key` if one is cached and still valid. */
export function readCalibration(path: string, key: CalibrationKey): CalibrationEntry | undefined {
  const entry = readCalibrationEntry(path, key.hostname);
  return entry && sameKey(entry.key, key) ? entry : undefined;
}

/** Stores `entry` for its hostname (replacing an older one), atomically. */
export function writeCalibration(path: string, entry: CalibrationEntry): void {
  const file = readFile(path);
  file.entries[entry.key.hostname] = entry;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, path);
}
