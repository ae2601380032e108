import { loadAutoencoder, reconstruct, type ConvAutoencoder } from '../engine/models/convAutoencoder';
import type { RunRecord } from '../engine/store/types';
import type { ImageSet } from '../engine/types';

const models = new Map<string, Promise<ConvAutoencoder>>();

/** The autoencoder's reconstruction of one eval image as base64 bytes, or null for runs without an autoencoder. */
export async function reconstructImage(run: RunRecord, set: ImageSet, index: number): Promise<string | null> {
  const dir = run.artifacts?.autoencoder;
  if (!dir) return null;
  let loading = models.get(dir);
  if (!loading) {
    loading = loadAutoencoder(dir);
    loading.catch(() => models.delete(dir));
    models.set(dir, loading);
  }
  const pixels = await reconstruct(await loading, set, [index]);
  return Buffer.from(Uint8Array.from(pixels, (v) => Math.round(v * 255))).toString('base64');
}
