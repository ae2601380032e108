import { join } from 'node:path';
import { activeBackend, initBackend } from '../engine/backend/index';
import type { Autoencoder } from '../engine/models/autoencoder';
import { MODEL_JSON } from '../engine/models/fs-io';
import { architectureOfId } from '../engine/models/registry';
import {
  ArtifactFileError,
  checkPlainFile,
  containedArtifactPath,
  isInsideFolder,
  readPlainFile,
  shown,
} from '../engine/store/artifact-files';
import type { RunRecord } from '../engine/store/types';
import type { Images } from '../engine/types';

const models = new Map<string, Promise<Autoencoder>>();

/** Far more than any model.json the app writes (a topology and a weights manifest: a few tens of KB). */
const MAX_MODEL_JSON_BYTES = 16 * 2 ** 20;

/**
 * The real path of the run's autoencoder folder, checked before tfjs reads it: inside this history's artifacts
 * folder, with model.json and every weight file it lists plain files inside that folder. null for runs without one.
 */
export function checkedModelFolder(dbPath: string, run: RunRecord): string | null {
  const dir = run.artifacts?.autoencoder;
  if (!dir) return null;
  const what = `Run #${run.id}'s autoencoder`;
  const real = containedArtifactPath(dbPath, dir, what);
  if (real === null) throw new ArtifactFileError(`${what} ${shown(dir)} is missing`);
  let manifest: unknown;
  try {
    manifest = (
      JSON.parse(readPlainFile(join(real, MODEL_JSON), { max: MAX_MODEL_JSON_BYTES }, what).toString('utf8')) as {
        weightsManifest?: unknown;
      }
    ).weightsManifest;
  } catch (e) {
    if (e instanceof ArtifactFileError) throw e;
    throw new ArtifactFileError(`${what} ${shown(join(dir, MODEL_JSON))} is not JSON`);
  }
  const paths = weightPaths(manifest);
  if (!paths) throw new ArtifactFileError(`${what}'s ${MODEL_JSON} does not list its weight files as paths`);
  for (const path of paths) {
    const weights = containedArtifactPath(dbPath, join(real, path), `${what} weights`);
    if (weights === null) continue; // tfjs says which file is missing
    if (!isInsideFolder(weights, real)) throw new ArtifactFileError(`${what} weights ${shown(path)} are outside its folder ${shown(dir)}`);
    checkPlainFile(weights, {}, `${what} weights`);
  }
  return real;
}

/** The weight files a model.json lists (null when its manifest is not a list of groups of paths). */
function weightPaths(manifest: unknown): string[] | null {
  if (manifest === undefined) return [];
  if (!Array.isArray(manifest)) return null;
  const paths = manifest.flatMap((group: { paths?: unknown }) => (Array.isArray(group?.paths) ? (group.paths as unknown[]) : [null]));
  return paths.every((p) => typeof p === 'string') ? (paths as string[]) : null;
}

/** The run's autoencoder from `dir`, loaded by the architecture its recorded id names (models/registry.ts). */
async function loadModel(run: RunRecord, dir: string): Promise<Autoencoder> {
  const id = run.artifacts.architecture;
  const architecture = architectureOfId(id);
  if (!architecture) throw new Error(`Run #${run.id}'s autoencoder has an unknown architecture ${shown(String(id))}`);
  // Image details can be asked for before any run has started a backend in this worker; a cheap one will do
  // (no calibration), and a running experiment's backend is never switched.
  if (!activeBackend()) await initBackend('wasm').catch(() => initBackend('cpu'));
  return architecture.load(dir, id);
}

/** The reconstruction of one eval image by the autoencoder in `modelDir` (see checkedModelFolder), as base64 bytes. */
export async function reconstructImage(run: RunRecord, modelDir: string, set: Images, index: number): Promise<string> {
  let loading = models.get(modelDir);
  if (!loading) {
    loading = loadModel(run, modelDir);
    loading.catch(() => models.delete(modelDir));
    models.set(modelDir, loading);
  }
  const pixels = await (await loading).reconstruct(set, [index]);
  // Linear (MSE) decoders can overshoot [0, 1].
  return Buffer.from(Uint8Array.from(pixels, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255))).toString('base64');
}
