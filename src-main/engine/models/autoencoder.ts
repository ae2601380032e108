/**
 * What every autoencoder architecture offers the pipeline (experiments/encoder.ts), the run's description
 * (experiments/spec.ts) and the service (reconstructions): one interface, so that adding an encoder is one new file
 * that implements it plus one line in registry.ts — nothing else switches on the kind of network.
 */
import type { DatasetShape } from '../data/dataset';
import type { Images } from '../types';
import type { AutoencoderTrainParams } from './training-params';
import type { TrainOptions, TrainResult } from './trainer';

/** A built or loaded network: what a run does with it. */
export interface Autoencoder {
  /** The id stored with its files, which a reused encoder must match. */
  readonly architecture: string;
  readonly codeSize: number;
  readonly paramCount: number;
  train(images: Images, params: AutoencoderTrainParams, options?: TrainOptions): Promise<TrainResult>;
  /** Codes of all images: a row-major `count × codeSize` matrix. */
  encode(images: Images, signal?: AbortSignal): Promise<Float32Array>;
  /** Reconstructions of the images at `indices`: `indices.length × values per image` values (H×W×C, channels last). */
  reconstruct(images: Images, indices: number[]): Promise<Float32Array>;
  /** Writes its topology, weights and architecture id into `dir`. */
  save(dir: string): Promise<void>;
  dispose(): void;
}

/** An architecture: how to describe, build and load its networks. `Config` is what its parameters fix (layers, loss…). */
export interface AutoencoderArchitecture<Config = unknown> {
  /** The pipeline's `encoder` value that chooses it. */
  readonly kind: string;
  /**
   * Its configuration for the data set's rows (`input`: their shape; a bare number, the older call, is 784 → 28×28×1
   * and any other n → d=n features) from its own parameters (the experiment table's entries that set them, under its
   * names: schema/params.ts estimatorParams), validated and with defaults filled in. Throws a RangeError of one line
   * when it cannot take that shape (the conv autoencoder on features).
   */
  configOf(params: Readonly<Record<string, unknown>>, input: DatasetShape | number): Config;
  /**
   * One line for the UI and the CLI: its id, the input it is for, its code size and parameter count, and what
   * differs from the study's network when the shape is not the study's.
   */
  describeInput(config: Config): string;
  /** The id stored with its networks' files (it fixes the input shape: a reused encoder must match it). */
  architectureId(config: Config): string;
  /** Whether a stored id is one of this architecture's. */
  owns(architectureId: string): boolean;
  codeSize(config: Config): number;
  /** A new network, its weights initialised from `seed`. */
  build(config: Config, seed: number): Autoencoder;
  /** The network saved in `dir`; throws unless its id is `architectureId` (when given) and this architecture's. */
  load(dir: string, architectureId?: string): Promise<Autoencoder>;
  /** What the user must match to reuse an encoder of this architecture (for the refusal's message), if anything. */
  readonly reuseHint?: string;
}

/** A data set's shape from configOf's `input`: 784 (the older call's pixel count) is 28×28×1, another number n is d=n. */
export function inputShapeOf(input: DatasetShape | number): DatasetShape {
  if (typeof input !== 'number') return input;
  return input === 784 ? { kind: 'images', height: 28, width: 28, channels: 1 } : { kind: 'features', dim: input };
}

/** `12,785`: a parameter count as describeInput writes it. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');
