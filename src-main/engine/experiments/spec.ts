/**
 * Every experiment is one pipeline: features (raw pixels, or the codes of an autoencoder trained or reused) →
 * optionally a UMAP embedding → a clusterer (k-means or a Gaussian mixture) → evaluation on the test images. The
 * tasks are presets of it; `pipelineSpecOf` says which stages and parameters each task's parameters mean.
 */
import type { GaussianMixtureParams } from '../cluster/gmm-params';
import { rowSize, type DatasetShape } from '../data/dataset';
import type { KMeansParams } from '../cluster/kmeans-params';
import type { UmapParams } from '../manifold/umap-params';
import { autoencoderArchitecture, type AutoencoderKind } from '../models/registry';
import { AUGMENT_PARAMS, type AugmentParams, type AutoencoderTrainParams } from '../models/training-params';
import { parseEstimatorParams } from '../schema/constraints';
import { estimatorParams, ParamError, type ExperimentParams, type PROTOCOLS, type MAP2D_METHODS } from '../schema/params';

/** No augmentation: the study's tasks train on the images as they are. */
const DEFAULT_AUGMENTATION: AugmentParams = parseEstimatorParams('Augmentation', AUGMENT_PARAMS);

/** How an encoder is trained: the loop's settings and the augmentation of its batches (none for the study's tasks). */
export interface EncoderTraining extends AutoencoderTrainParams {
  augment: AugmentParams;
}

/** Raw pixels, or an autoencoder of the registry (models/registry.ts) with its configuration, training and reuse. */
export type EncoderSpec = { kind: 'none' } | { kind: AutoencoderKind; config: unknown; training: EncoderTraining; reuse?: number };

export type ClustererSpec = ({ kind: 'kmeans' } & KMeansParams) | ({ kind: 'gmm' } & Omit<GaussianMixtureParams, 'initParams'>);

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

// The table validated every value; each estimator checks its own again when it is built.
const trainingOf = (p: ExperimentParams): EncoderTraining => ({
  ...(estimatorParams('training', p) as unknown as AutoencoderTrainParams),
  augment: { ...DEFAULT_AUGMENTATION, ...estimatorParams('augment', p) },
});

const kmeansOf = (p: ExperimentParams): ClustererSpec => ({ kind: 'kmeans', ...(estimatorParams('kmeans', p) as unknown as KMeansParams) });

const gmmOf = (p: ExperimentParams): ClustererSpec => ({ kind: 'gmm', ...(estimatorParams('gmm', p) as unknown as GaussianMixtureParams) });

/** An autoencoder for the data's shape; one that cannot take it (the conv one on feature rows) is a ParamError. */
function autoencoderSpec(kind: AutoencoderKind, p: Exclude<ExperimentParams, { task: 'kmeans' }>, input: DatasetShape): EncoderSpec {
  let config: unknown;
  try {
    config = autoencoderArchitecture(kind).configOf(estimatorParams(kind, p), input);
  } catch (err) {
    if (err instanceof RangeError) throw new ParamError([{ param: 'encoder', message: err.message }]);
    throw err;
  }
  return { kind, config, training: trainingOf(p), reuse: p.reuseEncoder };
}

/** The stages and their parameters that a task's (validated) parameters ask for, on data of this shape. */
export function pipelineSpecOf(params: ExperimentParams, input: DatasetShape): PipelineSpec {
  const base = { k: params.k, seed: params.seed, protocol: 'inductive' as const, umap: null, map2d: 'none' as const };
  switch (params.task) {
    case 'kmeans': // experiment 1: k-means on the raw pixels
      return { ...base, encoder: { kind: 'none' }, clusterer: kmeansOf(params) };
    case 'ae-kmeans': // experiment 2: the study's autoencoder, k-means on its codes
      return { ...base, encoder: autoencoderSpec('conv', params, input), clusterer: kmeansOf(params) };
    case 'ae-gmm': // experiment 3: the same codes, a Gaussian mixture
      return { ...base, encoder: autoencoderSpec('conv', params, input), clusterer: gmmOf(params) };
    case 'pipeline':
    case 'n2d':
    case 'n2d-aug':
      return {
        ...base,
        protocol: params.protocol,
        encoder: params.encoder === 'none' ? { kind: 'none' } : autoencoderSpec(params.encoder, params, input),
        umap: params.umap ? { ...estimatorParams('umap', params), nComponents: params.umapComponents ?? params.k } : null,
        clusterer: params.cluster === 'gmm' ? gmmOf(params) : kmeansOf(params),
        map2d: params.map2d,
      };
  }
}

/** Architecture id of the encoder a spec asks for (what a reused encoder must match); undefined for raw pixels. */
export function encoderArchitecture(encoder: EncoderSpec): string | undefined {
  return encoder.kind === 'none' ? undefined : autoencoderArchitecture(encoder.kind).architectureId(encoder.config);
}

/** Width of the features the next stage sees: the data's rows, or the encoder's codes. */
export function featureCols(encoder: EncoderSpec, input: DatasetShape): number {
  return encoder.kind === 'none' ? rowSize(input) : autoencoderArchitecture(encoder.kind).codeSize(encoder.config);
}
