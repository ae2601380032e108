/**
 * Issue 21's grids of a run on any data set, as the engine worker answers them (handleQuery on the history's path):
 * feature rows added with `--images-of` show the images they were computed from (their size, channels and very
 * pixels), feature rows without it say in one line that they hold no images, and an RGB images data set's pages
 * carry three bytes a pixel.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterImagesPage, RunEmbedding } from '../../src-main/contract/index';
import { loadFashionMnist } from '../../src-main/engine/data/index';
import { encodeNpy } from '../../src-main/engine/data/formats/npy-codec';
import { runExperiment } from '../../src-main/engine/experiments/run';
import { RunStore } from '../../src-main/engine/store';
import { addDataset, removeDataset } from '../../src-main/service/datasets';
import { handleQuery } from '../../src-main/service/queries';
import { skipUnless } from '../helpers/prereqs';
import { tempHome } from '../helpers/cli';

const home = tempHome('cb-datasets-grids-');
const store = RunStore.open(join(home, 'runs.sqlite'));
afterAll(() => {
  store.close();
  rmSync(home, { recursive: true, force: true });
});

const ctx = { dbPath: store.path, busy: () => false, emit: () => undefined };
const clusterImages = (id: number, cluster: number) =>
  handleQuery('runs.clusterImages', { id, cluster, onlyMistakes: false, offset: 0, limit: 400 }, ctx) as Promise<ClusterImagesPage>;
interface ImageDetail {
  index: number;
  label: number;
  width: number;
  height: number;
  channels: number;
  pixelsBase64: string;
  reconstructionBase64: string | null;
}
const imageDetail = (id: number, index: number) => handleQuery('runs.imageDetail', { id, index }, ctx) as Promise<ImageDetail>;
const embedding = (id: number) => handleQuery('runs.embedding', { id }, ctx) as Promise<RunEmbedding>;
const kmeans = async (dataset: string, k = 2, over: Record<string, unknown> = {}) =>
  store.getRun((await runExperiment({ task: 'kmeans', dataset, k, seed: 0, backend: 'cpu', ...over }, { store })).id, {
    withAssignments: true,
  })!;

/** A page's or a detail's pixels, one Buffer per image. */
function imagesOf(page: { pixelsBase64: string; width: number; height: number; channels?: number }, count: number): Buffer[] {
  const bytes = Buffer.from(page.pixelsBase64, 'base64');
  const size = page.width * page.height * (page.channels ?? 1);
  expect(bytes.length).toBe(count * size);
  return Array.from({ length: count }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

const HEIGHT = 8;
const WIDTH = 6;
const PER_CLASS = 5;
/** The images' RGB bytes in the order the folder is read in: class folder `a`, then `b`, files by name. */
const pixels: Buffer[] = [];

describe('a run on feature rows', () => {
  beforeAll(async () => {
    const folder = join(home, 'pics');
    for (const [c, cls] of ['a', 'b'].entries()) {
      mkdirSync(join(folder, cls), { recursive: true });
      for (let i = 0; i < PER_CLASS; i++) {
        const row = c * PER_CLASS + i;
        // every image its own bytes: a wrong row or channel order shows
        const bytes = Buffer.from(Array.from({ length: HEIGHT * WIDTH * 3 }, (_, p) => (row * 37 + p * 11 + (p % 3) * 60) % 256));
        pixels.push(bytes);
        await sharp(bytes, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
          .png()
          .toFile(join(folder, cls, `${i}.png`));
      }
    }
    // two well-apart groups of codes, one per class folder: k-means with k = 2 puts each in its own cluster
    const rows = 2 * PER_CLASS;
    const codes = Float32Array.from({ length: rows * 2 }, (_, i) => (Math.floor(i / 2) < PER_CLASS ? 0 : 10) + (i % 2) * 0.1 * (i % 7));
    const path = join(home, 'codes.npy');
    writeFileSync(path, encodeNpy(codes, [rows, 2]));
    await addDataset(store, { name: 'pics', path: folder });
    await addDataset(store, { name: 'codes', path, imagesOf: 'pics' });
    await addDataset(store, { name: 'bare', path });
  }, 300_000);

  it('with --images-of: the clusters show the images of the data set named, their size, channels and pixels', async () => {
    const run = await kmeans('codes');
    expect(run.dataset).toMatchObject({ name: 'codes', shape: { kind: 'features', dim: 2 }, labelled: false });
    const seen: number[] = [];
    for (const cluster of [0, 1]) {
      const page = await clusterImages(run.id, cluster);
      expect(page).toMatchObject({ width: WIDTH, height: HEIGHT, channels: 3, cluster, mappedLabel: -1, purity: null });
      expect(page.indices).toHaveLength(PER_CLASS);
      expect(page.labels).toEqual(page.indices.map(() => -1));
      imagesOf(page, page.indices.length).forEach((bytes, i) => expect(bytes.equals(pixels[page.indices[i]])).toBe(true));
      seen.push(...page.indices);
      // each cluster is one group of codes: rows 0–4 or rows 5–9
      expect(new Set(page.indices.map((row) => Math.floor(row / PER_CLASS))).size).toBe(1);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(2 * PER_CLASS).keys()]);

    const detail = await imageDetail(run.id, 7);
    expect(detail).toMatchObject({ index: 7, label: -1, width: WIDTH, height: HEIGHT, channels: 3, reconstructionBase64: null });
    expect(imagesOf(detail, 1)[0].equals(pixels[7])).toBe(true);
  }, 300_000);

  it('without --images-of: the grids say in one line that the data set holds feature rows', async () => {
    const run = await kmeans('bare');
    await expect(clusterImages(run.id, 0)).rejects.toThrow(
      new RegExp(`^Run #${run.id}'s data set 'bare' holds feature rows and names no images \\(datasets add … --images-of\\)$`),
    );
    await expect(imageDetail(run.id, 0)).rejects.toThrow(`Run #${run.id}'s data set 'bare' holds feature rows and names no images`);
    // its map is a PCA of the rows it clustered: the two groups of codes lie apart along the first axis
    const map = await embedding(run.id);
    expect(map).toMatchObject({ method: 'pca', source: 'codes', clusters: [...run.assignments!] });
    const xs = map.indices.map((i) => map.points[2 * i]);
    const [low, high] = [xs.slice(0, PER_CLASS), xs.slice(PER_CLASS)].map((group) => [Math.min(...group), Math.max(...group)]);
    expect(Math.abs(low[0] - high[0])).toBeGreaterThan(5 * Math.max(low[1] - low[0], high[1] - high[0]));
  }, 300_000);

  it("an RGB images data set's page holds width × height × 3 bytes an image, the images' own", async () => {
    const run = await kmeans('pics');
    const page = await clusterImages(run.id, run.assignments![0]);
    expect(page).toMatchObject({ width: WIDTH, height: HEIGHT, channels: 3 });
    expect(Buffer.from(page.pixelsBase64, 'base64').length).toBe(page.indices.length * WIDTH * HEIGHT * 3);
    imagesOf(page, page.indices.length).forEach((bytes, i) => expect(bytes.equals(pixels[page.indices[i]])).toBe(true));
  }, 300_000);

  it('once the images data set is removed, the grids say so in one line (the run keeps its rows)', async () => {
    const run = await kmeans('codes');
    removeDataset(store, 'pics');
    await expect(clusterImages(run.id, 0)).rejects.toThrow(
      /^data set 'codes' shows the images of 'pics', which is not in this history \(removed\?\)$/,
    );
    await expect(imageDetail(run.id, 0)).rejects.toThrow(/^data set 'codes' shows the images of 'pics', which is not in this history/);
    expect(await embedding(run.id)).toMatchObject({ source: 'codes', clusters: [...run.assignments!] });
  }, 300_000);
});

describe.skipIf(skipUnless('fashionMnist'))('feature rows of the built-in Fashion-MNIST (--images-of fashion-mnist)', () => {
  it("show Fashion-MNIST's test images, row for row", async () => {
    const fashion = await loadFashionMnist();
    // the codes: each image's mean and its first pixel row's mean, for all 60,000 + 10,000 images
    const codesOf = (set: typeof fashion.train): Float32Array => {
      const out = new Float32Array(set.count * 2);
      for (let i = 0; i < set.count; i++) {
        const image = set.images.subarray(i * 784, (i + 1) * 784);
        out[2 * i] = image.reduce((a, b) => a + b, 0) / 784;
        out[2 * i + 1] = image.subarray(0, 28).reduce((a, b) => a + b, 0) / 28;
      }
      return out;
    };
    const train = join(home, 'fm-codes.npy');
    const test = join(home, 'fm-codes-test.npy');
    writeFileSync(train, encodeNpy(codesOf(fashion.train), [fashion.train.count, 2]));
    writeFileSync(test, encodeNpy(codesOf(fashion.test), [fashion.test.count, 2]));
    await addDataset(store, { name: 'fm-codes', path: train, test, imagesOf: 'fashion-mnist' });
    const run = await kmeans('fm-codes', 3, { trainLimit: 600, testLimit: 300 });
    expect(run.dataset).toMatchObject({ name: 'fm-codes', evalSize: 300 });

    const page = await clusterImages(run.id, 1);
    expect(page).toMatchObject({ width: 28, height: 28, channels: 1 });
    const bytesOf = (index: number): Buffer =>
      Buffer.from(Array.from(fashion.test.images.subarray(index * 784, (index + 1) * 784), (v) => Math.round(v * 255)));
    expect(page.indices.length).toBeGreaterThan(0);
    imagesOf(page, page.indices.length).forEach((bytes, i) => expect(bytes.equals(bytesOf(page.indices[i]))).toBe(true));
    const detail = await imageDetail(run.id, 299);
    expect(imagesOf(detail, 1)[0].equals(bytesOf(299))).toBe(true);
  }, 300_000);
});
