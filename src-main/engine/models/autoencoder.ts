/**
 * What every autoencoder architecture offers the pipeline (experiments/encoder.ts), the run's description
 * (experiments/spec.ts) and the service (reconstructions): one interface, so that adding an encoder is one new file
 * that implements it plus one line in registry.ts — nothing else switches on the kind of network.
 */
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
  /** Reconstructions of the images at `indices`: `indices.length × pixels` values. */
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
   * Its configuration for images of `pixels` values from its own parameters (the experiment table's entries that
   * set them, under its names: schema/params.ts estimatorParams), validated and with defaults filled in.
   */
  configOf(params: Readonly<Record<string, unknown>>, pixels: number): Config;
  /** The id stored with its networks' files. */
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
