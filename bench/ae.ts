/**
 * `npm run bench -- ae [--n 4096] [--batch 128] [--epochs 2] [--backends wasm,cpu] [--wasm-threads 1,2]
 *                      [--cpu-batches 1] [--data DIR] [--profile] [--no-reference]`
 *
 * Training throughput (images/s) of the study's convolutional autoencoder on the first N Fashion-MNIST test
 * images (the reference's data), per tfjs backend: one warm-up epoch, then the best of `--epochs` timed epochs.
 * wasm runs once per XNNPACK thread count of `--wasm-threads`, each in a fresh child process (a process
 * initialises the wasm backend once; see initWasmBackendThreaded). The cpu backend (pure JS, a few images/s) is
 * timed on `--cpu-batches` batches only. Then — when Debian's /usr/bin/python3 has torch — runs
 * bench/reference/torch_ae.py (same model, PyTorch CPU, THREADS=2) on the same images in the same run and prints
 * the ratios. `--profile` prints the slowest kernels of one single-threaded wasm training step.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerCpuTrainingKernelFixes, registerWasmTrainingKernels, wasmSimdKernelsAvailable } from '../src-main/engine/backend/wasmKernels';
import { prepareWasmBackend, wasmBackendThreads } from '../src-main/engine/backend/wasmThreads';
import { loadFashionMnist } from '../src-main/engine/data/index';
import { binaryCrossEntropy, buildConvAutoencoder, trainAutoencoder } from '../src-main/engine/models/convAutoencoder';
import type { ImageSet } from '../src-main/engine/types';
import { int, intList, list, parseFlags, ReferenceFailure, referenceScript, referenceSkipped, runReference, runTagged, TORCH } from './harness';

const REFERENCE = referenceScript('torch_ae.py');

interface Options {
  n: number;
  batch: number;
  epochs: number;
  backends: string[];
  wasmThreads: number[];
  /** Internal: measure wasm with this many threads and print one JSON line (child process mode). */
  child?: number;
  cpuBatches: number;
  dataDir?: string;
  profile: boolean;
  reference: boolean;
}

const USAGE =
  'usage: npm run bench -- ae [--n 4096] [--batch 128] [--epochs 2] [--backends wasm,cpu] [--wasm-threads 1,2]\n' +
  '                           [--cpu-batches 1] [--data DIR] [--profile] [--no-reference]\n';

function parseArgs(args: string[]): Options {
  return parseFlags<Options>(
    args,
    { n: 4096, batch: 128, epochs: 2, backends: ['wasm', 'cpu'], wasmThreads: [1, 2], cpuBatches: 1, profile: false, reference: true },
    {
      '--n': (o, v, f) => (o.n = int(f, v(), 1)),
      '--batch': (o, v, f) => (o.batch = int(f, v(), 1)),
      '--epochs': (o, v, f) => (o.epochs = int(f, v(), 1)),
      '--cpu-batches': (o, v, f) => (o.cpuBatches = int(f, v(), 0)),
      '--backends': (o, v) => {
        const backends = list(v());
        const bad = backends.filter((b) => b !== 'wasm' && b !== 'cpu');
        if (backends.length === 0 || bad.length) throw new Error(`--backends expects a list of wasm, cpu; got ${bad.join(', ') || 'nothing'}`);
        o.backends = backends;
      },
      '--wasm-threads': (o, v, f) => (o.wasmThreads = intList(f, v(), 1, '--wasm-threads expects a list of thread counts, e.g. 1,2')),
      '--child-wasm-threads': (o, v, f) => (o.child = int(f, v(), 1)),
      '--data': (o, v) => (o.dataDir = v()),
      '--profile': (o) => (o.profile = true),
      '--no-reference': (o) => (o.reference = false),
    },
    USAGE,
  );
}

function firstImages(set: ImageSet, n: number): ImageSet {
  return { images: set.images.subarray(0, n * 784), labels: set.labels.subarray(0, n), count: n, height: 28, width: 28 };
}

interface Measured {
  backend: string;
  imagesPerSec: number;
  images: number;
  loss: number;
  note: string;
}

/** One warm-up epoch, then `epochs` timed ones; the best epoch's rate (like the reference's max over epochs ≥ 2). */
async function measure(backend: string, data: ImageSet, batch: number, epochs: number, label = backend): Promise<Measured> {
  await tf.setBackend(backend);
  await tf.ready();
  const model = buildConvAutoencoder(0);
  const rates: number[] = [];
  let loss = NaN;
  try {
    await trainAutoencoder(model, data, { epochs: epochs + 1, batchSize: batch, learningRate: 1e-3, valSplit: 0, patience: null, seed: 0 }, {
      onEpoch: (e) => {
        if (e.epoch > 1) rates.push(e.imagesPerSec);
        loss = e.trainLoss;
        process.stderr.write(`  ${label}: epoch ${e.epoch}${e.epoch === 1 ? ' (warm-up)' : ''} ${e.imagesPerSec.toFixed(0)} images/s, loss ${e.trainLoss.toFixed(4)}\n`);
      },
    });
  } finally {
    model.autoencoder.dispose();
  }
  return { backend: label, imagesPerSec: Math.max(...rates), images: data.count, loss, note: `best of ${epochs} epochs after a warm-up epoch` };
}

