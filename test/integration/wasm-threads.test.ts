import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { activeBackendInfo, initBackend, setWasmThreads, tf, wasmThreadsWanted } from '../../src-main/engine/backend/index';
import { defaultWasmThreads, MAX_WASM_THREADS, parseWasmThreads, wasmThreadsFromEnv } from '../../src-main/engine/backend/wasm-threads';
import { binaryCrossEntropy, buildConvAutoencoder } from '../../src-main/engine/models/conv-autoencoder';
import { backendLabel, runHeader } from '../../src-main/cli/format';
import { EngineHost } from '../../src-main/service/worker/host';
import { repoRoot, runCli, tempHome } from '../helpers/cli';
import { syntheticPixels } from '../helpers/data-fixtures';
import { skipUnless } from '../helpers/prereqs';

// Multi-threaded wasm (src-main/engine/backend/wasm-threads.ts): one XNNPACK thread per core by default, the
// same numbers as one thread, no global patched while it starts, and nested pthread workers in the engine worker.
const THREADS = Math.max(2, defaultWasmThreads());

afterAll(() => setWasmThreads(undefined));

describe('wasm thread count', () => {
  it('defaults to one per core (at most 8); CLUSTERBENCH_WASM_THREADS and setWasmThreads override it', () => {
    expect(defaultWasmThreads()).toBe(Math.min(os.availableParallelism(), MAX_WASM_THREADS));
    expect(wasmThreadsFromEnv({})).toBeUndefined();
    expect(wasmThreadsFromEnv({ CLUSTERBENCH_WASM_THREADS: '3' })).toBe(3);
    expect(() => wasmThreadsFromEnv({ CLUSTERBENCH_WASM_THREADS: '0x2' })).toThrow(/CLUSTERBENCH_WASM_THREADS expects a whole number/);
    // Decimal only, as every number on the command line: 0x4 is not 4.
    for (const bad of ['0', '9', '1.5', 'two', ' ', '0x4', '0b11', '0o4']) {
      expect(() => parseWasmThreads(bad, '--wasm-threads'), bad).toThrow(/--wasm-threads expects a whole number of threads from 1 to 8/);
    }
    setWasmThreads(1);
    expect(wasmThreadsWanted()).toBe(1);
    setWasmThreads(undefined);
    expect(wasmThreadsWanted()).toBe(wasmThreadsFromEnv() ?? defaultWasmThreads());
  });
});

