/// <reference types="@webgpu/types" />
/**
 * The fused training step of a {@link Network}: every buffer, pipeline and bind group is made once, in the
 * constructor; a step is then one writeBuffer of the batch, one of the 16-byte step uniform, one command encoder
 * with one compute pass holding the fixed sequence of dispatches (forward, loss, backward, one Adam over the flat
 * weights), and one submit. The batch's loss is added to a sum on the device, read once per epoch.
 *
 * Dispatches per step: one per layer forward, two for the loss, per convolution or Dense layer one weight-gradient
 * kernel plus one activation-gradient kernel (not the output layer, whose gradient comes with the loss) and one
 * input-gradient kernel (not the first layer, whose input is the data), and one Adam.
 */
import { createFloatBuffer, readFloats } from './device';
import {
  adamKernel,
  bceLossGradKernel,
  convForwardKernel,
  convInputGradKernel,
  convWeightGradKernel,
  lossAccumulateKernel,
  LOSS_GROUPS,
  maxPoolKernel,
  reluGradKernel,
  weightGradGroups,
  WORKGROUP,
} from './kernels';
import {
  denseActGradKernel,
  denseForwardKernel,
  denseInputGradKernel,
  denseWeightGradKernel,
  linearOutputLossKernel,
  matmulGroups,
} from './dense-kernels';
import { inputSize, outputSize, type ConvLayer, type DenseLayer, type Network } from './network';

/** tfjs's Adam defaults as the trainer sets them (β1 0.9, β2 0.999 are written into the Adam kernel). */
const BETA1 = Math.fround(0.9);
const BETA2 = Math.fround(0.999);
/** A dispatch's x dimension stays under the device limit; grid-stride kernels cover the rest. */
const MAX_GROUPS = 65_535;

interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /** Workgroups for a batch of `rows` rows. */
  groups(rows: number): number;
}

/** Workgroups for a grid-stride kernel over `perRow` values per row. */
const elementwise =
  (perRow: number) =>
  (rows: number): number =>
    Math.min(MAX_GROUPS, Math.ceil((rows * perRow) / WORKGROUP));
/** Workgroups for a grid-stride kernel over `count` values whatever the batch. */
const fixed = (count: number) => (): number => Math.min(MAX_GROUPS, Math.ceil(count / WORKGROUP));

export class FusedStep {
  readonly dispatchesPerStep: number;
  /** Named buffers, for tests that check each kernel's output. */
  readonly buffers = new Map<string, GPUBuffer>();
  private readonly dispatches: Dispatch[] = [];
  private readonly uniform: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly stepValues = new DataView(new ArrayBuffer(16));
  private accBeta1 = BETA1;
  private accBeta2 = BETA2;
  private readonly inputSize: number;
  private reading: Promise<void> = Promise.resolve();

