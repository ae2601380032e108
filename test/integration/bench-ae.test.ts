import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAeArgs } from '../../bench/ae';
import { countGpuWork, countsBetween } from '../../bench/gpu-counters';
import { initBackend, probeBackends, shutdownBackends, tf } from '../../src-main/engine/backend/index';
import { defaultWasmThreads } from '../../src-main/engine/backend/wasm-threads';
import { repoRoot, runCommand } from '../helpers/cli';
import { recordSkip, skipUnless } from '../helpers/prereqs';

// `npm run bench -- ae`: its options, its --json output, and its WebGPU counter (bench/gpu-counters.ts) on a known
// small program, on whatever adapter Dawn finds (Mesa's llvmpipe on GPU-less machines).
afterAll(() => shutdownBackends());

describe('bench ae options', () => {
  it("defaults to the conv model, the app's wasm thread count and the model's batch; rejects unknown models and backends", () => {
    expect(parseAeArgs([])).toMatchObject({
      model: 'conv',
      n: 4096,
      epochs: 2,
      wasmThreads: [defaultWasmThreads()],
      json: false,
      profile: false,
      reference: true,
    });
    expect(parseAeArgs([]).backends).toBeUndefined();
    expect(parseAeArgs(['--model=dense', '--backends', 'webgpu,wasm', '--wasm-threads', '1,2', '--json', '--profile'])).toMatchObject({
      model: 'dense',
      backends: ['webgpu', 'wasm'],
      wasmThreads: [1, 2],
      json: true,
      profile: true,
    });
    expect(() => parseAeArgs(['--model', 'vae'])).toThrow('--model expects one of conv, dense, got vae');
    expect(() => parseAeArgs(['--backends', 'wasm,gpu'])).toThrow('--backends expects one of wasm, webgpu, cpu, got gpu');
  });
});

describe.skipIf(skipUnless('fashionMnist'))('bench ae --json', () => {
  it('prints exactly one JSON object on stdout: model, batch, results with threads, reference', async () => {
    const out = await runCommand(process.execPath, [
      '--import',
      'tsx',
      join(repoRoot, 'bench/index.ts'),
      'ae',
      '--n',
      '256',
      '--epochs',
      '1',
      '--backends',
      'wasm',
      '--wasm-threads',
      '1',
      '--json',
      '--no-reference',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(out.stdout);
    expect(json).toMatchObject({ model: 'conv', batch: 128, reference: null, results: [{ backend: 'wasm', threads: 1 }] });
    expect(json.results[0].imagesPerSecond).toBeGreaterThan(0);
    expect(json.results[0].loss).toBeGreaterThan(0);
    expect(out.stderr).toMatch(/wasm ×1: epoch 2/);
  });
});

describe('WebGPU work counter', () => {
  it('counts one dispatch per tf.add, the submits and one readback, and restores the device', async (ctx) => {
    const gpu = (await probeBackends()).find((b) => b.name === 'webgpu')!;
    if (!gpu.available) ctx.skip(recordSkip(`no WebGPU adapter for the dispatch counter test (${gpu.reason})`));
    await initBackend('webgpu');
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const methods = ['createCommandEncoder', 'createBuffer', 'createBindGroup'].map(
      (m) => (device as unknown as Record<string, unknown>)[m],
    );
    // 4096 values: above tfjs's CPU hand-off threshold (1,000), so every add runs on the GPU
    const a = tf.fill([4096], 1);
    let sum = tf.fill([4096], 2);
    await sum.data(); // a readback first: no command encoder open when counting starts

    const k = 7;
    const counter = countGpuWork(device);
    const start = counter.snapshot();
    for (let i = 0; i < k; i++) {
      const next = tf.add(sum, a);
      sum.dispose();
      sum = next;
    }
    const queued = countsBetween(start, counter.snapshot());
    const values = await sum.data();
    const total = counter.stop();

    expect(values[0]).toBe(2 + k);
    expect(queued.dispatches).toBe(k);
    expect(queued.byProgram).toEqual({ BinaryOpProgram: k });
    expect(queued.bindGroupCreations).toBe(k);
    expect(queued.readbacks).toBe(0);
    expect(total.dispatches).toBe(k);
    expect(total.readbacks).toBe(1);
    expect(total.copies).toBe(1); // the result into a staging buffer
    expect(total.submits).toBeGreaterThanOrEqual(1);
    // stopped: the device's own methods are back, and further work is not counted
    expect(
      ['createCommandEncoder', 'createBuffer', 'createBindGroup'].map((m) => (device as unknown as Record<string, unknown>)[m]),
    ).toEqual(methods);
    await tf.add(sum, a).data();
    expect(counter.snapshot().dispatches).toBe(k);
    tf.dispose([a, sum]);
    await initBackend('cpu');
  });
});
