/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { ensureHeadlessEglPlatform } from './egl';
import { VULKAN_LOADER, vulkanLoaderFound } from './vulkan-loader';

/**
 * WebGPU for Node through Dawn (the `webgpu` npm package) and @tensorflow/tfjs-backend-webgpu.
 *
 * tfjs-backend-webgpu registers its own 'webgpu' factory at import time only if `navigator.gpu` exists then
 * (never in Node 20, where there is no `navigator`), and that factory takes whatever adapter the default
 * request gives. We instead choose the adapter and create the device ourselves, then register a factory
 * under the same name 'webgpu' (its kernels are registered for that name) that returns
 * `new WebGPUBackend(device, adapterInfo)`; an auto-registered factory, if any, is removed first.
 *
 * Adapter search (first hardware adapter wins, else the first software one):
 *   1. Dawn's default backend (Vulkan on Linux, Metal on macOS, D3D12 on Windows), core feature level,
 *      powerPreference 'high-performance' (on Linux only when the Vulkan loader is installed: vulkan-loader.ts);
 *   2. Linux only: Dawn's OpenGL backend at feature level 'compatibility' over EGL. Without a display
 *      (EGL_PLATFORM unset, no DISPLAY/WAYLAND_DISPLAY) EGL_PLATFORM=surfaceless is set (egl.ts: on the main
 *      thread, which the engine host does before starting its worker), which lets Mesa's llvmpipe serve as a
 *      (slow, software) adapter on GPU-less machines.
 * `CLUSTERBENCH_DAWN_FLAGS` (e.g. "backend=vulkan" or "backend=opengl;adapter=llvmpipe") replaces the
 * search by a single attempt with those Dawn flags (';'-separated); `CLUSTERBENCH_WEBGPU_FEATURE_LEVEL`
 * ('core' | 'compatibility') sets its feature level.
 *
 * Dawn keeps Node's event loop alive while a GPU instance is referenced: call releaseWebGPU() (via
 * shutdownBackends()) before expecting the process to exit on its own.
 */

