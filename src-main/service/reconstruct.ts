import { activeBackend, initBackend } from '../engine/backend/index';
import { loadAutoencoder, reconstruct } from '../engine/models/convAutoencoder';
import { DENSE_AE_ARCHITECTURE_PREFIX, loadDenseAutoencoder, reconstructDense } from '../engine/models/denseAutoencoder';
import type { RunRecord } from '../engine/store/types';
import { imagesAsMatrix, type ImageSet } from '../engine/types';

type Reconstructor = (set: ImageSet, index: number) => Promise<Float32Array>;

const models = new Map<string, Promise<Reconstructor>>();

async function loadReconstructor(dir: string, architecture: string | undefined): Promise<Reconstructor> {
  // Image details can be asked for before any run has started a backend in this worker; a cheap one will do
  // (no calibration), and a running experiment's backend is never switched.
  if (!activeBackend()) await initBackend('wasm').catch(() => initBackend('cpu'));
  if (architecture?.startsWith(DENSE_AE_ARCHITECTURE_PREFIX)) {
    const model = await loadDenseAutoencoder(dir);
    return (set, index) => reconstructDense(model, imagesAsMatrix(set), [index]);
  }
  const model = await loadAutoencoder(dir);
  return (set, index) => reconstruct(model, set, [index]);
}

/** The autoencoder's reconstruction of one eval image as base64 bytes, or null for runs without an autoencoder. */
export async function reconstructImage(run: RunRecord, set: ImageSet, index: number): Promise<string | null> {
  const dir = run.artifacts?.autoencoder;
  if (!dir) return null;
  let loading = models.get(dir);
  if (!loading) {
    loading = loadReconstructor(dir, run.artifacts.architecture);
    loading.catch(() => models.delete(dir));
    models.set(dir, loading);
  }
  const pixels = await (await loading)(set, index);
  // Linear (MSE) decoders can overshoot [0, 1].
  return Buffer.from(Uint8Array.from(pixels, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255))).toString('base64');
}
