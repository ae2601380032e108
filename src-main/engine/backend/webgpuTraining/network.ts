/**
 * The shape of a network the fused WebGPU training step can run. Either a chain of 3×3 convolutions (stride 1,
 * 'same' or 'valid', optionally reading their input up-sampled 2× nearest, bias and relu/sigmoid fused) and 2×2
 * max-pools (stride 2, 'valid' or 'same'), ending in a sigmoid convolution whose output is compared with the input
 * image by binary cross-entropy (planNetwork); or a chain of Dense layers (planDenseNetwork). All tensors are NHWC, as in tfjs; weights keep tfjs's layout (kernel [3, 3, cin, cout],
 * then bias [cout]) one after the other in one flat buffer.
 *
 * Pools and up-samplings get no backward kernels of their own: a convolution reading an up-sampled input sums the
 * four gradients itself, and the gradient through a pool is routed to its window's maximum by the kernel that
 * applies the preceding relu's derivative (kernels.ts).
 */

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface ConvLayer {
  kind: 'conv';
  /** The tfjs layer whose weights these are. */
  name: string;
  /** Input before up-sampling. */
  inH: number;
  inW: number;
  cin: number;
  cout: number;
  /** 1 for 'same', 0 for 'valid'. */
  pad: 0 | 1;
  /** The input is up-sampled 2× (nearest) on the fly: an UpSampling2D layer folded into this one. */
  up: boolean;
  act: 'relu' | 'sigmoid';
  outH: number;
  outW: number;
  /** Offsets (in floats) of the kernel and bias in the flat weight buffer. */
  kernelOffset: number;
  biasOffset: number;
}

export interface PoolLayer {
  kind: 'pool';
  inH: number;
  inW: number;
  c: number;
  outH: number;
  outW: number;
}

/** A fully connected layer (tfjs Dense: kernel [inSize, outSize], then bias) on flat rows. */
export interface DenseLayer {
  kind: 'dense';
  name: string;
  inSize: number;
  outSize: number;
  act: 'relu' | 'linear' | 'sigmoid';
  kernelOffset: number;
  biasOffset: number;
}

export type Layer = ConvLayer | PoolLayer | DenseLayer;

/**
 * The reconstruction loss, a mean over all values of the batch: 'bce' on the sigmoid output's probabilities,
 * Keras-style (the conv AE); 'mse' on a linear output; 'bce-logits' on the output layer's pre-activation (the
 * dense AE's 'bce', whose sigmoid is then never applied in training).
 */
export type LossKind = 'bce' | 'mse' | 'bce-logits';

export interface Network {
  input: ImageShape;
  layers: Layer[];
  loss: LossKind;
  /** Number of weights in the flat buffer. */
  paramCount: number;
}

/** One step of a network description, in the order the layers run. */
export type LayerSpec =
  | { kind: 'conv'; name: string; filters: number; padding: 'same' | 'valid'; activation: 'relu' | 'sigmoid' }
  | { kind: 'pool'; padding: 'same' | 'valid' }
  | { kind: 'up' };

/** Shapes and weight offsets of `specs` applied to `input`; throws a one-line error for a chain it cannot run. */
export function planNetwork(input: ImageShape, specs: LayerSpec[]): Network {
  const layers: Layer[] = [];
  let h = input.height;
  let w = input.width;
  let c = input.channels;
  let offset = 0;
  let pendingUp = false;
  for (const spec of specs) {
    if (spec.kind === 'up') {
      if (pendingUp) throw new Error('two up-samplings in a row cannot be fused');
      pendingUp = true;
      continue;
    }
    if (spec.kind === 'pool') {
      if (pendingUp) throw new Error('an up-sampling must be followed by a convolution');
      if (layers.at(-1)?.kind !== 'conv') throw new Error('a max-pool must follow a convolution');
      const outH = spec.padding === 'same' ? Math.ceil(h / 2) : Math.floor(h / 2);
      const outW = spec.padding === 'same' ? Math.ceil(w / 2) : Math.floor(w / 2);
      layers.push({ kind: 'pool', inH: h, inW: w, c, outH, outW });
      h = outH;
      w = outW;
      continue;
    }
    const upH = pendingUp ? 2 * h : h;
    const upW = pendingUp ? 2 * w : w;
    const pad = spec.padding === 'same' ? 1 : 0;
    const conv: ConvLayer = {
      kind: 'conv',
      name: spec.name,
      inH: h,
      inW: w,
      cin: c,
      cout: spec.filters,
      pad,
      up: pendingUp,
      act: spec.activation,
      outH: upH - 2 + 2 * pad,
      outW: upW - 2 + 2 * pad,
      kernelOffset: offset,
      biasOffset: offset + 9 * c * spec.filters,
    };
    if (conv.outH < 1 || conv.outW < 1) throw new Error(`layer ${spec.name}: a 'valid' 3×3 convolution needs an input of at least 3×3`);
    offset = conv.biasOffset + spec.filters;
    layers.push(conv);
    pendingUp = false;
    h = conv.outH;
    w = conv.outW;
    c = spec.filters;
  }
  const last = layers.at(-1);
  if (pendingUp || last?.kind !== 'conv' || last.act !== 'sigmoid') throw new Error('the network must end in a sigmoid convolution');
  if (h !== input.height || w !== input.width || c !== input.channels) {
    throw new Error(`the network's output ${h}×${w}×${c} differs from its input ${input.height}×${input.width}×${input.channels}`);
  }
  layers.forEach((l, i) => {
    if (l.kind === 'conv' && l.act === 'sigmoid' && i !== layers.length - 1) throw new Error(`layer ${l.name}: sigmoid only on the output`);
    if (l.kind === 'pool' && layers[i + 1]?.kind !== 'conv') throw new Error('a max-pool must be followed by a convolution');
  });
  return { input, layers, loss: 'bce', paramCount: offset };
}

/** A chain of Dense layers on rows of `inputSize` values that reconstructs its input under `loss`. */
export function planDenseNetwork(
  inputSize: number,
  specs: { name: string; units: number; activation: DenseLayer['act'] }[],
  loss: 'mse' | 'bce-logits',
): Network {
  const layers: DenseLayer[] = [];
  let offset = 0;
  let size = inputSize;
  for (const s of specs) {
    const kernelOffset = offset;
    offset += size * s.units + s.units;
    layers.push({
      kind: 'dense',
      name: s.name,
      inSize: size,
      outSize: s.units,
      act: s.activation,
      kernelOffset,
      biasOffset: kernelOffset + size * s.units,
    });
    size = s.units;
  }
  if (layers.length === 0 || size !== inputSize) throw new Error(`the network's output has ${size} values, its input ${inputSize}`);
  if (loss === 'mse' && layers.at(-1)!.act !== 'linear') throw new Error('a mean-squared-error output must be linear');
  return { input: { height: 1, width: 1, channels: inputSize }, layers, loss, paramCount: offset };
}

/** Floats per image of the tensor a layer writes. */
export function outputSize(layer: Layer): number {
  if (layer.kind === 'dense') return layer.outSize;
  return layer.outH * layer.outW * (layer.kind === 'conv' ? layer.cout : layer.c);
}

/** Floats per row of the tensor a layer reads (before any up-sampling). */
export function inputSize(layer: ConvLayer | DenseLayer): number {
  return layer.kind === 'dense' ? layer.inSize : layer.inH * layer.inW * layer.cin;
}
