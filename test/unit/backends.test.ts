import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKEND_NAMES,
  BackendUnavailableError,
  CONCRETE_BACKENDS,
  activeBackend,
  activeBackendInfo,
  initBackend,
  probeBackends,
  selectAutoBackend,
  shutdownBackends,
  tf,
  type BackendStatus,
  type ConcreteBackendName,
  type MeasureFn,
  wasmThreadsWanted,
} from '../../src-main/engine/backend/index';
import { calibrationKey, readCalibration, readCalibrationEntry } from '../../src-main/engine/backend/calibration-cache';
import { trainLossSequence } from '../../src-main/engine/backend/calibration-training';
import { registerTensorflowBackend } from '../../src-main/engine/backend/tensorflow';
import { isSoftwareAdapter } from '../../src-main/engine/backend/webgpu';
import { paramChoices } from '../../src-main/engine/schema/params';

const SOFTWARE_NAME = /llvmpipe|lavapipe|softpipe|swiftshader/i;

let dir: string;
let statuses: BackendStatus[];
const status = (name: ConcreteBackendName): BackendStatus => statuses.find((s) => s.name === name)!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clusterbench-backends-'));
  statuses = await probeBackends();
});

afterAll(() => {
  shutdownBackends();
  rmSync(dir, { recursive: true, force: true });
});

describe('probeBackends', () => {
  it('lists every concrete backend with availability and a reason when unavailable', () => {
    expect(statuses.map((s) => s.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    for (const s of statuses) {
      expect(typeof s.available).toBe('boolean');
      if (!s.available) expect(s.reason).toMatch(/\w/);
      else expect(s.device).toMatch(/\w/);
    }
    expect(status('cpu').available).toBe(true);
    expect(status('wasm').available).toBe(true);
  });

  it('reports tensorflow (tfjs-node-gpu) as not installed, cleanly', (ctx) => {
    const tfStatus = status('tensorflow');
    if (tfStatus.available) ctx.skip('@tensorflow/tfjs-node(-gpu) is installed here');
    expect(tfStatus.reason).toMatch(/not installed/);
    expect(tfStatus.reason).toMatch(/tfjs-node-gpu/);
  });

  it('finds WebGPU (Mesa llvmpipe here) and flags a software adapter', (ctx) => {
    const gpu = status('webgpu');
    if (!gpu.available) {
      ctx.skip(`WebGPU unavailable: ${gpu.reason}`);
    }
    expect(gpu.device).toMatch(/\w/);
    expect(gpu.software).toBe(SOFTWARE_NAME.test(gpu.device ?? ''));
  });

  it('leaves the previously active backend active', async () => {
    await initBackend('cpu');
    await probeBackends();
    expect(tf.getBackend()).toBe('cpu');
    expect(activeBackend()).toBe('cpu');
  });
});

describe('software adapter detection', () => {
  it('recognises CPU rasterisers and fallback adapters', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', device: 'llvmpipe-llvm-15-0-6-256-bits-' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6', device: 'llvmpipe' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', device: 'lavapipe' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia' }, true)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'intel', isFallbackAdapter: true })).toBe(true);
  });
});

describe('switching backends', () => {
  it('switches back and forth and keeps tensors usable', async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    const a = tf.tensor1d([1, 2, 3]);
    expect(await initBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const b = tf.mul(a, 2);
    expect(Array.from(await b.data())).toEqual([2, 4, 6]);
    expect(await initBackend('cpu')).toBe('cpu');
    expect(Array.from(await tf.add(a, b).data())).toEqual([3, 6, 9]);
    expect(activeBackendInfo()).toMatchObject({ name: 'cpu' });
    tf.dispose([a, b]);
  });

  it('keeps tensors computed on WebGPU readable after switching away', async (ctx) => {
    if (!status('webgpu').available) ctx.skip(`WebGPU unavailable: ${status('webgpu').reason}`);
    expect(await initBackend('webgpu')).toBe('webgpu');
    expect(activeBackendInfo()).toMatchObject({ name: 'webgpu', software: status('webgpu').software });
    const g = tf.mul(tf.tensor1d([5, 6]), 2);
    expect(await initBackend('wasm')).toBe('wasm');
    expect(Array.from(await tf.add(g, 1).data())).toEqual([11, 13]);
    g.dispose();
    await initBackend('cpu');
    shutdownBackends();
  });

  it('rejects an unavailable backend with its reason and keeps the previous one', async (ctx) => {
    if (status('tensorflow').available) ctx.skip('tensorflow is installed here');
    await initBackend('wasm');
    const err = await initBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as BackendUnavailableError).reason).toMatch(/not installed/);
    expect(tf.getBackend()).toBe('wasm');
    expect(activeBackend()).toBe('wasm');
  });

  it('gives a clear reason when WebGPU cannot start', async () => {
    await initBackend('cpu');
    shutdownBackends();
    const saved = process.env.CLUSTERBENCH_DAWN_FLAGS;
    process.env.CLUSTERBENCH_DAWN_FLAGS = 'backend=no-such-backend';
    try {
      const err = await initBackend('webgpu').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect((err as Error).message).toMatch(/webgpu.*no WebGPU adapter.*no-such-backend/);
      expect(tf.getBackend()).toBe('cpu');
    } finally {
      if (saved === undefined) delete process.env.CLUSTERBENCH_DAWN_FLAGS;
      else process.env.CLUSTERBENCH_DAWN_FLAGS = saved;
      shutdownBackends();
    }
  });
});