export interface WebGPUAdapterSummary {
  /** Human-readable adapter name, e.g. "NVIDIA GeForce RTX 3080" or "llvmpipe (Mesa 22.3.6, OpenGL)". */
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn flags of the instance that found it. */
  dawnFlags: string[];
  featureLevel: 'core' | 'compatibility';
  /** A CPU rasteriser (llvmpipe, lavapipe, SwiftShader, WARP) or a fallback adapter. */
  software: boolean;
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|swrast|software|basic render driver|null[- ]backend/i;

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export function isSoftwareAdapter(info: AdapterInfoLike, adapterIsFallback = false): boolean {
  if (adapterIsFallback || info.isFallbackAdapter) return true;
  return SOFTWARE_ADAPTER.test([info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' '));
}

function adapterName(info: AdapterInfoLike, flags: string[]): string {
  const device = (info.device ?? '').replace(/-+$/, '');
  const description = info.description ?? '';
  let name = description || device || info.vendor || 'unknown adapter';
  if (device && description && !description.toLowerCase().includes(device.toLowerCase().split('-')[0])) name = `${device} — ${description}`;
  const backend = flags.find((f) => f.startsWith('backend='))?.slice('backend='.length);
  return backend ? `${name} [${backend}]` : name;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

interface Found {
  gpu: GPU;
  adapter: GPUAdapter;
  summary: WebGPUAdapterSummary;
}

interface Active {
  gpu: GPU;
  device: GPUDevice;
  summary: WebGPUAdapterSummary;
  lost?: string;
}

let dawnModule: Promise<DawnModule> | undefined;
let active: Active | undefined;
let found: Promise<Found> | undefined;

/**
 * What this process's first adapter search found, kept across releaseWebGPU(). Every search makes Dawn write its
 * warnings to stderr ("Couldn't load Vulkan: …" when the Vulkan attempt fails, "max…PerPipelineLayout artificially
 * reduced" for each OpenGL adapter) from native code, where no option or toggle silences them: a long-lived process
 * (the web server's engine worker) printed them again for every run. So webgpuAdapterSummary() answers from here
 * without Dawn, and a later device is looked for only with the attempt that found this adapter. `env` is the
 * CLUSTERBENCH_DAWN_FLAGS/FEATURE_LEVEL it was found under: another setting searches again.
 */
let remembered: { env: string; attempt: Attempt; summary: WebGPUAdapterSummary } | undefined;
/** The setting under which webgpuAdapterSummary() found no adapter: it does not search (and warn) again. */
let noAdapterUnder: string | undefined;

const searchEnv = (env: NodeJS.ProcessEnv = process.env): string =>
  `${env.CLUSTERBENCH_DAWN_FLAGS ?? ''}|${env.CLUSTERBENCH_WEBGPU_FEATURE_LEVEL ?? ''}`;

async function loadDawn(): Promise<DawnModule> {
  dawnModule ??= (async () => {
    const mod = (await import('webgpu')) as unknown as DawnModule;
    // GPUBufferUsage, GPUMapMode, GPUShaderStage, GPUTextureUsage, ... (keep anything already defined, as in Electron).
    const g = globalThis as Record<string, unknown>;
    for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
    return mod;
  })();
  try {
    return await dawnModule;
  } catch (err) {
    dawnModule = undefined;
    throw new Error(`the webgpu (Dawn) module could not be loaded: ${(err as Error).message}`, { cause: err });
  }
}

interface Attempt {
  flags: string[];
  featureLevel: 'core' | 'compatibility';
  /** Why it is not tried (it could only fail, and Dawn would print a warning saying so). */
  skip?: string;
}

function attempts(env: NodeJS.ProcessEnv = process.env): Attempt[] {
  const level =
    env.CLUSTERBENCH_WEBGPU_FEATURE_LEVEL === 'compatibility'
      ? 'compatibility'
      : env.CLUSTERBENCH_WEBGPU_FEATURE_LEVEL === 'core'
        ? 'core'
        : undefined;
  if (env.CLUSTERBENCH_DAWN_FLAGS) {
    const flags = env.CLUSTERBENCH_DAWN_FLAGS.split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    const gl = flags.some((f) => /^backend=opengl/.test(f));
    return [{ flags, featureLevel: level ?? (gl ? 'compatibility' : 'core') }];
  }
  const list: Attempt[] = [{ flags: [], featureLevel: level ?? 'core' }];
  if (process.platform === 'linux') {
    // Dawn's default backend on Linux is Vulkan: without its loader, no attempt (and no "Couldn't load Vulkan")
    if (!vulkanLoaderFound(env)) list[0].skip = `no Vulkan loader (${VULKAN_LOADER} not installed)`;
    list.push({ flags: ['backend=opengl'], featureLevel: 'compatibility' });
  }
  return list;
}

/** (In a worker thread this cannot reach Mesa: the engine host sets it before starting the worker; see egl.ts.) */
function prepareEglEnvironment(flags: string[]): void {
  if (flags.some((f) => f.startsWith('backend=opengl'))) ensureHeadlessEglPlatform();
}

async function readInfo(adapter: GPUAdapter): Promise<AdapterInfoLike> {
  const a = adapter as GPUAdapter & { requestAdapterInfo?: () => Promise<AdapterInfoLike> };
  const info: AdapterInfoLike | undefined = a.info ?? (a.requestAdapterInfo ? await a.requestAdapterInfo() : undefined);
  // GPUAdapterInfo fields are prototype getters: copy them.
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: info?.isFallbackAdapter,
  };
}

/** Finds the adapter to use (cached for the process). Throws with a reason when there is none. */
export async function findWebGPUAdapter(): Promise<Found> {
  found ??= (async () => {
    const dawn = await loadDawn();
    const tried: string[] = [];
    let softwareFallback: (Found & { attempt: Attempt }) | undefined;
    const env = searchEnv();
    const chosen = (result: Found, attempt: Attempt): Found => {
      remembered = { env, attempt, summary: result.summary };
      return result;
    };
    for (const at of remembered?.env === env ? [remembered.attempt] : attempts()) {
      const label = at.flags.length ? at.flags.join(',') : 'default backend';
      if (at.skip) {
        tried.push(`${label}: ${at.skip}`);
        continue;
      }
      try {
        prepareEglEnvironment(at.flags);
        const gpu = dawn.create(at.flags);
        const adapter = await gpu.requestAdapter({
          powerPreference: 'high-performance',
          ...(at.featureLevel === 'compatibility' ? { featureLevel: 'compatibility' } : {}),
        } as GPURequestAdapterOptions);
        if (!adapter) {
          tried.push(`${label}: no adapter`);
          continue;
        }
        const info = await readInfo(adapter);
        const software = isSoftwareAdapter(info, (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true);
        const summary: WebGPUAdapterSummary = {
          name: adapterName(info, at.flags),
          vendor: info.vendor ?? '',
          architecture: info.architecture ?? '',
          device: info.device ?? '',
          description: info.description ?? '',
          dawnFlags: at.flags,
          featureLevel: at.featureLevel,
          software,
        };
        if (!software) return chosen({ gpu, adapter, summary }, at);
        softwareFallback ??= { gpu, adapter, summary, attempt: at };
        tried.push(`${label}: software adapter ${summary.name}`);
      } catch (err) {
        tried.push(`${label}: ${String((err as Error)?.message ?? err).replace(/\s*\n\s*/g, ' ')}`);
      }
    }
    if (softwareFallback) return chosen(softwareFallback, softwareFallback.attempt);
    remembered = undefined; // the adapter it found is gone: the next search tries everything again
    const hint =
      process.platform === 'linux'
        ? '; without a GPU driver, Mesa (apt: libegl1 libegl-mesa0 libgl1-mesa-dri; EGL_PLATFORM=surfaceless when headless) gives a slow software adapter'
        : '';
    throw new Error(`no WebGPU adapter (${tried.join('; ')})${hint}`);
  })();
  try {
    return await found;
  } catch (err) {
    found = undefined;
    throw err;
  }
}

/** The adapter that would be used, without creating a device; undefined when there is none. */
export async function webgpuAdapterSummary(): Promise<WebGPUAdapterSummary | undefined> {
  if (active) return active.summary;
  if (remembered?.env === searchEnv()) return remembered.summary;
  if (noAdapterUnder === searchEnv()) return undefined;
  try {
    return (await findWebGPUAdapter()).summary;
  } catch {
    noAdapterUnder = searchEnv();
    return undefined;
  }
}

/** Makes `navigator.gpu` point at our Dawn instance (tfjs-backend-webgpu checks it when a backend is built). */
function installNavigatorGpu(gpu: GPU): void {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  const desc = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  if (g.navigator == null) {
    // Node 20: no navigator at all.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true, enumerable: false });
    return;
  }
  // Node 21+ / Electron: navigator is a read-only global getter, but its object is extensible.
  try {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  } catch {
    if (desc?.configurable)
      Object.defineProperty(globalThis, 'navigator', { value: { ...g.navigator, gpu }, configurable: true, writable: true });
  }
  if ((g.navigator as { gpu?: unknown }).gpu !== gpu) throw new Error('could not install navigator.gpu');
}

function removeNavigatorGpu(): void {
  const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
  if (nav && 'gpu' in nav) {
    try {
      delete nav.gpu;
    } catch {
      /* read-only: leave it */
    }
  }
}

/**
 * Creates the device (adapter limits requested in full) and registers the 'webgpu' tfjs backend factory for
 * it. Idempotent while the device is alive. Returns the adapter summary.
 */
export async function registerWebGPUBackend(): Promise<WebGPUAdapterSummary> {
  if (active && !active.lost && tf.findBackendFactory('webgpu')) return active.summary;
  if (active?.lost) releaseWebGPU();
  // Import first (kernels register under 'webgpu'); with navigator.gpu not yet set it registers no factory.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const { gpu, adapter, summary } = await findWebGPUAdapter();
  const l = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (err) {
    found = undefined; // the adapter may be consumed: look again next time
    throw new Error(`requestDevice failed on ${summary.name}: ${(err as Error).message}`, { cause: err });
  }
  const state: Active = { gpu, device, summary };
  device.lost.then(
    (info) => {
      state.lost = `${info.reason}: ${info.message}`;
    },
    () => undefined,
  );
  installNavigatorGpu(gpu);
  active = state;
  const adapterInfo = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // Priority 0: never picked implicitly by tfjs; Clusterbench always selects backends explicitly.
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapterInfo), 0);
  return summary;
}