describe('threaded wasm backend', () => {
  it('starts N threads without patching globals, even while it starts, and leaves no files behind', async () => {
    const nodeOs = createRequire(import.meta.url)('node:os') as typeof os;
    const originals = { createObjectURL: URL.createObjectURL, cpus: nodeOs.cpus, esmCpus: os.cpus };
    const unchanged = () =>
      URL.createObjectURL === originals.createObjectURL && nodeOs.cpus === originals.cpus && os.cpus === originals.esmCpus;
    const scratch = mkdtempSync(join(os.tmpdir(), 'cb-wasm-threads-tmp-'));
    const tmpdirBefore = process.env.TMPDIR;
    process.env.TMPDIR = scratch; // where the pthread scripts go while the module starts
    let sawPatch = false;
    let watching = true;
    const watch = (): void => {
      if (!unchanged()) sawPatch = true;
      if (watching) setImmediate(watch);
    };
    try {
      watch();
      await initBackend('cpu');
      setWasmThreads(THREADS);
      expect(await initBackend('wasm')).toBe('wasm');
      expect(activeBackendInfo()).toMatchObject({ name: 'wasm', threads: THREADS });
      expect(activeBackendInfo()?.device).toContain(`${THREADS} threads`);
    } finally {
      watching = false;
      if (tmpdirBefore === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdirBefore;
    }
    expect(sawPatch).toBe(false);
    expect(unchanged()).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('trains the conv autoencoder to bit-identical losses and weights with 1 and N threads', async () => {
    // XNNPACK splits a convolution's or matrix product's output tiles between threads, never a sum: every
    // value is added up in the same order whatever the thread count. Clusterbench's own kernels use one thread.
    const images = Float32Array.from(syntheticPixels(256, 3), (p) => p / 255);
    const train = async (threads: number) => {
      setWasmThreads(threads);
      await initBackend('wasm');
      expect(activeBackendInfo()?.threads).toBe(threads);
      const model = buildConvAutoencoder(0);
      const optimizer = tf.train.adam(1e-2);
      const vars = model.autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
      const losses: number[] = [];
      for (let step = 0; step < 4; step++) {
        const from = (step % 2) * 128;
        const x = tf.tensor4d(images.subarray(from * 784, (from + 128) * 784), [128, 28, 28, 1]);
        const cost = optimizer.minimize(
          () => binaryCrossEntropy(x, model.autoencoder.apply(x, { training: true }) as tf.Tensor),
          true,
          vars,
        )!;
        losses.push((await cost.data())[0]);
        tf.dispose([x, cost]);
      }
      const weights = vars.map((v) => Array.from(v.dataSync()));
      optimizer.dispose();
      model.autoencoder.dispose();
      return { losses, weights };
    };
    const one = await train(1);
    const many = await train(THREADS);
    expect(one.losses[3]).toBeLessThan(one.losses[0]);
    expect(many.losses).toEqual(one.losses);
    many.weights.forEach((w, i) => expect(w, `weight ${i}`).toEqual(one.weights[i]));
  });

  it('lets the process exit by itself (the pool threads do not hold it)', () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'cb-wasm-exit-'));
    const script = join(dir, 'check.mts'); // ESM (top-level await) outside the package
    writeFileSync(
      script,
      `
import { pathToFileURL } from 'node:url';
const { initBackend, activeBackendInfo, setWasmThreads } = await import(pathToFileURL(${JSON.stringify(join(repoRoot, 'src-main/engine/backend/index.ts'))}).href);
setWasmThreads(2);
await initBackend('wasm');
console.log('THREADS ' + activeBackendInfo().threads);
`,
    );
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0); // exited in time, by itself
      expect(r.stdout).toContain('THREADS 2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CLI --wasm-threads', () => {
  it('sets the thread count (backends shows it) and refuses a count outside 1–8, from the flag or the environment', async () => {
    const env = { CLUSTERBENCH_HOME: tempHome() };
    const ok = await runCli(['--wasm-threads', '1', 'backends', '--no-measure', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).find((b: { name: string }) => b.name === 'wasm')).toMatchObject({ available: true, threads: 1 });
    const bad = await runCli(['--wasm-threads', '0', 'runs', 'list'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--wasm-threads expects a whole number of threads from 1 to 8, got "0"/);
    const badEnv = await runCli(['runs', 'list'], { ...env, CLUSTERBENCH_WASM_THREADS: '12' });
    expect(badEnv.code).not.toBe(0);
    expect(badEnv.stderr).toMatch(/CLUSTERBENCH_WASM_THREADS/);
    rmSync(env.CLUSTERBENCH_HOME, { recursive: true, force: true });
  });
});

describe.skipIf(skipUnless('fashionMnist'))('threaded wasm in the engine worker', () => {
  const home = tempHome();
  const host = new EngineHost({ dbPath: join(home, 'runs.sqlite'), wasmThreads: THREADS });
  afterAll(async () => {
    await host.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('starts its pthread workers inside the worker thread and records the thread count with the run', async () => {
    const { result } = host.submit({
      task: 'ae-kmeans',
      trainLimit: 512,
      testLimit: 256,
      epochs: 1,
      nInit: 1,
      valSplit: 0,
      backend: 'wasm',
    });
    const run = await result;
    expect(run.status).toBe('completed');
    expect(run.backend).toBe('wasm');
    expect(run.metrics?.backendThreads).toBe(THREADS);
    expect(backendLabel(run)).toBe(`wasm (${THREADS} threads)`);
    expect(runHeader(run)).toContain(`backend wasm (${THREADS} threads)`);
  });
});