describe('backend names', () => {
  it('come from one list: the --backend choices, the concrete backends and what the probe reports', () => {
    expect(paramChoices('backend')).toEqual([...BACKEND_NAMES]);
    expect(CONCRETE_BACKENDS).toEqual(BACKEND_NAMES.filter((name) => name !== 'auto'));
    expect(statuses.map((s) => s.name)).toEqual(CONCRETE_BACKENDS);
  });
});

describe('auto selection', () => {
  // Injected timings: the logic is tested without spending seconds per backend.
  function fakeMeasure(ips: Partial<Record<ConcreteBackendName, number | Error>>) {
    const calls: ConcreteBackendName[] = [];
    const fn: MeasureFn = async (name) => {
      calls.push(name);
      const v = ips[name];
      if (v instanceof Error) throw v;
      if (v === undefined) throw new Error(`${name} is not timed in this test`);
      return v;
    };
    return { fn, calls };
  }

  it('never picks a software adapter nor cpu while wasm works, even if they are measured faster', async () => {
    const cachePath = join(dir, 'sw.json');
    const { fn, calls } = fakeMeasure({ webgpu: 1e6, cpu: 1e5, wasm: 100 });
    const sel = await selectAutoBackend({ cachePath, measureFn: fn, gpuAdapter: { name: 'llvmpipe (fake)', software: true } });
    expect(sel.info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(calls).not.toContain('webgpu');
    expect(calls).not.toContain('cpu');
    expect(sel.entry.results.find((r) => r.name === 'webgpu')).toMatchObject({ software: true });
    expect(sel.info.imagesPerSec).toBe(100);
  });

  it('falls back to the fastest of software WebGPU / cpu only when nothing faster can train', async () => {
    const cachePath = join(dir, 'fallback.json');
    const { fn, calls } = fakeMeasure({ wasm: new Error("Kernel 'Conv2DBackpropFilter' not registered"), cpu: 3 });
    const sel = await selectAutoBackend({ cachePath, measureFn: fn, gpuAdapter: null });
    expect(calls.filter((n) => n !== 'tensorflow')).toEqual(['wasm', 'cpu']);
    expect(sel.info.name).toBe('cpu');
    expect(sel.entry.results.find((r) => r.name === 'wasm')).toMatchObject({
      available: false,
      reason: expect.stringMatching(/training failed/),
    });
  });

  it('picks a hardware GPU when it is the fastest', async (ctx) => {
    if (!status('webgpu').available) ctx.skip('no WebGPU adapter to activate');
    const cachePath = join(dir, 'hw.json');
    // Pretend the adapter is hardware (on this machine it is llvmpipe, which still activates).
    const { fn } = fakeMeasure({ webgpu: 5000, wasm: 100 });
    const sel = await selectAutoBackend({ cachePath, measureFn: fn, gpuAdapter: { name: 'Fake GPU', software: false } });
    expect(sel.info.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    await initBackend('cpu');
    shutdownBackends();
  });

  it('writes the calibration cache, reuses it, and invalidates it when the key changes', async () => {
    const cachePath = join(dir, 'cache.json');
    const gpuAdapter = { name: 'llvmpipe (fake)', software: true };
    const first = fakeMeasure({ wasm: 120 });
    const a = await selectAutoBackend({ cachePath, measureFn: first.fn, gpuAdapter });
    expect(a.fromCache).toBe(false);
    expect(first.calls).toContain('wasm');
    const key = calibrationKey(gpuAdapter.name, wasmThreadsWanted());
    expect(readCalibration(cachePath, key)).toMatchObject({ chosen: 'wasm', imagesPerSec: 120 });

    // Same key: reused, nothing measured.
    const second = fakeMeasure({ wasm: 999 });
    const b = await selectAutoBackend({ cachePath, measureFn: second.fn, gpuAdapter });
    expect(b.fromCache).toBe(true);
    expect(second.calls).toEqual([]);
    expect(b.info).toMatchObject({ name: 'wasm', imagesPerSec: 120, calibration: 'cached' });
    expect(activeBackendInfo()).toMatchObject({ name: 'wasm', imagesPerSec: 120 });

    // An installed backend version changes: invalidated.
    const file = JSON.parse(readFileSync(cachePath, 'utf8'));
    file.entries[key.hostname].key.versions['@tensorflow/tfjs-backend-wasm'] = '0.0.1';
    writeFileSync(cachePath, JSON.stringify(file));
    const third = fakeMeasure({ wasm: 130 });
    const c = await selectAutoBackend({ cachePath, measureFn: third.fn, gpuAdapter });
    expect(c.fromCache).toBe(false);
    expect(third.calls).toContain('wasm');
    expect(readCalibration(cachePath, key)?.imagesPerSec).toBe(130);

    // The GPU adapter changes: invalidated.
    const fourth = fakeMeasure({ wasm: 140 });
    const d = await selectAutoBackend({ cachePath, measureFn: fourth.fn, gpuAdapter: { name: 'another adapter', software: true } });
    expect(d.fromCache).toBe(false);
    expect(readCalibrationEntry(cachePath)?.key.gpuAdapter).toBe('another adapter');

    // --recalibrate: measured again although the key matches.
    const fifth = fakeMeasure({ wasm: 150 });
    const e = await selectAutoBackend({
      cachePath,
      measureFn: fifth.fn,
      gpuAdapter: { name: 'another adapter', software: true },
      recalibrate: true,
    });
    expect(e.fromCache).toBe(false);
    expect(e.info.imagesPerSec).toBe(150);
  });

  it('recalibrates when a hand-edited cache names a backend that does not exist, saying why', async () => {
    const cachePath = join(dir, 'tampered.json');
    const gpuAdapter = { name: 'llvmpipe (fake)', software: true };
    await selectAutoBackend({ cachePath, measureFn: fakeMeasure({ wasm: 120 }).fn, gpuAdapter });
    const file = JSON.parse(readFileSync(cachePath, 'utf8'));
    const host = calibrationKey(gpuAdapter.name, wasmThreadsWanted()).hostname;
    file.entries[host].chosen = 'toString';
    writeFileSync(cachePath, JSON.stringify(file));
    const messages: string[] = [];
    const again = fakeMeasure({ wasm: 130 });
    const sel = await selectAutoBackend({ cachePath, measureFn: again.fn, gpuAdapter, onProgress: (m) => messages.push(m) });
    expect(sel).toMatchObject({ fromCache: false, info: { name: 'wasm', imagesPerSec: 130 } });
    expect(messages).toContain(
      "auto: cached choice toString no longer starts (Backend 'toString' is not available: unknown backend); recalibrating",
    );
  });

  it('really calibrates here: picks wasm, records its throughput, and initBackend reuses the cache', async () => {
    const cachePath = join(dir, 'real.json');
    const messages: string[] = [];
    expect(await initBackend('auto', { cachePath, onProgress: (m) => messages.push(m) })).toBe('wasm');
    const info = activeBackendInfo()!;
    expect(info).toMatchObject({ name: 'wasm', calibration: 'measured' });
    expect(info.imagesPerSec).toBeGreaterThan(10);
    expect(messages.some((m) => /chose wasm/.test(m))).toBe(true);

    // The second time nothing is measured: no calibration message, the cached figure.
    const again: string[] = [];
    expect(await initBackend('auto', { cachePath, onProgress: (m) => again.push(m) })).toBe('wasm');
    expect(activeBackendInfo()).toMatchObject({ calibration: 'cached', imagesPerSec: info.imagesPerSec });
    expect(again).toEqual([expect.stringMatching(/^auto: wasm \(cached calibration from /)]);

    // An explicit backend picks its figure up from the same cache.
    await initBackend('cpu', { cachePath });
    await initBackend('wasm', { cachePath });
    expect(activeBackendInfo()).toMatchObject({ name: 'wasm', imagesPerSec: info.imagesPerSec, calibration: 'cached' });
  });
});

describe('numerical agreement', () => {
  it('trains the calibration network (the study conv autoencoder) to the same losses on every available backend', async () => {
    const config = { seed: 7, learningRate: 1e-2 };
    // a few small steps: the study network at full size is slow on the cpu backend (JavaScript kernels)
    const steps = 3;
    const batch = 2;
    const losses: Partial<Record<ConcreteBackendName, number[]>> = {};
    for (const name of ['cpu', 'wasm', 'webgpu', 'tensorflow'] as const) {
      if (!status(name).available) continue;
      await initBackend(name);
      losses[name] = await trainLossSequence(steps, batch, config);
    }
    await initBackend('cpu');
    shutdownBackends();
    const ref = losses.cpu!;
    expect(ref).toHaveLength(steps);
    for (const l of ref) expect(Number.isFinite(l) && l > 0).toBe(true);
    expect(ref[steps - 1]).toBeLessThan(ref[0]);
    expect(Object.keys(losses).length).toBeGreaterThanOrEqual(2);
    for (const [name, seq] of Object.entries(losses)) {
      for (let i = 0; i < steps; i++) {
        const rel = Math.abs(seq![i] - ref[i]) / Math.abs(ref[i]);
        expect(rel, `${name} step ${i}: ${seq![i]} vs cpu ${ref[i]}`).toBeLessThan(1e-3);
      }
    }
  });
});

describe('tensorflow backend loading (simulated tfjs-node installs)', () => {
  // libtensorflow cannot be installed here, so a fake @tensorflow/tfjs-node stands in for it: like the real one
  // it require()s @tensorflow/tfjs, registers a 'tensorflow' backend (here: the cpu kernels) and calls
  // tf.setBackend('tensorflow') on import.
  const FAKE_TFJS_NODE = `
const tf = require('@tensorflow/tfjs');
const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu');
for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
class FakeNodeBackend extends MathBackendCPU {}
tf.registerBackend('tensorflow', () => { const b = new FakeNodeBackend(); b.isUsingGpuDevice = false; b.isGPUPackage = false; return b; }, 3);
if (!tf.setBackend('tensorflow')) throw new Error('Could not initialize TensorFlow backend.');
`;
  const root = join(process.cwd(), 'node_modules', '@tensorflow');
  function write(path: string, text: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  function fixture(name: string, opts: { mismatchedGpu?: boolean; tfjsNode?: boolean }): string {
    const base = join(dir, name);
    const nm = join(base, 'node_modules', '@tensorflow');
    mkdirSync(nm, { recursive: true });
    for (const p of ['tfjs', 'tfjs-core', 'tfjs-backend-cpu']) symlinkSync(join(root, p), join(nm, p), 'dir');
    if (opts.mismatchedGpu) {
      // tfjs-node-gpu with its own (older) @tensorflow/tfjs nested: npm does this when versions differ.
      const gpu = join(nm, 'tfjs-node-gpu');
      write(join(gpu, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', version: '4.10.0', main: 'index.js' }));
      write(join(gpu, 'index.js'), 'throw new Error("must not be imported");');
      write(join(gpu, 'node_modules/@tensorflow/tfjs/package.json'), JSON.stringify({ name: '@tensorflow/tfjs', version: '4.10.0' }));
      write(
        join(gpu, 'node_modules/@tensorflow/tfjs-core/package.json'),
        JSON.stringify({ name: '@tensorflow/tfjs-core', version: '4.10.0' }),
      );
    }
    if (opts.tfjsNode) {
      write(
        join(nm, 'tfjs-node/package.json'),
        JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0-fake', main: 'index.js' }),
      );
      write(join(nm, 'tfjs-node/index.js'), FAKE_TFJS_NODE);
    }
    return join(base, 'entry.js');
  }

  it('refuses a tfjs-node-gpu whose tfjs-core differs from ours, with the reason', async () => {
    const from = fixture('gpu-mismatch', { mismatchedGpu: true });
    const err = await registerTensorflowBackend({ resolveFrom: from }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /tfjs-node-gpu 4\.10\.0 would register into @tensorflow\/tfjs-core 4\.10\.0, not Clusterbench's 4\.22/,
    );
  });

  it('falls back to tfjs-node, registers into our tfjs-core, restores the active backend, then activates', async () => {
    const from = fixture('node', { mismatchedGpu: true, tfjsNode: true });
    await initBackend('wasm');
    try {
      const pkg = await registerTensorflowBackend({ resolveFrom: from });
      expect(pkg).toMatchObject({ name: '@tensorflow/tfjs-node', version: '4.22.0-fake' });
      expect(tf.getBackend()).toBe('wasm'); // its import switched to 'tensorflow'; we switched back
      expect(await initBackend('tensorflow')).toBe('tensorflow');
      expect(activeBackendInfo()?.device).toBe('CPU (libtensorflow, tfjs-node 4.22.0-fake)');
      const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
      expect(Array.from(await y.data())).toEqual([11]);
      y.dispose();
      expect(await initBackend('wasm')).toBe('wasm');
    } finally {
      await initBackend('wasm');
      if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
    }
  });
});