/** The cpu backend: a small warm-up batch, then `batches` full batches, each timed. */
async function measureCpu(data: ImageSet, batch: number, batches: number): Promise<Measured> {
  await tf.setBackend('cpu');
  await tf.ready();
  const model = buildConvAutoencoder(0);
  const optimizer = tf.train.adam(1e-3);
  const vars = model.autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = async (from: number, n: number): Promise<number> => {
    const x = tf.tensor4d(data.images.subarray(from * 784, (from + n) * 784), [n, 28, 28, 1]);
    const cost = optimizer.minimize(() => binaryCrossEntropy(x, model.autoencoder.apply(x, { training: true }) as tf.Tensor), true, vars)!;
    const v = (await cost.data())[0];
    tf.dispose([x, cost]);
    return v;
  };
  try {
    await step(0, Math.min(8, data.count));
    let best = 0;
    let loss = NaN;
    for (let b = 0; b < batches; b++) {
      const from = (b * batch) % Math.max(1, data.count - batch + 1);
      const t0 = performance.now();
      loss = await step(from, Math.min(batch, data.count));
      const rate = (Math.min(batch, data.count) * 1000) / (performance.now() - t0);
      best = Math.max(best, rate);
      process.stderr.write(`  cpu: batch ${b + 1}/${batches} ${rate.toFixed(1)} images/s\n`);
    }
    return { backend: 'cpu', imagesPerSec: best, images: batches * Math.min(batch, data.count), loss, note: `best of ${batches} batch(es) after a warm-up batch` };
  } finally {
    optimizer.dispose();
    model.autoencoder.dispose();
  }
}

/** Per-kernel time of one wasm training step (tf.profile), slowest first. */
async function profileWasm(data: ImageSet, batch: number): Promise<void> {
  await tf.setBackend('wasm');
  const model = buildConvAutoencoder(0);
  const optimizer = tf.train.adam(1e-3);
  const vars = model.autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.tensor4d(data.images.subarray(0, batch * 784), [batch, 28, 28, 1]);
  const step = async () => {
    const c = optimizer.minimize(() => binaryCrossEntropy(x, model.autoencoder.apply(x, { training: true }) as tf.Tensor), true, vars)!;
    await c.data();
    c.dispose();
  };
  for (let i = 0; i < 3; i++) await step();
  // minimum over a few profiled steps, per kernel call (the machine may be shared)
  let mins: number[] | null = null;
  let names: string[] = [];
  for (let r = 0; r < 5; r++) {
    const info = await tf.profile(step);
    const ks = info.kernels.filter((k) => !k.name.endsWith('__op'));
    if (!mins) {
      mins = ks.map((k) => k.kernelTimeMs as number);
      names = ks.map((k) => k.name);
    } else ks.forEach((k, i) => (mins![i] = Math.min(mins![i], k.kernelTimeMs as number)));
  }
  const agg = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  mins!.forEach((ms, i) => {
    total += ms;
    const a = agg.get(names[i]) ?? { ms: 0, calls: 0 };
    a.ms += ms;
    a.calls++;
    agg.set(names[i], a);
  });
  process.stdout.write(`\nwasm kernels of one training step (batch ${batch}, minimum of 5 profiled steps): ${total.toFixed(1)} ms\n`);
  for (const [name, a] of [...agg].sort((p, q) => q[1].ms - p[1].ms).slice(0, 14)) {
    process.stdout.write(`  ${name.padEnd(28)} ${a.ms.toFixed(2).padStart(7)} ms  ${((100 * a.ms) / total).toFixed(0).padStart(3)}%  (${a.calls} calls)\n`);
  }
  tf.dispose(x);
  optimizer.dispose();
  model.autoencoder.dispose();
}

interface TorchResult {
  img_per_s: number;
  loss: number;
  params: number;
}

/** The PyTorch reference on the first `n` test images of `dataDir`; null (with a line saying why) when it fails. */
async function runTorch(n: number, dataDir: string): Promise<TorchResult | null> {
  try {
    return await runReference<TorchResult>(REFERENCE, [], { THREADS: '2', OMP_NUM_THREADS: '2', N: String(n), FMNIST_DIR: dataDir });
  } catch (err) {
    if (!(err instanceof ReferenceFailure)) throw err;
    process.stdout.write(`  reference failed (exit ${err.code}): ${ReferenceFailure.tail(err.stderr, 3, ' | ')}\n`);
    return null;
  }
}

