/**
 * `npm run bench -- ae [--model conv|dense] [--backends wasm,webgpu,cpu] [--wasm-threads 1,2] [--n 4096] [--batch B]
 *                      [--epochs 2] [--cpu-batches 1] [--data DIR] [--json] [--profile] [--profile-steps 5]
 *                      [--no-reference]`
 *
 * Training throughput (images/s) of one of Clusterbench's autoencoders — the study's conv AE (`conv`, batch 128,
 * BCE) or N2D's 784-500-500-2000-10 dense AE (`dense`, batch 256, MSE) — on the first N Fashion-MNIST test images
 * (the reference's data), per tfjs backend, through the app's own training loop: one warm-up epoch, then the best
 * of `--epochs` timed epochs. wasm runs once per XNNPACK thread count of `--wasm-threads` (default: the app's, one
 * per core); webgpu runs the fused training step (src-main/engine/backend/webgpuTraining, `path: 'fused'`) and then
 * tfjs's own kernels (`path: 'tfjs'`, CLUSTERBENCH_WEBGPU_FUSED=0), and reports compute dispatches per step. Without
 * `--backends`, a software WebGPU adapter (llvmpipe…) is left out: name webgpu to time it anyway (use a small --n).
 * The pure-JS cpu backend (a few images/s) is timed on `--cpu-batches` batches only. Then — when /usr/bin/python3 has torch — the same model runs
 * in PyTorch (bench/reference/torch_ae.py) in the same run: on CUDA when the machine has it, else on the CPU with
 * the same thread counts as wasm.
 *
 * `--json`: exactly one JSON object on stdout (everything else goes to stderr):
 *   { model, batch, results: [{ backend, path?, threads?, imagesPerSecond, dispatchesPerStep?, loss }],
 *     reference: { name, device, imagesPerSecond, threads } | null }
 * `--profile`: for webgpu, `--profile-steps` fused steps counted on the device (bench/ae-fused.ts), then as many tfjs
 * steps (bench/gpu-counters.ts): dispatches by phase (forward, backward, Adam) and program, host time per dispatch,
 * submits, readbacks, buffer and bind-group creations per step; for wasm, the slowest kernels of a training step.
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { initBackend, setWasmThreads, shutdownBackends, tf } from '../src-main/engine/backend/index';
import { defaultWasmThreads } from '../src-main/engine/backend/wasm-threads';
import { webgpuAdapterSummary } from '../src-main/engine/backend/webgpu';
import { loadFashionMnist } from '../src-main/engine/data/index';
import { binaryCrossEntropy, buildConvAutoencoder, trainConvAutoencoder, CONV_AE_PARAMS } from '../src-main/engine/models/conv-autoencoder';
import {
  buildDenseAutoencoder,
  denseParamCount,
  denseReconstructionLoss,
  N2D_AE_CONFIG,
  trainDenseAutoencoder,
} from '../src-main/engine/models/dense-autoencoder';
import type { EpochEvent } from '../src-main/engine/models/trainer';
import type { ImageSet } from '../src-main/engine/types';
import { hasFusedPath, profileFused } from './ae-fused';
import { countGpuWork, countsBetween, type GpuCounts } from './gpu-counters';
import {
  choice,
  int,
  intList,
  list,
  parseFlags,
  ReferenceFailure,
  referenceScript,
  referenceSkipped,
  runReference,
  table,
  TORCH,
} from './harness';

const REFERENCE = referenceScript('torch_ae.py');
const MODELS = ['conv', 'dense'] as const;
type ModelName = (typeof MODELS)[number];
const BACKENDS = ['wasm', 'webgpu', 'cpu'] as const;
type BenchBackend = (typeof BACKENDS)[number];

interface Options {
  model: ModelName;
  n: number;
  /** Undefined: the model's own default (conv 128, dense 256). */
  batch?: number;
  epochs: number;
  /** Undefined: wasm, and webgpu unless its adapter is a software one. */
  backends?: BenchBackend[];
  wasmThreads: number[];
  cpuBatches: number;
  dataDir?: string;
  json: boolean;
  profile: boolean;
  profileSteps: number;
  reference: boolean;
}

