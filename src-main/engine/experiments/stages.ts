/** The pipeline's stages after the features: the UMAP embedding, the clusterer, the UI's 2-D map. */
import { join } from 'node:path';
import { GaussianMixture, type GmmProgressEvent } from '../cluster/gmm';
import { KMeans, type KMeansParams, type KMeansProgress } from '../cluster/kmeans';
import { Pca } from '../manifold/pca';
import { Umap, type UmapParams, type UmapProgressEvent } from '../manifold/umap';
import type { Matrix } from '../types';
import { writeMatrixFile } from '../store/run-files';
import { throwIfAborted } from '../abort';
import type { StageContext, StageResult } from './context';
import type { ClustererSpec, PipelineSpec } from './spec';

/** The features the clusterer fits on, and those of the test images it assigns. */
export interface FitAndEval {
  fit: Matrix;
  evalSet: Matrix;
}

/**
 * Embeds the features with UMAP: fitted on `fit`; the test images' coordinates are their rows of that embedding
 * when they were fitted on (transductive), else UMAP's transform of them.
 */
export async function embeddingStage(
  umapParams: Partial<UmapParams>,
  spec: PipelineSpec,
  features: FitAndEval,
  ctx: StageContext,
): Promise<StageResult<FitAndEval>> {
  const { onProgress, signal, store, run } = ctx;
  const transductive = spec.protocol === 'transductive';
  const { fit } = features;
  const nTest = features.evalSet.rows;
  const nTrain = fit.rows - (transductive ? nTest : 0);
  const start = performance.now();
  const umap = new Umap(umapParams);
  const dim = umap.params.nComponents;
  onProgress?.({ phase: 'umap', fraction: 0, message: `UMAP of ${fit.rows} points to ${dim} dimensions (${spec.protocol})` });
  const forward = (e: UmapProgressEvent) => onProgress?.({ ...e, phase: 'umap' });
  const embedding = await umap.fitTransform(fit, { signal, onProgress: forward });
  const evalSet: Matrix = transductive
    ? { data: embedding.subarray(nTrain * dim, (nTrain + nTest) * dim), rows: nTest, cols: dim }
    : { data: await umap.transform(features.evalSet, { signal, onProgress: forward }), rows: nTest, cols: dim };
  const info = umap.info!;
  const timings = {
    umapMs: performance.now() - start,
    umapKnnMs: info.timings.knnMs,
    umapGraphMs: info.timings.graphMs,
    umapInitMs: info.timings.initMs,
    umapOptimizeMs: info.timings.optimizeMs,
  };
  const metrics: Record<string, number> = { umapComponents: dim, umapEpochs: info.nEpochs, umapEdges: info.edges };
  if (info.initFallback) metrics.umapInitFallback = 1;
  const file = join(ctx.dir, 'embedding-eval.f32');
  await writeMatrixFile(file, evalSet.data.slice());
  store.setArtifacts(run.id, { embeddingEval: file, embeddingDims: String(dim) });
  throwIfAborted(signal);
  return { output: { fit: { data: embedding, rows: fit.rows, cols: dim }, evalSet }, metrics, timings };
}

type Clusterer = KMeans | GaussianMixture;

function makeClusterer({ kind, ...params }: ClustererSpec): Clusterer {
  return kind === 'kmeans' ? new KMeans(params as KMeansParams) : new GaussianMixture(params);
}

/** What each clusterer reports about its fit (and, for the mixture, the test images' likelihood). */
async function clustererMetrics(model: Clusterer, features: FitAndEval): Promise<Record<string, number>> {
  if (model instanceof KMeans) return { inertia: model.inertia, iterations: model.nIter };
  return {
    logLikelihood: await model.score(features.evalSet),
    trainLowerBound: model.lowerBound,
    iterations: model.nIter,
    converged: model.converged ? 1 : 0,
    bic: await model.bic(features.fit),
  };
}

/** The mixture's posterior probabilities of the scored rows (rows × k, float32), recorded for `export run --what probabilities`. */
async function storeProbabilities(model: GaussianMixture, evalSet: Matrix, ctx: StageContext): Promise<void> {
  const file = join(ctx.dir, 'probabilities-eval.f32');
  await writeMatrixFile(file, await model.predictProba(evalSet));
  ctx.store.setArtifacts(ctx.run.id, { probabilitiesEval: file });
}

/** Fits the clusterer on the fit rows and assigns the test images. */
export async function clusterStage(spec: ClustererSpec, features: FitAndEval, ctx: StageContext): Promise<StageResult<Int32Array>> {
  const { onProgress, signal } = ctx;
  const start = performance.now();
  const model = makeClusterer(spec);
  const forward = (e: KMeansProgress | GmmProgressEvent) => onProgress?.({ ...e });
  await model.fit(features.fit, { onProgress: forward, signal });
  const fitMs = performance.now() - start;
  throwIfAborted(signal);
  onProgress?.({ phase: 'evaluate', message: 'Assigning test images' });
  const evalStart = performance.now();
  const assignments = await model.predict(features.evalSet);
  const metrics = await clustererMetrics(model, features);
  if (model instanceof GaussianMixture) await storeProbabilities(model, features.evalSet, ctx);
  return { output: assignments, metrics, timings: { fitMs, evalMs: performance.now() - evalStart } };
}

/** 2-D coordinates of the test images for the UI's map: a 2-component UMAP of their features, or their PCA. */
export async function map2dStage(
  method: PipelineSpec['map2d'],
  seed: number,
  features: Matrix,
  ctx: StageContext,
): Promise<StageResult<void>> {
  if (method === 'none' || features.rows < 3) return { output: undefined, metrics: {}, timings: {} };
  const start = performance.now();
  ctx.onProgress?.({ phase: 'map', message: `2-D ${method === 'umap' ? 'UMAP' : 'PCA'} map of the test images` });
  let points: Float32Array;
  let used: 'umap' | 'pca';
  if (method === 'umap' && features.rows > 3) {
    const umap = new Umap({ nNeighbors: Math.min(15, features.rows - 1), minDist: 0.1, nComponents: 2, seed, init: 'spectral' });
    points = await umap.fitTransform(features, { signal: ctx.signal, onProgress: (e) => ctx.onProgress?.({ ...e, phase: 'map' }) });
    used = 'umap';
  } else {
    points = await new Pca({ nComponents: Math.min(2, features.cols), seed }).fitTransform(features);
    used = 'pca';
  }
  const mapMs = performance.now() - start;
  const file = join(ctx.dir, 'map2d-eval.f32');
  await writeMatrixFile(file, points);
  ctx.store.setArtifacts(ctx.run.id, { map2dEval: file, map2dMethod: used });
  return { output: undefined, metrics: {}, timings: { mapMs } };
}