/** Measures wasm with `threads` XNNPACK threads in a fresh process (this script, in child mode). */
async function measureWasmInChild(threads: number, o: Options): Promise<Measured | null> {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--child-wasm-threads', String(threads), '--n', String(o.n), '--batch', String(o.batch), '--epochs', String(o.epochs)];
  if (o.dataDir) args.push('--data', o.dataDir);
  if (o.profile && threads === 1) args.push('--profile');
  const r = await runTagged<Measured>(process.execPath, args, { tag: 'AE_RESULT', inheritStderr: true, onLine: (line) => process.stdout.write(`${line}\n`) });
  if (r.code !== 0 || r.result === undefined) {
    process.stdout.write(`  wasm ×${threads}: failed (exit ${r.code})\n`);
    return null;
  }
  return r.result;
}

async function childMain(o: Options, images: ImageSet): Promise<void> {
  await prepareWasmBackend(o.child ?? 1);
  await tf.setBackend('wasm');
  const threads = wasmBackendThreads() ?? 1;
  const label = `wasm ×${threads}`;
  process.stderr.write(`  ${label}: SIMD training kernels ${wasmSimdKernelsAvailable() ? 'on' : 'off (JavaScript fallbacks)'}\n`);
  const r = await measure('wasm', images, o.batch, o.epochs, label);
  if (o.profile) await profileWasm(images, o.batch);
  process.stdout.write(`AE_RESULT ${JSON.stringify(r)}\n`);
}

export async function benchAe(args: string[]): Promise<void> {
  const o = parseArgs(args);
  registerWasmTrainingKernels();
  registerCpuTrainingKernelFixes();
  const data = await loadFashionMnist({ dir: o.dataDir, trainLimit: 0, testLimit: o.n });
  if (data.test.count < o.n) throw new Error(`only ${data.test.count} test images available, --n ${o.n} requested`);
  const images = firstImages(data.test, o.n);
  if (o.child !== undefined) {
    await childMain(o, images);
    return;
  }
  process.stdout.write(
    `Conv autoencoder (12,785 parameters) training throughput, ${o.n} Fashion-MNIST test images, batch ${o.batch}, Adam, BCE\n` +
      `${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)} (other processes slow both sides, PyTorch's 2 threads the most)\n`,
  );

  const results: Measured[] = [];
  for (const backend of o.backends) {
    if (backend === 'wasm') {
      for (const threads of o.wasmThreads) {
        const r = await measureWasmInChild(threads, o);
        if (r) results.push(r);
      }
    } else if (backend === 'cpu' && o.cpuBatches > 0) {
      results.push(await measureCpu(images, o.batch, o.cpuBatches));
    }
  }

  let torch: TorchResult | null = null;
  if (o.reference) {
    const skipped = referenceSkipped(true, TORCH);
    if (skipped) process.stdout.write(`\n${skipped}\n`);
    else {
      process.stdout.write(`\nreference: PyTorch CPU, 2 threads (${REFERENCE})\n`);
      torch = await runTorch(o.n, data.info.dir);
      if (torch) process.stdout.write(`  torch: ${torch.img_per_s} images/s, loss ${torch.loss}, ${torch.params} parameters\n`);
    }
  }

  process.stdout.write('\nbackend   images/s   vs PyTorch   measured on\n');
  for (const r of results) {
    const q = torch ? r.imagesPerSec / torch.img_per_s : NaN;
    const ratio = torch ? `${q < 0.1 ? q.toPrecision(2) : q.toFixed(2)}×` : '–';
    process.stdout.write(`${r.backend.padEnd(8)} ${r.imagesPerSec.toFixed(r.imagesPerSec < 100 ? 1 : 0).padStart(9)}   ${ratio.padStart(10)}   ${r.note}\n`);
  }
  if (torch) process.stdout.write(`${'torch'.padEnd(8)} ${String(torch.img_per_s).padStart(9)}   ${'1.00×'.padStart(10)}   best of epochs 2–3\n`);
  process.stdout.write(`load average at the end: ${loadavg()[0].toFixed(2)}\n`);
  const fastest = results.reduce<Measured | null>((a, r) => (a && a.imagesPerSec >= r.imagesPerSec ? a : r), null);
  if (fastest && torch) {
    const ratio = fastest.imagesPerSec / torch.img_per_s;
    process.stdout.write(`\nfastest: ${fastest.backend}, ${ratio.toFixed(2)}× PyTorch (target ≥ 0.5×: ${ratio >= 0.5 ? 'met' : 'NOT met'})\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchAe(process.argv.slice(2));
}
