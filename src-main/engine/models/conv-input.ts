/**
 * The image shapes the conv autoencoder takes, and what each one fixes: its architecture id, code size and parameter
 * count. On 28×28×1 it is the study's network exactly (`conv-ae-study-v1`); on any other H×W×C (H, W from 8 to
 * MAX_IMAGE_SIDE, C 1 or 3) the same layers generalised (`conv-ae-v2:HxWxC`, see conv-autoencoder.ts), whose id
 * names the shape so that an encoder is only reused on images of the shape it was trained on. Pure: no tfjs here.
 */
import { describeShape, MAX_IMAGE_SIDE, type DatasetShape } from '../data/dataset';
import { formatCount } from './autoencoder';

/** The images a conv autoencoder is built for (its whole configuration: the layers are fixed). */
export interface ConvAutoencoderConfig {
  height: number;
  width: number;
  channels: 1 | 3;
}

export const CONV_AE_ARCHITECTURE = 'conv-ae-study-v1';
export const CONV_AE_V2_PREFIX = 'conv-ae-v2';
/** The study's input: Fashion-MNIST's 28×28 grey images. */
export const STUDY_INPUT: Readonly<ConvAutoencoderConfig> = Object.freeze({ height: 28, width: 28, channels: 1 });
/** The smallest side: three 2× poolings leave at least one cell of the code per 8 pixels. */
export const MIN_CONV_SIDE = 8;

export const isStudyInput = (c: ConvAutoencoderConfig): boolean =>
  c.height === STUDY_INPUT.height && c.width === STUDY_INPUT.width && c.channels === STUDY_INPUT.channels;

/** `28×28×1`. */
export const describeConvInput = (c: ConvAutoencoderConfig): string => describeShape({ kind: 'images', ...c });

/** The conv autoencoder's configuration for a data set of `shape`; a RangeError of one line when it takes none. */
export function convConfigOf(shape: DatasetShape): ConvAutoencoderConfig {
  if (shape.kind !== 'images') {
    throw new RangeError(`the conv autoencoder needs images; data set is features ${describeShape(shape)} — use --encoder dense`);
  }
  const { height, width, channels } = shape;
  const side = (v: number) => Number.isInteger(v) && v >= MIN_CONV_SIDE && v <= MAX_IMAGE_SIDE;
  if (!side(height) || !side(width)) {
    throw new RangeError(
      `the conv autoencoder needs images from ${MIN_CONV_SIDE}×${MIN_CONV_SIDE} to ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE}; data set is ${describeShape(shape)}`,
    );
  }
  if (channels !== 1 && channels !== 3)
    throw new RangeError(`the conv autoencoder needs 1 or 3 channels; data set is ${describeShape(shape)}`);
  return { height, width, channels };
}

/** Side of the code after three 2×2 poolings with 'same' padding: ⌈⌈⌈s/2⌉/2⌉/2⌉. */
export const codeSide = (side: number): number => Math.ceil(Math.ceil(Math.ceil(side / 2) / 2) / 2);

/** The code's shape (h3 × w3 × 8 filters) and its size. */
export function convCodeShape(c: ConvAutoencoderConfig): [number, number, number] {
  return [codeSide(c.height), codeSide(c.width), 8];
}

export function convCodeSize(c: ConvAutoencoderConfig): number {
  const [h, w, f] = convCodeShape(c);
  return h * w * f;
}

/** Kernels and biases of its seven 3×3 convolutions: 12,785 on 28×28×1 (the padding changes no count). */
export function convParamCount(c: ConvAutoencoderConfig): number {
  const chain = [c.channels, 32, 16, 8, 8, 16, 32, c.channels];
  let n = 0;
  for (let i = 0; i + 1 < chain.length; i++) n += 9 * chain[i] * chain[i + 1] + chain[i + 1];
  return n;
}

/** `conv-ae-study-v1` on 28×28×1, else `conv-ae-v2:32x32x3`. */
export function convArchitectureId(c: ConvAutoencoderConfig): string {
  return isStudyInput(c) ? CONV_AE_ARCHITECTURE : `${CONV_AE_V2_PREFIX}:${c.height}x${c.width}x${c.channels}`;
}

/** The shape an id made by {@link convArchitectureId} is for; undefined for any other string (one id per shape). */
export function parseConvArchitectureId(id: string): ConvAutoencoderConfig | undefined {
  if (id === CONV_AE_ARCHITECTURE) return { ...STUDY_INPUT };
  const m = /^conv-ae-v2:([1-9]\d{0,5})x([1-9]\d{0,5})x([13])$/.exec(id);
  if (!m) return undefined;
  const config = { height: Number(m[1]), width: Number(m[2]), channels: Number(m[3]) as 1 | 3 };
  try {
    convConfigOf({ kind: 'images', ...config });
  } catch {
    return undefined;
  }
  return isStudyInput(config) ? undefined : config;
}

/**
 * One line for the UI and the CLI, e.g. `conv-ae-v2:30x30x3 for 30×30×3: code 128-d, 13,939 parameters (the study's
 * architecture is for 28×28×1: …)`, saying how the network differs from the study's when the shape is another.
 */
export function describeConvAutoencoder(c: ConvAutoencoderConfig): string {
  const head = `${convArchitectureId(c)} for ${describeConvInput(c)}: code ${convCodeSize(c)}-d, ${formatCount(convParamCount(c))} parameters`;
  if (isStudyInput(c)) return `${head} (the study's architecture)`;
  const [h, w] = convCodeShape(c);
  const crop = 8 * h !== c.height || 8 * w !== c.width ? `, its ${8 * h}×${8 * w} output cropped to ${c.height}×${c.width}` : '';
  return (
    `${head} (the study's architecture is for ${describeConvInput(STUDY_INPUT)}; here every pooling pads and the decoder keeps ` +
    `its sizes${crop}; trained through tfjs layers, not the fused WebGPU step)`
  );
}
