/// <reference types="@webgpu/types" />
/**
 * Counts what tfjs-backend-webgpu asks of the GPU while a piece of work runs: compute dispatches (per program,
 * from the pipeline's label, which tfjs sets to the program's class name), queue submits (and the time spent in
 * them) and buffer writes,
 * readbacks (mapAsync), and the buffers, bind groups and pipelines it creates.
 *
 * The methods of the given GPUDevice and of its queue are wrapped on those objects; command encoders and compute
 * passes made through the wrapped device are wrapped as they are made. mapAsync belongs to the GPUBuffer
 * prototype (tfjs reads back through staging buffers from its pool, made before counting starts), so it is
 * wrapped there. `stop()` restores every wrapped method. Start counting after a readback (e.g. `await t.data()`):
 * tfjs then has no command encoder open, so none of the counted work was recorded on an unwrapped one.
 */

export interface GpuCounts {
  dispatches: number;
  submits: number;
  /** mapAsync calls: data read back to the host. */
  readbacks: number;
  writeBuffers: number;
  copies: number;
  /** Time spent inside queue.submit (a software or OpenGL adapter may run the work right there). */
  submitMs: number;
  bufferCreations: number;
  bindGroupCreations: number;
  pipelineCreations: number;
  /** Dispatches per program (the pipeline's label). */
  byProgram: Record<string, number>;
}

export interface GpuCounter {
  /** A copy of the counts so far. */
  snapshot(): GpuCounts;
  /** Restores the wrapped methods; returns the final counts. */
  stop(): GpuCounts;
}

const emptyCounts = (): GpuCounts => ({
  dispatches: 0,
  submits: 0,
  readbacks: 0,
  writeBuffers: 0,
  copies: 0,
  submitMs: 0,
  bufferCreations: 0,
  bindGroupCreations: 0,
  pipelineCreations: 0,
  byProgram: {},
});

/** `later − earlier`, program by program. */
export function countsBetween(earlier: GpuCounts, later: GpuCounts): GpuCounts {
  const out = emptyCounts();
  for (const key of Object.keys(out) as (keyof GpuCounts)[]) {
    if (key !== 'byProgram') out[key] = later[key] - earlier[key];
  }
  for (const [name, n] of Object.entries(later.byProgram)) {
    const d = n - (earlier.byProgram[name] ?? 0);
    if (d > 0) out.byProgram[name] = d;
  }
  return out;
}

type Method = (...args: unknown[]) => unknown;

/** Replaces `target[name]` by a wrapper that calls `before` first; returns the undo. */
function wrapMethod(
  target: object,
  name: string,
  before: (self: unknown, args: unknown[]) => void,
  after?: (result: unknown) => unknown,
): () => void {
  const holder = target as Record<string, unknown>;
  const hadOwn = Object.hasOwn(holder, name);
  const original = holder[name] as Method;
  if (typeof original !== 'function') return () => undefined;
  holder[name] = function (this: unknown, ...args: unknown[]) {
    before(this, args);
    const result = original.apply(this, args);
    return after ? after(result) : result;
  };
  return () => {
    if (hadOwn) holder[name] = original;
    else delete holder[name];
  };
}

/** queue.submit, counted and timed. */
function wrapSubmit(queue: GPUQueue, counts: GpuCounts, counting: () => boolean): () => void {
  const holder = queue as unknown as Record<string, unknown>;
  const hadOwn = Object.hasOwn(holder, 'submit');
  const original = queue.submit;
  holder.submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
    const t0 = performance.now();
    try {
      return original.call(this, buffers);
    } finally {
      if (counting()) {
        counts.submits++;
        counts.submitMs += performance.now() - t0;
      }
    }
  };
  return () => {
    if (hadOwn) holder.submit = original;
    else delete holder.submit;
  };
}

/** Starts counting the GPU work that goes through `device` (see the file's comment). */
export function countGpuWork(device: GPUDevice): GpuCounter {
  const counts = emptyCounts();
  let counting = true;
  const count = (key: Exclude<keyof GpuCounts, 'byProgram' | 'submitMs'>) => () => {
    if (counting) counts[key]++;
  };
  const undo: (() => void)[] = [];

  const wrapPass = (pass: GPUComputePassEncoder): GPUComputePassEncoder => {
    let program = 'unlabelled';
    wrapMethod(pass, 'setPipeline', (_self, [pipeline]) => (program = (pipeline as GPUComputePipeline).label || 'unlabelled'));
    wrapMethod(pass, 'dispatchWorkgroups', () => {
      if (!counting) return;
      counts.dispatches++;
      counts.byProgram[program] = (counts.byProgram[program] ?? 0) + 1;
    });
    return pass;
  };
  const wrapEncoder = (encoder: GPUCommandEncoder): GPUCommandEncoder => {
    wrapMethod(
      encoder,
      'beginComputePass',
      () => undefined,
      (pass) => wrapPass(pass as GPUComputePassEncoder),
    );
    wrapMethod(encoder, 'copyBufferToBuffer', count('copies'));
    return encoder;
  };

  undo.push(
    wrapMethod(
      device,
      'createCommandEncoder',
      () => undefined,
      (encoder) => (counting ? wrapEncoder(encoder as GPUCommandEncoder) : encoder),
    ),
    wrapMethod(device, 'createBuffer', count('bufferCreations')),
    wrapMethod(device, 'createBindGroup', count('bindGroupCreations')),
    wrapMethod(device, 'createComputePipeline', count('pipelineCreations')),
    wrapMethod(device, 'createComputePipelineAsync', count('pipelineCreations')),
    wrapSubmit(device.queue, counts, () => counting),
    wrapMethod(device.queue, 'writeBuffer', count('writeBuffers')),
  );
  const probe = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  counts.bufferCreations = 0; // the probe itself
  undo.push(wrapMethod(Object.getPrototypeOf(probe) as object, 'mapAsync', count('readbacks')));
  probe.destroy();

  const snapshot = (): GpuCounts => ({ ...counts, byProgram: { ...counts.byProgram } });
  return {
    snapshot,
    stop() {
      if (counting) {
        counting = false;
        for (const u of undo.reverse()) u();
      }
      return snapshot();
    },
  };
}
