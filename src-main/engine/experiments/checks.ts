/**
 * The checks that need the data or the run history. Like the schema's, they run before a run exists, so a bad
 * parameter never leaves a run behind.
 */
import { existsSync } from 'node:fs';
import { isLabelled, isSingleSplit, rowSize, type DataSplit, type LoadedDataset } from '../data/dataset';
import { isAugmenting } from '../models/augment';
import { umapParamIssues } from '../manifold/umap';
import { autoencoderArchitecture } from '../models/registry';
import { folderSha256, type RunStore } from '../store/index';
import type { DatasetInfo, RunRecord } from '../store/types';
import { ParamError, tableParamName, type ParamIssue } from '../schema/params';
import { encoderArchitecture, type PipelineSpec } from './spec';

/** Where a run's data came from: the folder or file, the container, the checksum of each file when known. */
export interface DataOrigin {
  dir: string;
  format: DatasetInfo['format'];
  checksums: Record<string, string>;
  imagesOf?: DatasetInfo['imagesOf'];
}

/** Min, max and mean of a split's values: for images, the stored verification of the normalisation. */
function valueStats(split: DataSplit, size: number): DatasetInfo['pixelStats'] {
  const values = split.values.subarray(0, split.count * size);
  if (values.length === 0) return { min: 0, max: 0, mean: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / values.length };
}

/** Facts about the data a run saw, stored with it so runs can be compared and reused safely. */
export function describeDataset(data: LoadedDataset, origin: DataOrigin): DatasetInfo {
  return {
    name: data.name,
    ...origin,
    fitSize: data.train.count,
    evalSize: data.test.count,
    pixelStats: valueStats(data.train, rowSize(data.shape)),
    sha256: data.sha256,
    shape: data.shape,
    labelled: isLabelled(data),
    singleSplit: isSingleSplit(data),
  };
}

/**
 * Why the encoder files in `dir` are not exactly those recorded with `run` (null when they are): a reused encoder
 * must never silently be another history's or a changed one.
 */
export function encoderProblem(run: RunRecord, dir: string): string | null {
  const recorded = run.artifacts.autoencoderSha256;
  if (!recorded)
    return `run #${run.id} has no recorded checksum for its encoder (it predates checksums, or its files could not be shown to be this history's); train a new one`;
  if (!existsSync(dir)) return `run #${run.id}'s encoder files are missing (${dir})`;
  if (folderSha256(dir) !== recorded)
    return `run #${run.id}'s encoder files in ${dir} do not match the checksum recorded with it: they were changed or replaced`;
  return null;
}

/** The completed run whose autoencoder (of architecture `wanted`) a new run reuses; a ParamError says why not. */
function reusableEncoderRun(store: RunStore, id: number, wanted: string | undefined, hint: string): RunRecord {
  const earlier = store.getRun(id);
  const reject = (message: string): never => {
    throw new ParamError([{ param: 'reuseEncoder', message }]);
  };
  if (!earlier) return reject('no such run');
  if (earlier.status !== 'completed') reject(`run #${earlier.id} is ${earlier.status}`);
  const encoderDir = earlier.artifacts.autoencoder;
  if (!encoderDir) return reject(`run #${earlier.id} (${earlier.task}) has no trained autoencoder`);
  if (earlier.artifacts.architecture !== wanted)
    reject(`run #${earlier.id} used architecture '${earlier.artifacts.architecture}', not '${wanted}'${hint}`);
  const problem = encoderProblem(earlier, encoderDir);
  if (problem) reject(problem);
  return earlier;
}

/** Checks a spec against the loaded data and the history; returns the run whose encoder is reused, if any. */
export function checkAgainstData(spec: PipelineSpec, data: LoadedDataset, store: RunStore): RunRecord | undefined {
  // a data set with one split fits on the rows it scores: there are no test rows to add
  const transductive = spec.protocol === 'transductive' && !isSingleSplit(data);
  const fitRows = transductive ? data.train.count + data.test.count : data.train.count;
  const issues: ParamIssue[] = [];
  const rows = data.shape.kind === 'images' ? 'images' : 'rows';
  if (spec.k > fitRows)
    issues.push({
      param: 'k',
      message: `${spec.k} clusters for only ${fitRows} ${transductive ? `${rows} to fit on` : `training ${rows}`}`,
    });
  if (spec.encoder.kind !== 'none' && isAugmenting(spec.encoder.training.augment) && data.shape.kind !== 'images')
    issues.push({ param: 'augRotation', message: `augmentation transforms images; data set '${data.name}' holds feature rows` });
  if (spec.umap) {
    for (const issue of umapParamIssues(spec.umap, fitRows))
      issues.push({ param: tableParamName('umap', issue.param) ?? issue.param, message: issue.message });
  }
  const { encoder } = spec;
  if (encoder.kind !== 'none' && encoder.reuse === undefined) {
    const trainCount = fitRows - Math.floor(fitRows * encoder.training.valSplit);
    if (encoder.training.batchSize > trainCount) {
      issues.push({
        param: 'batchSize',
        message: `${encoder.training.batchSize} is larger than the ${trainCount} training images left after the validation split`,
      });
    }
  }
  if (issues.length) throw new ParamError(issues);
  if (encoder.kind === 'none' || encoder.reuse === undefined) return undefined;
  const hint = autoencoderArchitecture(encoder.kind).reuseHint ?? '';
  return reusableEncoderRun(store, encoder.reuse, encoderArchitecture(encoder), hint);
}
