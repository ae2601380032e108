/**
 * A tfjs IOHandler on the Node file system (pure @tensorflow/tfjs has no `file://` handler in Node): the usual
 * tfjs layout, `model.json` (topology + weights manifest) next to `weights.bin`. Each file is written to a
 * temporary name and renamed, weights first, so a reader never sees a half-written model.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../files';

type ModelArtifacts = tf.io.ModelArtifacts;
type SaveResult = tf.io.SaveResult;
type ModelJSON = tf.io.ModelJSON;

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

function weightBytes(data: ModelArtifacts['weightData']): Uint8Array {
  if (data == null) return new Uint8Array(0);
  const buffer = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return new Uint8Array(buffer);
}

/** Handler for `model.save(handler)`: writes `dir/model.json` and `dir/weights.bin` (creates `dir`). */
export function saveModelArtifacts(dir: string, metadata: Record<string, unknown> = {}): tf.io.IOHandler {
  return {
    async save(artifacts: ModelArtifacts): Promise<SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('binary model topologies are not supported');
      await mkdir(dir, { recursive: true });
      const weights = weightBytes(artifacts.weightData);
      const json: ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), ...metadata } as Record<string, object>,
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      const text = JSON.stringify(json);
      await writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      await writeFileAtomic(join(dir, MODEL_JSON), text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(json.modelTopology)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(artifacts.weightSpecs ?? [])),
          weightDataBytes: weights.byteLength,
        },
      };
    },
  };
}

export interface FsLoadHandler extends tf.io.IOHandler {
  /** `userDefinedMetadata` of the last loaded model.json. */
  lastMetadata: Record<string, unknown> | undefined;
}

/** Handler for `tf.loadLayersModel(handler)`: reads `dir/model.json` and the weight files it lists. */
export function loadModelArtifacts(dir: string): FsLoadHandler {
  const handler: FsLoadHandler = {
    lastMetadata: undefined,
    async load(): Promise<ModelArtifacts> {
      const jsonPath = join(dir, MODEL_JSON);
      let json: ModelJSON;
      try {
        json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJSON;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new Error(`no saved model in ${dir} (${MODEL_JSON} not found)`, { cause: err });
        throw new Error(`cannot read ${jsonPath}: ${(err as Error).message}`, { cause: err });
      }
      if (json.modelTopology == null) throw new Error(`${jsonPath} has no modelTopology`);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(await readFile(join(dir, p)));
      }
      const total = buffers.reduce((s, b) => s + b.byteLength, 0);
      const weightData = new ArrayBuffer(total);
      const view = new Uint8Array(weightData);
      let offset = 0;
      for (const b of buffers) {
        view.set(b, offset);
        offset += b.byteLength;
      }
      handler.lastMetadata = json.userDefinedMetadata as Record<string, unknown> | undefined;
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData,
      };
    },
  };
  return handler;
}