const USAGE =
  'usage: npm run bench -- ae [--model conv|dense] [--backends wasm,webgpu,cpu] [--wasm-threads 1,2] [--n 4096] [--batch B]\n' +
  '                           [--epochs 2] [--cpu-batches 1] [--data DIR] [--json] [--profile] [--profile-steps 5] [--no-reference]\n';

export function parseAeArgs(args: string[]): Options {
  return parseFlags<Options>(
    args,
    {
      model: 'conv',
      n: 4096,
      epochs: 2,
      wasmThreads: [defaultWasmThreads()],
      cpuBatches: 1,
      json: false,
      profile: false,
      profileSteps: 5,
      reference: true,
    },
    {
      '--model': (o, v, f) => (o.model = choice(f, v(), MODELS)),
      '--n': (o, v, f) => (o.n = int(f, v(), 1)),
      '--batch': (o, v, f) => (o.batch = int(f, v(), 1)),
      '--epochs': (o, v, f) => (o.epochs = int(f, v(), 1)),
      '--cpu-batches': (o, v, f) => (o.cpuBatches = int(f, v(), 1)),
      '--backends': (o, v, f) => {
        const names = list(v());
        if (names.length === 0) throw new Error(`${f} expects a list of ${BACKENDS.join(', ')}`);
        o.backends = names.map((name) => choice(f, name, BACKENDS));
      },
      '--wasm-threads': (o, v, f) => (o.wasmThreads = intList(f, v(), 1, `${f} expects a list of thread counts, e.g. 1,2`)),
      '--data': (o, v) => (o.dataDir = v()),
      '--json': (o) => (o.json = true),
      '--profile': (o) => (o.profile = true),
      '--profile-steps': (o, v, f) => (o.profileSteps = int(f, v(), 1)),
      '--no-reference': (o) => (o.reference = false),
    },
    USAGE,
  );
}

// ---------------------------------------------------------------------------------------------- the two models

/** One model, trained through the app's training loop or step by step (profiles). */
interface BenchModel {
  name: ModelName;
  params: number;
  defaultBatch: number;
  learningRate: number;
  build(): TrainableModel;
}

interface TrainableModel {
  /** The tfjs model (the fused WebGPU step reads its layers). */
  model: tf.LayersModel;
  vars: tf.Variable[];
  /** The training loss of a batch of images [b, 784]. */
  loss(x: tf.Tensor2D): tf.Scalar;
  /** The app's training loop over `images`; onEpoch as in the app. */
  train(images: ImageSet, epochs: number, batch: number, onEpoch: (e: EpochEvent) => void): Promise<void>;
  dispose(): void;
}

const trainParams = (epochs: number, batchSize: number, learningRate: number) => ({
  epochs,
  batchSize,
  learningRate,
  valSplit: 0,
  patience: null,
  seed: 0,
});

const CONV: BenchModel = {
  name: 'conv',
  params: CONV_AE_PARAMS,
  defaultBatch: 128,
  learningRate: 1e-3,
  build() {
    const model = buildConvAutoencoder(0);
    const ae = model.autoencoder;
    return {
      model: ae,
      vars: ae.trainableWeights.map((w) => w.read() as tf.Variable),
      loss: (x) =>
        tf.tidy(() => {
          const images = tf.reshape(x, [-1, 28, 28, 1]);
          return binaryCrossEntropy(images, ae.apply(images, { training: true }) as tf.Tensor);
        }),
      train: async (images, epochs, batch, onEpoch) =>
        void (await trainConvAutoencoder(model, images, trainParams(epochs, batch, CONV.learningRate), { onEpoch })),
      dispose: () => ae.dispose(),
    };
  },
};

