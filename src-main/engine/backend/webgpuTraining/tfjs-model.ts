/**
 * Between a tfjs LayersModel and a {@link Network}: reads the layer chain (Conv2D 3×3 stride 1 with bias and
 * relu/sigmoid, MaxPooling2D 2×2 stride 2, UpSampling2D 2× nearest; Flatten and Reshape move no data in NHWC
 * order and are skipped; or Dense layers with bias and relu/linear/sigmoid), and copies weights both ways in tfjs's own layout, so that saving, loading and encoding
 * stay tfjs's code paths. A model with any other layer has no fused path (`networkOf` returns a reason).
 */
import * as tf from '@tensorflow/tfjs';
import { planDenseNetwork, planNetwork, type ConvLayer, type DenseLayer, type LayerSpec, type Network } from './network';

interface LayerConfig {
  kernelSize?: number | number[];
  strides?: number | number[];
  dilationRate?: number | number[];
  poolSize?: number | number[];
  size?: number | number[];
  padding?: string;
  activation?: string;
  useBias?: boolean;
  interpolation?: string;
  dataFormat?: string;
}

const all = (v: number | number[] | undefined, want: number): boolean => v === undefined || [v].flat().every((x) => x === want);

/** The spec of one tfjs layer, null for a layer that moves no data, or a reason why it cannot be fused. */
function specOf(layer: tf.layers.Layer): LayerSpec | null | string {
  const cls = layer.getClassName();
  const c = layer.getConfig() as LayerConfig;
  if (c.dataFormat && c.dataFormat !== 'channelsLast') return `${layer.name}: data format ${c.dataFormat}`;
  switch (cls) {
    case 'InputLayer':
    case 'Flatten':
    case 'Reshape':
      return null;
    case 'Conv2D': {
      const filters = (layer.getConfig() as { filters: number }).filters;
      const activation = c.activation;
      if (!all(c.kernelSize, 3) || !all(c.strides, 1) || !all(c.dilationRate, 1)) return `${layer.name}: not a 3×3 stride-1 convolution`;
      if (c.useBias === false) return `${layer.name}: no bias`;
      if (activation !== 'relu' && activation !== 'sigmoid') return `${layer.name}: activation ${activation}`;
      if (c.padding !== 'same' && c.padding !== 'valid') return `${layer.name}: padding ${c.padding}`;
      return { kind: 'conv', name: layer.name, filters, padding: c.padding, activation };
    }
    case 'MaxPooling2D':
      if (!all(c.poolSize, 2) || !all(c.strides, 2)) return `${layer.name}: not a 2×2 stride-2 pool`;
      return { kind: 'pool', padding: c.padding === 'same' ? 'same' : 'valid' };
    case 'UpSampling2D':
      if (!all(c.size, 2) || (c.interpolation ?? 'nearest') !== 'nearest') return `${layer.name}: not a 2× nearest up-sampling`;
      return { kind: 'up' };
    default:
      return `${layer.name}: layer type ${cls}`;
  }
}

/**
 * The network of a chain model with a [h, w, c] image input (convolutions; binary cross-entropy on the sigmoid
 * output) or a [n] row input (Dense layers; `denseLoss` on the output's pre-activation), or a one-line reason why
 * there is none.
 */
export function networkOf(model: tf.LayersModel, denseLoss: 'mse' | 'bce-logits' = 'mse'): Network | string {
  const shape = model.inputs[0]?.shape;
  if (model.inputs.length !== 1 || shape.slice(1).some((d) => d === null)) return 'not a single input of fixed size';
  if (shape.length === 2) return denseNetworkOf(model, shape[1]!, denseLoss);
  if (shape.length !== 4) return 'not a single image input';
  const specs: LayerSpec[] = [];
  for (const layer of model.layers) {
    const spec = specOf(layer);
    if (typeof spec === 'string') return spec;
    if (spec) specs.push(spec);
  }
  try {
    return planNetwork({ height: shape[1]!, width: shape[2]!, channels: shape[3]! }, specs);
  } catch (err) {
    return (err as Error).message;
  }
}

function denseNetworkOf(model: tf.LayersModel, size: number, loss: 'mse' | 'bce-logits'): Network | string {
  const specs: { name: string; units: number; activation: DenseLayer['act'] }[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') continue;
    const c = layer.getConfig() as { units?: number; activation?: string; useBias?: boolean };
    if (cls !== 'Dense' || c.useBias === false) return `${layer.name}: layer type ${cls}${c.useBias === false ? ' without bias' : ''}`;
    const activation = c.activation ?? 'linear';
    if (activation !== 'relu' && activation !== 'linear' && activation !== 'sigmoid') return `${layer.name}: activation ${activation}`;
    specs.push({ name: layer.name, units: c.units!, activation });
  }
  try {
    return planDenseNetwork(size, specs, loss);
  } catch (err) {
    return (err as Error).message;
  }
}

/** The layers with weights, in the flat buffer's order. */
const weighted = (net: Network): (ConvLayer | DenseLayer)[] => net.layers.filter((l): l is ConvLayer | DenseLayer => l.kind !== 'pool');
const biasSize = (l: ConvLayer | DenseLayer): number => (l.kind === 'conv' ? l.cout : l.outSize);

/** The model's weights as the flat buffer of `net` (kernel then bias, layer by layer): one read per tensor. */
export async function readWeights(model: tf.LayersModel, net: Network): Promise<Float32Array> {
  const flat = new Float32Array(net.paramCount);
  for (const l of weighted(net)) {
    const [kernel, bias] = model.getLayer(l.name).getWeights();
    flat.set(await kernel.data(), l.kernelOffset);
    flat.set(await bias.data(), l.biasOffset);
  }
  return flat;
}

/** Assigns the flat buffer's weights to the model's variables (the same variable objects, new values). */
export function writeWeights(model: tf.LayersModel, net: Network, flat: Float32Array): void {
  for (const l of weighted(net)) {
    const layer = model.getLayer(l.name);
    const [kernel, bias] = layer.getWeights();
    const values = [
      tf.tensor(flat.subarray(l.kernelOffset, l.biasOffset), kernel.shape),
      tf.tensor(flat.subarray(l.biasOffset, l.biasOffset + biasSize(l)), bias.shape),
    ];
    try {
      layer.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}