/** Whether a WebGPU device is registered as the 'webgpu' backend (tensors may live on it). */
export function webgpuDeviceActive(): boolean {
  return active !== undefined;
}

export function webgpuDeviceLost(): string | undefined {
  return active?.lost;
}

/** Dawn instances of destroyed devices, kept until their pending events have run (see keepUntilDrained). */
const draining = new Set<GPU>();

/**
 * Dawn's Node binding polls its instance for events from a setImmediate callback that holds a raw pointer to
 * it. If the GPU object is garbage-collected while such a poll is queued (right after device.destroy(), whose
 * lost event is still to be delivered), the poll runs on freed memory and aborts the process ("The futex
 * facility returned an unexpected error code", mutex assertions), more often with wasm's pthreads about.
 * So the instance stays referenced until the device's lost promise has settled and a moment has passed.
 */
function keepUntilDrained(state: Active): void {
  draining.add(state.gpu);
  const release = (): void => void setTimeout(() => draining.delete(state.gpu), 100).unref();
  state.device.lost.then(release, release);
}

/**
 * Unregisters the 'webgpu' backend (disposing its tensors), destroys the device and drops the Dawn instance
 * so the process can exit. A later registerWebGPUBackend() starts over.
 */
export function releaseWebGPU(): void {
  if (tf.findBackendFactory('webgpu')) {
    try {
      tf.removeBackend('webgpu');
    } catch {
      /* already gone */
    }
  }
  if (active) {
    try {
      active.device.destroy();
    } catch {
      /* ignore */
    }
    keepUntilDrained(active);
  }
  active = undefined;
  found = undefined;
  removeNavigatorGpu();
}