const DENSE: BenchModel = {
  name: 'dense',
  params: denseParamCount(N2D_AE_CONFIG),
  defaultBatch: 256,
  learningRate: 1e-3,
  build() {
    const model = buildDenseAutoencoder(N2D_AE_CONFIG, 0);
    return {
      model: model.autoencoder,
      vars: model.autoencoder.trainableWeights.map((w) => w.read() as tf.Variable),
      loss: (x) => denseReconstructionLoss(model, x),
      train: async (images, epochs, batch, onEpoch) =>
        void (await trainDenseAutoencoder(
          model,
          { data: images.images, rows: images.count, cols: 784 },
          trainParams(epochs, batch, DENSE.learningRate),
          { onEpoch },
        )),
      dispose: () => model.autoencoder.dispose(),
    };
  },
};

// ---------------------------------------------------------------------------------------------- measuring

interface Measured {
  backend: BenchBackend;
  /** webgpu: the fused training step (backend/webgpuTraining), or tfjs's kernels (CLUSTERBENCH_WEBGPU_FUSED=0). */
  path?: WebgpuPath;
  threads?: number;
  imagesPerSecond: number;
  dispatchesPerStep?: number;
  loss: number;
  note: string;
}

/** Where progress and tables go: stdout, or stderr under --json (stdout then carries only the JSON object). */
type Say = (line: string) => void;

type WebgpuPath = 'fused' | 'tfjs';

const gpuDevice = (): GPUDevice => (tf.backend() as unknown as { device: GPUDevice }).device;

function firstImages(set: ImageSet, n: number): ImageSet {
  return { images: set.images.subarray(0, n * 784), labels: set.labels.subarray(0, n), count: n, height: 28, width: 28 };
}

/**
 * One warm-up epoch, then `epochs` timed ones; the best epoch's rate (like the reference's max over epochs ≥ 2).
 * On webgpu, the compute dispatches of the timed epochs are counted (per step: their mean).
 */
async function measureTraining(
  model: BenchModel,
  backend: BenchBackend,
  images: ImageSet,
  batch: number,
  epochs: number,
  say: Say,
  { threads, path }: { threads?: number; path?: WebgpuPath } = {},
): Promise<Measured> {
  const label = threads !== undefined ? `${backend} ×${threads}` : path ? `${backend} (${path})` : backend;
  const trainable = model.build();
  const fusedSetting = process.env.CLUSTERBENCH_WEBGPU_FUSED;
  if (path === 'tfjs') process.env.CLUSTERBENCH_WEBGPU_FUSED = '0';
  const rates: number[] = [];
  let loss = NaN;
  let counter: ReturnType<typeof countGpuWork> | undefined;
  let counted: GpuCounts | undefined;
  try {
    await trainable.train(images, epochs + 1, batch, (e) => {
      if (e.epoch > 1) rates.push(e.imagesPerSec);
      loss = e.trainLoss;
      say(
        `  ${label}: epoch ${e.epoch}${e.epoch === 1 ? ' (warm-up)' : ''} ${e.imagesPerSec.toFixed(0)} images/s, loss ${e.trainLoss.toFixed(4)}`,
      );
      // counting starts right after the warm-up epoch's loss was read back (no command encoder open)
      if (e.epoch === 1 && backend === 'webgpu') counter = countGpuWork(gpuDevice());
    });
  } finally {
    counted = counter?.stop();
    trainable.dispose();
    if (fusedSetting === undefined) delete process.env.CLUSTERBENCH_WEBGPU_FUSED;
    else process.env.CLUSTERBENCH_WEBGPU_FUSED = fusedSetting;
  }
  const steps = epochs * Math.ceil(images.count / batch);
  const best = Math.max(...rates);
  return {
    backend,
    ...(path ? { path } : {}),
    ...(threads !== undefined ? { threads } : {}),
    imagesPerSecond: best < 100 ? Math.round(best * 10) / 10 : Math.round(best),
    ...(counted ? { dispatchesPerStep: Math.round((counted.dispatches / steps) * 10) / 10 } : {}),
    loss,
    note: `best of ${epochs} epoch${epochs === 1 ? '' : 's'} after a warm-up epoch`,
  };
}

