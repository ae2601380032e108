/**
 * Every experiment is one pipeline: features (raw pixels, or the codes of an autoencoder trained or reused) →
 * optionally a UMAP embedding → a clusterer (k-means or a Gaussian mixture) → evaluation on the test images. The
 * tasks are presets of it; `pipelineSpecOf` says which stages and parameters each task's parameters mean.
 */
import type { UmapParams } from '../manifold/umap';
import { CONV_AE_ARCHITECTURE, CONV_AE_CODE_SIZE } from '../models/convAutoencoder';
import { denseArchitectureId } from '../models/denseAutoencoder';
import type { DenseAutoencoderConfig } from '../models/denseAutoencoder';
import type { AugmentParams } from '../models/augment';
import type { AutoencoderTrainParams } from '../models/trainer';
import type { ExperimentParams, PipelineTaskParams, PROTOCOLS, MAP2D_METHODS } from './params';

export const PIXELS = 784;

/** How an encoder is trained: the loop's settings and the augmentation of its batches (none for the study's tasks). */
export interface EncoderTraining extends AutoencoderTrainParams {
  augment: AugmentParams;
}

export type EncoderSpec =
  | { kind: 'none' }
  | { kind: 'conv'; training: EncoderTraining; reuse?: number }
  | { kind: 'dense'; config: DenseAutoencoderConfig; training: EncoderTraining; reuse?: number };

export type ClustererSpec =
  | { kind: 'kmeans'; k: number; nInit: number; maxIter: number; tol: number; seed: number }
  | {
      kind: 'gmm';
      k: number;
      covariance: 'full' | 'diag' | 'spherical';
      regCovar: number;
      maxIter: number;
      tol: number;
      nInit: number;
      seed: number;
    };

export interface PipelineSpec {
  k: number;
  seed: number;
  /** What the unsupervised stages fit on: the training images (inductive) or training + test images (transductive, without labels). */
  protocol: (typeof PROTOCOLS)[number];
  encoder: EncoderSpec;
  /** UMAP between the features and the clusterer, or null. */
  umap: Partial<UmapParams> | null;
  clusterer: ClustererSpec;
  /** The 2-D map of the test images the UI shows. */
  map2d: (typeof MAP2D_METHODS)[number];
}

const NO_AUGMENTATION: AugmentParams = { rotation: 0, shift: 0 };

const trainingOf = (p: AutoencoderTrainParams & Partial<{ augRotation: number; augShift: number }>): EncoderTraining => ({
  epochs: p.epochs,
  batchSize: p.batchSize,
  learningRate: p.learningRate,
  valSplit: p.valSplit,
  patience: p.patience,
  seed: p.seed,
  augment: p.augRotation === undefined ? NO_AUGMENTATION : { rotation: p.augRotation, shift: p.augShift ?? 0 },
});

const kmeansOf = (p: { k: number; nInit: number; maxIter: number; tol: number; seed: number }): ClustererSpec => ({
  kind: 'kmeans',
  k: p.k,
  nInit: p.nInit,
  maxIter: p.maxIter,
  tol: p.tol,
  seed: p.seed,
});

const gmmOf = (p: Extract<ExperimentParams, { task: 'ae-gmm' }> | PipelineTaskParams): ClustererSpec => ({
  kind: 'gmm',
  k: p.k,
  covariance: p.covariance,
  regCovar: p.regCovar,
  maxIter: p.gmmMaxIter,
  tol: p.gmmTol,
  nInit: p.gmmNInit,
  seed: p.seed,
});

function pipelineEncoder(p: PipelineTaskParams): EncoderSpec {
  if (p.encoder === 'none') return { kind: 'none' };
  if (p.encoder === 'conv') return { kind: 'conv', training: trainingOf(p), reuse: p.reuseEncoder };
  const config = { inputSize: PIXELS, layers: [...p.layers], codeSize: p.codeSize, loss: p.loss };
  return { kind: 'dense', config, training: trainingOf(p), reuse: p.reuseEncoder };
}

/** The stages and their parameters that a task's (validated) parameters ask for. */
export function pipelineSpecOf(params: ExperimentParams): PipelineSpec {
  const base = { k: params.k, seed: params.seed, protocol: 'inductive' as const, umap: null, map2d: 'none' as const };
  switch (params.task) {
    case 'kmeans': // experiment 1: k-means on the raw pixels
      return { ...base, encoder: { kind: 'none' }, clusterer: kmeansOf(params) };
    case 'ae-kmeans': // experiment 2: the study's autoencoder, k-means on its codes
      return { ...base, encoder: { kind: 'conv', training: trainingOf(params), reuse: params.reuseEncoder }, clusterer: kmeansOf(params) };
    case 'ae-gmm': // experiment 3: the same codes, a Gaussian mixture
      return { ...base, encoder: { kind: 'conv', training: trainingOf(params), reuse: params.reuseEncoder }, clusterer: gmmOf(params) };
    case 'pipeline':
    case 'n2d':
    case 'n2d-aug':
      return {
        ...base,
        protocol: params.protocol,
        encoder: pipelineEncoder(params),
        umap: params.umap
          ? {
              nNeighbors: params.umapNeighbors,
              minDist: params.umapMinDist,
              nComponents: params.umapComponents ?? params.k,
              nEpochs: params.umapEpochs,
              init: params.umapInit,
              seed: params.seed,
            }
          : null,
        clusterer: params.cluster === 'gmm' ? gmmOf(params) : kmeansOf(params),
        map2d: params.map2d,
      };
  }
}

/** Architecture id of the encoder a spec asks for (what a reused encoder must match); undefined for raw pixels. */
export function encoderArchitecture(encoder: EncoderSpec): string | undefined {
  if (encoder.kind === 'conv') return CONV_AE_ARCHITECTURE;
  if (encoder.kind === 'dense') return denseArchitectureId(encoder.config);
  return undefined;
}

/** Width of the features the next stage sees. */
export function featureCols(encoder: EncoderSpec): number {
  return encoder.kind === 'conv' ? CONV_AE_CODE_SIZE : encoder.kind === 'dense' ? encoder.config.codeSize : PIXELS;
}