  /** Builds the step, throwing a one-line error when the device rejects a kernel, pipeline or buffer. */
  static async create(device: GPUDevice, network: Network, maxRows: number, learningRate: number, epsilon = 1e-7): Promise<FusedStep> {
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let step: FusedStep | undefined;
    let thrown: unknown;
    try {
      step = new FusedStep(device, network, maxRows, learningRate, epsilon);
    } catch (err) {
      thrown = err;
    }
    const errors = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e !== null);
    if (step && !thrown && errors.length === 0) return step;
    step?.dispose();
    if (thrown) throw thrown;
    throw new Error(
      `the fused WebGPU training step could not be built (CLUSTERBENCH_WEBGPU_FUSED=0 trains through tfjs's kernels): ${errors[0]!.message.split('\n')[0]}`,
    );
  }

  private constructor(
    private readonly device: GPUDevice,
    readonly network: Network,
    readonly maxRows: number,
    private readonly learningRate: number,
    epsilon = 1e-7,
  ) {
    const { input, paramCount } = network;
    this.inputSize = input.height * input.width * input.channels;
    const made: GPUBuffer[] = [];
    const track = (b: GPUBuffer): GPUBuffer => (made.push(b), b);
    const buffer = (name: string, floats: number): GPUBuffer => {
      const b = track(createFloatBuffer(device, `fused ${name}`, floats));
      this.buffers.set(name, b);
      return b;
    };
    // A step that cannot be built (a kernel or buffer the device refuses) gives back what it already made.
    try {
      this.uniform = track(device.createBuffer({ label: 'fused step', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }));
      buffer('params', paramCount);
      buffer('grads', paramCount);
      buffer('moments', 2 * paramCount);
      buffer('batch', maxRows * this.inputSize);
      buffer('partials', LOSS_GROUPS);
      buffer('epochLoss', 1);
      network.layers.forEach((l, i) => {
        buffer(`act${i}`, maxRows * outputSize(l));
        if (l.kind !== 'pool') buffer(`dz${i}`, maxRows * outputSize(l));
        if (l.kind !== 'pool' && i > 0) buffer(`dIn${i}`, maxRows * inputSize(l));
      });
      this.staging = track(
        device.createBuffer({
          label: 'fused readback',
          size: Math.max(16, paramCount * 4),
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        }),
      );
      this.recordForward();
      this.recordLoss();
      this.recordBackward();
      this.add('adam', adamKernel(paramCount, epsilon), ['params', 'grads', 'moments'], fixed(paramCount));
      this.dispatchesPerStep = this.dispatches.length;
    } catch (err) {
      for (const b of made) b.destroy();
      throw err;
    }
  }

  private get(name: string): GPUBuffer {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`fused step: no buffer ${name}`);
    return b;
  }

  /** A pipeline and its bind group: binding 0 is the step uniform, then `bindings` in order. */
  private add(label: string, code: string, bindings: string[], groups: (rows: number) => number): void {
    const module = this.device.createShaderModule({ label, code });
    const pipeline = this.device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniform } }];
    bindings.forEach((name, i) => entries.push({ binding: i + 1, resource: { buffer: this.get(name) } }));
    const bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    this.dispatches.push({ label, pipeline, bindGroup, groups });
  }

  /** The buffer a layer reads: the previous layer's output, or the batch. */
  private inputOf(i: number): string {
    return i === 0 ? 'batch' : `act${i - 1}`;
  }

  private recordForward(): void {
    const last = this.network.layers.length - 1;
    this.network.layers.forEach((l, i) => {
      const [name, code] =
        l.kind === 'conv'
          ? [l.name, convForwardKernel(l)]
          : l.kind === 'dense'
            ? [l.name, denseForwardKernel(l, i !== last)] // the losses take the output's pre-activation
            : [`pool${i}`, maxPoolKernel(l)];
      const groups = l.kind === 'dense' ? (rows: number) => matmulGroups(rows, l.outSize) : elementwise(outputSize(l));
      this.add(`${name} forward`, code, [this.inputOf(i), ...(l.kind === 'pool' ? [] : ['params']), `act${i}`], groups);
    });
  }

  private recordLoss(): void {
    const { loss, layers } = this.network;
    const last = layers.length - 1;
    const code = loss === 'bce' ? bceLossGradKernel(this.inputSize) : linearOutputLossKernel(this.inputSize, loss);
    this.add(`${loss} loss+grad`, code, ['batch', `act${last}`, `dz${last}`, 'partials'], () => LOSS_GROUPS);
    this.add('loss sum', lossAccumulateKernel(this.inputSize), ['partials', 'epochLoss'], () => 1);
  }

  private recordBackward(): void {
    const layers = this.network.layers;
    for (let i = layers.length - 1; i >= 0; i--) {
      const l = layers[i];
      if (l.kind === 'pool') continue;
      if (i !== layers.length - 1) this.recordActivationGrad(l, i);
      const [weightGrad, groups] =
        l.kind === 'conv'
          ? [convWeightGradKernel(l), () => weightGradGroups(l)]
          : [denseWeightGradKernel(l), () => matmulGroups(l.inSize + 1, l.outSize)];
      this.add(`${l.name} weight grad`, weightGrad, [this.inputOf(i), `dz${i}`, 'grads'], groups);
      if (i > 0) {
        const code = l.kind === 'conv' ? convInputGradKernel(l) : denseInputGradKernel(l);
        const groups = l.kind === 'dense' ? (rows: number) => matmulGroups(rows, l.inSize) : elementwise(inputSize(l));
        this.add(`${l.name} input grad`, code, [`dz${i}`, 'params', `dIn${i}`], groups);
      }
    }
  }

  /** dZ of a hidden layer from the gradient of its output: from the next layer, or through the pool between them. */
  private recordActivationGrad(l: ConvLayer | DenseLayer, i: number): void {
    const next = this.network.layers[i + 1];
    const pool = next.kind === 'pool' ? next : undefined;
    const from = `dIn${pool ? i + 2 : i + 1}`;
    const [name, code] =
      l.kind === 'conv' ? [`${l.name} relu grad`, reluGradKernel(l, pool)] : [`${l.name} ${l.act} grad`, denseActGradKernel(l)];
    this.add(name, code, [`act${i}`, from, `dz${i}`], elementwise(outputSize(l)));
  }

  /** Queues one training step on `rows` images (`rows × inputSize` values of `batch`). */
  step(batch: Float32Array, rows: number): void {
    if (!(rows >= 1 && rows <= this.maxRows)) throw new RangeError(`fused step: ${rows} rows, expected 1..${this.maxRows}`);
    const { queue } = this.device;
    queue.writeBuffer(this.get('batch'), 0, batch.buffer, batch.byteOffset, rows * this.inputSize * 4);
    // tfjs's Adam: 1 − β^t in float32, β^t then multiplied by β in float32 for the next step
    const v = this.stepValues;
    v.setUint32(0, rows, true);
    v.setFloat32(4, this.learningRate, true);
    v.setFloat32(8, Math.fround(1 - this.accBeta1), true);
    v.setFloat32(12, Math.fround(1 - this.accBeta2), true);
    this.accBeta1 = Math.fround(this.accBeta1 * BETA1);
    this.accBeta2 = Math.fround(this.accBeta2 * BETA2);
    queue.writeBuffer(this.uniform, 0, v.buffer);
    const encoder = this.device.createCommandEncoder({ label: 'fused training step' });
    const pass = encoder.beginComputePass({ label: 'fused training step' });
    for (const d of this.dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.groups(rows));
    }
    pass.end();
    queue.submit([encoder.finish()]);
  }

  /** Waits until the device has run every step queued so far. */
  drained(): Promise<void> {
    return this.device.queue.onSubmittedWorkDone();
  }

  /** Σ over the steps since the last reset of (batch mean loss × rows): one readback. */
  async lossSum(): Promise<number> {
    return (await this.read('epochLoss', 1))[0];
  }

  resetLossSum(): void {
    this.device.queue.writeBuffer(this.get('epochLoss'), 0, new Float32Array(4));
  }

  readParams(): Promise<Float32Array> {
    return this.read('params', this.network.paramCount);
  }

  writeParams(values: Float32Array): void {
    if (values.length !== this.network.paramCount)
      throw new RangeError(`fused step: ${values.length} weights, expected ${this.network.paramCount}`);
    this.device.queue.writeBuffer(this.get('params'), 0, values.buffer, values.byteOffset, values.byteLength);
  }

  /** The first `floats` values of a named buffer (tests; training reads only the loss and the weights). */
  read(name: string, floats: number): Promise<Float32Array> {
    // one read at a time through the staging buffer: a second mapAsync on a mapping buffer fails
    const result = this.reading.then(() => this.readNow(name, floats));
    this.reading = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async readNow(name: string, floats: number): Promise<Float32Array> {
    const source = this.get(name);
    if (floats * 4 <= this.staging.size) return readFloats(this.device, source, this.staging, floats);
    const staging = this.device.createBuffer({
      size: Math.ceil(floats / 4) * 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      return await readFloats(this.device, source, staging, floats);
    } finally {
      staging.destroy();
    }
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.uniform.destroy();
    this.staging.destroy();
  }
}