/** The cpu backend: one small warm-up batch, then `batches` full batches, each timed. */
async function measureCpu(model: BenchModel, images: ImageSet, batch: number, batches: number, say: Say): Promise<Measured> {
  const trainable = model.build();
  const optimizer = tf.train.adam(model.learningRate);
  const step = async (from: number, n: number): Promise<number> => {
    const x = tf.tensor2d(images.images.subarray(from * 784, (from + n) * 784), [n, 784]);
    const cost = optimizer.minimize(() => trainable.loss(x), true, trainable.vars)!;
    const v = (await cost.data())[0];
    tf.dispose([x, cost]);
    return v;
  };
  try {
    await step(0, Math.min(8, images.count));
    const n = Math.min(batch, images.count);
    let best = 0;
    let loss = NaN;
    for (let b = 0; b < batches; b++) {
      const t0 = performance.now();
      loss = await step((b * n) % Math.max(1, images.count - n + 1), n);
      const rate = (n * 1000) / (performance.now() - t0);
      best = Math.max(best, rate);
      say(`  cpu: batch ${b + 1}/${batches} ${rate.toFixed(1)} images/s`);
    }
    return {
      backend: 'cpu',
      imagesPerSecond: Math.round(best * 10) / 10,
      loss,
      note: `best of ${batches} batch(es) after a warm-up batch`,
    };
  } finally {
    optimizer.dispose();
    trainable.dispose();
  }
}

// ---------------------------------------------------------------------------------------------- profiles

/** Counts and host time of one training step, phase by phase. */
interface StepProfile {
  forward: GpuCounts;
  backward: GpuCounts;
  adam: GpuCounts;
  /** The loss read back: its copy, submit and mapAsync. */
  readback: GpuCounts;
  /** Host time until the step's work is queued (before the readback waits for the GPU). */
  hostMs: number;
  totalMs: number;
}

/** One training step as optimizer.minimize does it (variableGrads, then applyGradients), counted by phase. */
async function profiledStep(
  trainable: TrainableModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor2D,
  counter: ReturnType<typeof countGpuWork>,
): Promise<StepProfile> {
  const t0 = performance.now();
  const start = counter.snapshot();
  let forwardEnd = start;
  const { value, grads } = tf.variableGrads(() => {
    const loss = trainable.loss(x);
    forwardEnd = counter.snapshot();
    return loss;
  }, trainable.vars);
  const backwardEnd = counter.snapshot();
  optimizer.applyGradients(grads);
  const adamEnd = counter.snapshot();
  const hostMs = performance.now() - t0;
  await value.data();
  const end = counter.snapshot();
  tf.dispose([value, ...Object.values(grads)]);
  return {
    forward: countsBetween(start, forwardEnd),
    backward: countsBetween(forwardEnd, backwardEnd),
    adam: countsBetween(backwardEnd, adamEnd),
    readback: countsBetween(adamEnd, end),
    hostMs,
    totalMs: performance.now() - t0,
  };
}

const PHASES = ['forward', 'backward', 'adam', 'readback'] as const;

/** `--profile` on webgpu: `steps` counted training steps after two warm-up steps. */
async function profileWebgpu(model: BenchModel, images: ImageSet, batch: number, steps: number, say: Say): Promise<void> {
  const trainable = model.build();
  const optimizer = tf.train.adam(model.learningRate, 0.9, 0.999, 1e-7);
  const x = tf.tensor2d(images.images.subarray(0, batch * 784), [batch, 784]);
  try {
    for (let i = 0; i < 2; i++) {
      const cost = optimizer.minimize(() => trainable.loss(x), true, trainable.vars)!;
      await cost.data(); // also: no command encoder open when counting starts
      cost.dispose();
    }
    const profiles: StepProfile[] = [];
    for (let i = 0; i < steps; i++) {
      const counter = countGpuWork(gpuDevice());
      try {
        profiles.push(await profiledStep(trainable, optimizer, x, counter));
      } finally {
        counter.stop();
      }
    }
    sayWebgpuProfile(profiles, batch, say);
  } finally {
    tf.dispose(x);
    optimizer.dispose();
    trainable.dispose();
  }
}

function sayWebgpuProfile(profiles: StepProfile[], batch: number, say: Say): void {
  const per = (f: (p: StepProfile) => number): number => profiles.reduce((s, p) => s + f(p), 0) / profiles.length;
  const perStep = (key: Exclude<keyof GpuCounts, 'byProgram'>): number => per((p) => PHASES.reduce((s, ph) => s + p[ph][key], 0));
  const dispatches = perStep('dispatches');
  const hostMs = per((p) => p.hostMs);
  const queuedSubmitMs = per((p) => PHASES.slice(0, 3).reduce((s, ph) => s + p[ph].submitMs, 0));
  say(`\nwebgpu: one training step (batch ${batch}), mean of ${profiles.length} steps after 2 warm-up steps`);
  say(
    `  dispatches ${dispatches.toFixed(0)}, submits ${perStep('submits').toFixed(1)}, readbacks (mapAsync) ${perStep('readbacks').toFixed(1)}, buffer writes ${perStep('writeBuffers').toFixed(1)}`,
  );
  say(
    `  created per step: buffers ${perStep('bufferCreations').toFixed(1)}, bind groups ${perStep('bindGroupCreations').toFixed(1)}, pipelines ${perStep('pipelineCreations').toFixed(1)}`,
  );
  say(
    `  host time until the step is queued: ${hostMs.toFixed(1)} ms, of which ${queuedSubmitMs.toFixed(1)} ms inside queue.submit ` +
      `(a software or OpenGL adapter runs the work there); the rest, ${((1000 * (hostMs - queuedSubmitMs)) / dispatches).toFixed(0)} µs per dispatch, is tfjs and Dawn on the host`,
  );
  say(`  the whole step with the loss readback: ${per((p) => p.totalMs).toFixed(1)} ms`);
  const rows = PHASES.map((phase) => [
    phase,
    ...(['dispatches', 'bindGroupCreations', 'bufferCreations', 'submits', 'readbacks'] as const).map((k) =>
      per((p) => p[phase][k]).toFixed(0),
    ),
  ]);
  say(table(['phase', 'dispatches', 'bind groups', 'buffers', 'submits', 'readbacks'], rows));
  for (const phase of PHASES) {
    const programs = new Map<string, number>();
    for (const p of profiles)
      for (const [name, n] of Object.entries(p[phase].byProgram)) programs.set(name, (programs.get(name) ?? 0) + n / profiles.length);
    if (programs.size === 0) continue;
    say(
      `  ${phase}: ${[...programs]
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name.replace(/Program$/, '')} ${n.toFixed(0)}`)
        .join(', ')}`,
    );
  }
}

/** `--profile` on wasm: per-kernel time of one training step (tf.profile), slowest first. */
async function profileWasm(model: BenchModel, images: ImageSet, batch: number, say: Say): Promise<void> {
  const trainable = model.build();
  const optimizer = tf.train.adam(model.learningRate);
  const x = tf.tensor2d(images.images.subarray(0, batch * 784), [batch, 784]);
  const step = async () => {
    const c = optimizer.minimize(() => trainable.loss(x), true, trainable.vars)!;
    await c.data();
    c.dispose();
  };
  try {
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
    const byKernel = new Map<string, { ms: number; calls: number }>();
    let total = 0;
    mins!.forEach((ms, i) => {
      total += ms;
      const a = byKernel.get(names[i]) ?? { ms: 0, calls: 0 };
      a.ms += ms;
      a.calls++;
      byKernel.set(names[i], a);
    });
    say(`\nwasm kernels of one training step (batch ${batch}, minimum of 5 profiled steps): ${total.toFixed(1)} ms`);
    const rows = [...byKernel].sort((p, q) => q[1].ms - p[1].ms).slice(0, 14);
    say(
      table(
        ['kernel', 'ms', 'share', 'calls'],
        rows.map(([name, a]) => [name, a.ms.toFixed(2), `${((100 * a.ms) / total).toFixed(0)}%`, String(a.calls)]),
      ),
    );
  } finally {
    tf.dispose(x);
    optimizer.dispose();
    trainable.dispose();
  }
}

// ---------------------------------------------------------------------------------------------- the reference

interface TorchResult {
  img_per_s: number;
  loss: number;
  params: number;
  device: 'cuda' | 'cpu';
  device_name: string;
  threads: number;
}

interface Reference {
  name: string;
  device: string;
  imagesPerSecond: number;
  threads: number;
}

/** PyTorch on the same images: on CUDA when there is one (once), else once per wasm thread count. */
async function runTorch(
  model: ModelName,
  n: number,
  batch: number,
  threadCounts: number[],
  dataDir: string,
  say: Say,
): Promise<Reference[]> {
  const out: Reference[] = [];
  for (const threads of [...new Set(threadCounts)].sort((a, b) => b - a)) {
    try {
      const r = await runReference<TorchResult>(
        REFERENCE,
        [],
        {
          MODEL: model,
          N: String(n),
          BATCH: String(batch),
          THREADS: String(threads),
          OMP_NUM_THREADS: String(threads),
          FMNIST_DIR: dataDir,
        },
        say,
      );
      say(`  torch (${r.device_name}): ${r.img_per_s} images/s, loss ${r.loss}, ${r.params.toLocaleString('en')} parameters`);
      out.push({ name: 'PyTorch', device: r.device_name, imagesPerSecond: r.img_per_s, threads: r.threads });
      if (r.device === 'cuda') break;
    } catch (err) {
      if (!(err instanceof ReferenceFailure)) throw err;
      say(`  reference failed (exit ${err.code}): ${ReferenceFailure.tail(err.stderr, 3, ' | ')}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- the run

/** The backends to time: as given, else wasm and — on a hardware adapter only — webgpu. */
async function chooseBackends(o: Options, say: Say): Promise<BenchBackend[]> {
  if (o.backends) return o.backends;
  const adapter = await webgpuAdapterSummary();
  if (adapter && !adapter.software) return ['wasm', 'webgpu'];
  say(
    adapter
      ? `(webgpu left out: ${adapter.name} is a software adapter; --backends wasm,webgpu times it anyway)`
      : '(webgpu left out: no adapter)',
  );
  return ['wasm'];
}

/**
 * webgpu: the fused training step and — for the ratio, in the same run — tfjs's own kernels
 * (CLUSTERBENCH_WEBGPU_FUSED=0); a model without a fused path is timed on tfjs's kernels only.
 */
async function measureWebgpu(model: BenchModel, o: Options, images: ImageSet, batch: number, say: Say): Promise<Measured[]> {
  const probe = model.build();
  const fused = hasFusedPath(probe.model);
  probe.dispose();
  const results: Measured[] = [];
  for (const path of fused ? (['fused', 'tfjs'] as const) : (['tfjs'] as const)) {
    results.push(await measureTraining(model, 'webgpu', images, batch, o.epochs, say, { path }));
  }
  if (fused) {
    const ratio = results[0].imagesPerSecond / results[1].imagesPerSecond;
    say(`  webgpu: the fused step trains ${ratio.toFixed(2)}× as fast as tfjs's kernels on this adapter (same run)`);
  }
  if (o.profile) {
    if (fused) {
      const trainable = model.build();
      try {
        await profileFused(gpuDevice(), trainable.model, images.images, batch, model.learningRate, o.profileSteps, say);
      } finally {
        trainable.dispose();
      }
    }
    say(`\nwebgpu through tfjs's kernels (CLUSTERBENCH_WEBGPU_FUSED=0):`);
    await profileWebgpu(model, images, batch, o.profileSteps, say);
  }
  return results;
}

async function measureAll(model: BenchModel, o: Options, images: ImageSet, batch: number, say: Say): Promise<Measured[]> {
  const results: Measured[] = [];
  for (const backend of await chooseBackends(o, say)) {
    if (backend === 'wasm') {
      for (const threads of o.wasmThreads) {
        setWasmThreads(threads);
        await initBackend('wasm');
        results.push(await measureTraining(model, 'wasm', images, batch, o.epochs, say, { threads }));
      }
      if (o.profile) await profileWasm(model, images, batch, say);
    } else if (backend === 'webgpu') {
      await initBackend('webgpu', { onProgress: say });
      results.push(...(await measureWebgpu(model, o, images, batch, say)));
    } else {
      await initBackend('cpu');
      results.push(await measureCpu(model, images, batch, o.cpuBatches, say));
    }
  }
  return results;
}

function sayResults(results: Measured[], references: Reference[], say: Say): void {
  const torchFor = (threads?: number) => references.find((r) => r.threads === threads) ?? references[0];
  const rows = results.map((r) => {
    const torch = torchFor(r.threads);
    const ratio = torch ? r.imagesPerSecond / torch.imagesPerSecond : NaN;
    return [
      r.path ? `${r.backend} (${r.path})` : r.backend,
      r.threads === undefined ? '' : String(r.threads),
      r.imagesPerSecond.toFixed(r.imagesPerSecond < 100 ? 1 : 0),
      torch ? `${ratio < 0.1 ? ratio.toPrecision(2) : ratio.toFixed(2)}× (${torch.device})` : '–',
      r.dispatchesPerStep === undefined ? '' : String(r.dispatchesPerStep),
      r.loss.toFixed(4),
      r.note,
    ];
  });
  for (const t of references)
    rows.push([
      `PyTorch`,
      t.device.startsWith('CPU') ? String(t.threads) : '',
      String(t.imagesPerSecond),
      '1.00×',
      '',
      '',
      `${t.device}, best of epochs 2–3`,
    ]);
  say(`\n${table(['backend', 'threads', 'images/s', 'vs PyTorch', 'dispatches/step', 'loss', 'measured'], rows)}`);
}

export async function benchAe(args: string[]): Promise<void> {
  const o = parseAeArgs(args);
  const say: Say = (line) => (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  const model = o.model === 'conv' ? CONV : DENSE;
  const batch = o.batch ?? model.defaultBatch;
  const data = await loadFashionMnist({ dir: o.dataDir, trainLimit: 0, testLimit: o.n });
  if (data.test.count < o.n) throw new Error(`only ${data.test.count} test images available, --n ${o.n} requested`);
  const images = firstImages(data.test, o.n);
  say(
    `${o.model === 'conv' ? 'Conv' : 'Dense (N2D)'} autoencoder (${model.params.toLocaleString('en')} parameters) training throughput, ${o.n} Fashion-MNIST test images, batch ${batch}, Adam\n` +
      `${cpus().length} CPUs (${cpus()[0]?.model?.trim() ?? 'unknown'}), load average ${loadavg()[0].toFixed(2)} (other processes slow both sides)`,
  );
  try {
    const results = await measureAll(model, o, images, batch, say);
    let references: Reference[] = [];
    if (o.reference) {
      const skipped = referenceSkipped(true, TORCH);
      if (skipped) say(`\n${skipped}`);
      else {
        say(`\nreference: PyTorch (${REFERENCE})`);
        const wasmThreads = results.filter((r) => r.threads !== undefined).map((r) => r.threads!);
        references = await runTorch(o.model, o.n, batch, wasmThreads.length ? wasmThreads : [defaultWasmThreads()], data.info.dir, say);
      }
    }
    sayResults(results, references, say);
    say(`load average at the end: ${loadavg()[0].toFixed(2)}`);
    if (o.json) {
      const reference = references[0] ?? null; // the most threads (or CUDA)
      const json = { model: o.model, batch, results: results.map(({ note: _note, ...r }) => r), reference };
      process.stdout.write(`${JSON.stringify(json)}\n`);
    }
  } finally {
    shutdownBackends();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchAe(process.argv.slice(2));
}
