/**
 * A run of an unlabelled RGB data set on its page, the runs list and Compare, in the built UI against a stand-in
 * engine (mock-engine.ts): label-free scores, cluster sizes, grids of non-square colour images drawn in colour at
 * their own size, the map coloured by cluster — and no label-only panel at all. Cluster c's images are one pure
 * colour each (red, green, blue), so the test can read back what the canvases drew.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { RunRecord, RunSummary } from '../../src-main/contract/index';
import { e2eSkipReason, startApp } from './harness';
import { mockEngine } from './mock-engine';

const tid = (id: string): string => `[data-testid="${id}"]`;
const WIDTH = 20;
const HEIGHT = 12;
const SIZES = [30, 40, 20];
const COLOURS: [number, number, number][] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
];
const SHA = 'c0ffee1234567890abcdef1234567890abcdef1234567890abcdef1234567890';

const dataset = {
  name: 'colour-blocks',
  dir: '/data/colour-blocks',
  format: 'folder',
  checksums: {},
  fitSize: 90,
  evalSize: 90,
  pixelStats: { min: 0, max: 1, mean: 0.33 },
  sha256: SHA,
  shape: { kind: 'images', height: HEIGHT, width: WIDTH, channels: 3 },
  labelled: false,
  singleSplit: true,
} as const;

function runOf(id: number, silhouette: number): RunRecord {
  return {
    id,
    task: 'kmeans',
    params: { task: 'kmeans', k: 3, seed: id, dataset: dataset.name },
    seed: id,
    backend: 'wasm',
    dataset,
    status: 'completed',
    error: null,
    startedAt: '2026-12-08T10:00:00.000Z',
    endedAt: '2026-12-08T10:00:05.000Z',
    metrics: { silhouette, silhouetteSample: 90, calinskiHarabasz: 1234.5, daviesBouldin: 0.75, inertia: 42 },
    evaluation: null,
    timings: { totalMs: 5000 },
    artifacts: {},
    losses: [],
    uid: `mock-${id}`,
    sweepId: null,
    sweepChild: null,
  } as unknown as RunRecord;
}

const summaryOf = (run: RunRecord): RunSummary =>
  ({
    id: run.id,
    task: run.task,
    status: run.status,
    params: run.params,
    backend: run.backend,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    error: null,
    accuracy: null,
    nmi: null,
    ari: null,
    silhouette: run.metrics!.silhouette,
    dataset: { name: dataset.name, labelled: false, shape: `${HEIGHT}×${WIDTH}×3` },
    totalMs: 5000,
    sweepId: null,
  }) as RunSummary;

const runs = [runOf(1, 0.25), runOf(2, 0.5)];

/** Cluster c: images c·100 …, every pixel the cluster's colour. */
function clusterPage(request: { cluster: number; offset?: number; limit?: number }) {
  const size = SIZES[request.cluster] ?? 0;
  const offset = request.offset ?? 0;
  const count = Math.max(0, Math.min(request.limit ?? 60, size - offset));
  const pixels = Buffer.alloc(count * WIDTH * HEIGHT * 3);
  for (let p = 0; p < count * WIDTH * HEIGHT; p++) pixels.set(COLOURS[request.cluster], p * 3);
  return {
    cluster: request.cluster,
    mappedLabel: -1,
    clusterSize: size,
    purity: null,
    total: size,
    offset,
    width: WIDTH,
    height: HEIGHT,
    channels: 3,
    indices: Array.from({ length: count }, (_, i) => request.cluster * 100 + offset + i),
    labels: Array.from({ length: count }, () => -1),
    pixelsBase64: pixels.toString('base64'),
  };
}

/** The natural size, CSS size and centre pixel (RGBA) of the first canvas under `selector`. */
function firstCanvas(page: Page, selector: string) {
  return page
    .locator(selector)
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const box = canvas.getBoundingClientRect();
      const pixel = canvas.getContext('2d')!.getImageData(Math.floor(canvas.width / 2), Math.floor(canvas.height / 2), 1, 1).data;
      return { width: canvas.width, height: canvas.height, cssWidth: box.width, cssHeight: box.height, pixel: [...pixel] };
    });
}

describe.skipIf(e2eSkipReason)('an unlabelled RGB run in the UI (web mode, Chromium, stand-in engine)', () => {
  it('shows label-free scores, sizes, colour grids and the map, and no label-only panel, on its page, the list and Compare', async () => {
    const app = await startApp();
    const { page } = app;
    try {
      await mockEngine(page, {
        'runs.list': () => runs.map(summaryOf),
        'runs.get': ({ id }) => runs.find((r) => r.id === id)!,
        'runs.compare': ({ ids }) => ids.map((id) => runs.find((r) => r.id === id)!),
        'runs.clusterImages': clusterPage,
        'runs.imageDetail': ({ index }) => {
          const cluster = Math.floor(index / 100);
          const pixels = Buffer.alloc(WIDTH * HEIGHT * 3);
          for (let p = 0; p < WIDTH * HEIGHT; p++) pixels.set(COLOURS[cluster], p * 3);
          return {
            index,
            label: -1,
            cluster,
            mappedLabel: -1,
            width: WIDTH,
            height: HEIGHT,
            channels: 3,
            pixelsBase64: pixels.toString('base64'),
            reconstructionBase64: null,
          };
        },
        'runs.embedding': () => ({
          points: SIZES.flatMap((size, c) => Array.from({ length: size }, (_, i) => [c * 10 + (i % 5), i / 10])).flat(),
          clusters: SIZES.flatMap((size, c) => Array.from({ length: size }, () => c)),
          labels: SIZES.flatMap((size) => Array.from({ length: size }, () => -1)),
          indices: SIZES.flatMap((size, c) => Array.from({ length: size }, (_, i) => c * 100 + i)),
          method: 'pca',
          source: 'pixels',
        }),
      });
      await page.reload();
      await page.evaluate(() => {
        location.hash = '#/runs/1';
      });

      // --- Overview: the label-free scores, with the silhouette's sample; the cluster sizes
      await page.locator(tid('metrics')).waitFor();
      expect(await page.innerText(tid('metric-silhouette'))).toBe('0.2500');
      expect(await page.innerText(tid('metrics'))).toContain('on all 90');
      expect(await page.innerText(tid('metric-calinski-harabasz'))).toBe('1,234.5');
      expect(await page.innerText(tid('metric-davies-bouldin'))).toBe('0.7500');
      await page.locator(tid('cluster-sizes-table')).waitFor();
      expect((await page.locator(tid('cluster-size-value')).allInnerTexts()).map(Number)).toEqual(SIZES);
      const labelOnly = ['metric-accuracy', 'metric-nmi', 'metric-ari', 'mapping-table', 'confusion-chart', 'class-report', 'f1-chart'];
      for (const absent of labelOnly) expect(await page.locator(tid(absent)).count(), absent).toBe(0);
      await app.pageShot('unlabelled-run-overview');

      // --- Cluster images: colour, at the images' own 20×12, shown with that aspect; no labels, no mistakes filter
      await page.click(tid('tab-images'));
      for (let c = 0; c < SIZES.length; c++) {
        const grid = tid(`cluster-grid-${c}`);
        await page
          .locator(`${grid} ${tid('cluster-image')}`)
          .first()
          .waitFor();
        expect(await page.locator(`${grid} ${tid('cluster-image')}`).count()).toBe(Math.min(32, SIZES[c]));
        expect(await page.locator(`${grid} ${tid(`cluster-${c}-mistakes`)}`).count()).toBe(0);
        expect(await page.locator(`${grid} ${tid('cluster-purity')}`).count()).toBe(0);
        expect(await page.locator(`${grid} .wrong`).count()).toBe(0);
        const canvas = await firstCanvas(page, `${grid} ${tid('cluster-image')} canvas`);
        expect(canvas).toMatchObject({ width: WIDTH, height: HEIGHT, pixel: [...COLOURS[c], 255] });
        expect(canvas.cssWidth / canvas.cssHeight).toBeCloseTo(WIDTH / HEIGHT, 1);
      }
      await app.pageShot('unlabelled-run-images');

      // The whole cluster in the scrolling grid, in colour too.
      await page.click(tid('cluster-1-browse'));
      await page
        .locator(`${tid('cluster-browser')} ${tid('virtual-image')}`)
        .first()
        .waitFor();
      expect(await page.locator(`${tid('cluster-browser')} ${tid('cluster-browser-mistakes')}`).count()).toBe(0);
      expect(await page.locator(`${tid('cluster-browser')} ${tid('virtual-image')}`).count()).toBe(SIZES[1]);
      expect((await firstCanvas(page, `${tid('cluster-browser')} canvas`)).pixel).toEqual([...COLOURS[1], 255]);
      await page.keyboard.press('Escape');
      await page.locator(tid('cluster-browser')).waitFor({ state: 'detached' });

      // An image's detail: its cluster, no true label or verdict; drawn in colour at its size.
      await page
        .locator(`${tid('cluster-grid-2')} ${tid('cluster-image')}`)
        .first()
        .click();
      await page.locator(tid('detail-cluster')).waitFor();
      expect(await page.innerText(tid('detail-cluster'))).toBe('2');
      expect(await page.locator(tid('detail-label')).count()).toBe(0);
      expect(await firstCanvas(page, `${tid('image-detail')} canvas`)).toMatchObject({
        width: WIDTH,
        height: HEIGHT,
        pixel: [0, 0, 255, 255],
      });
      await page.keyboard.press('Escape');
      await page.locator(tid('image-detail')).waitFor({ state: 'detached' });

      // --- The map: by cluster only
      await page.click(tid('tab-embedding'));
      await page
        .locator(`${tid('embedding-chart')} canvas`)
        .first()
        .waitFor();
      expect(await page.locator(tid('embedding-color-label')).count()).toBe(0);

      // --- Details: the data set's shape, hash and labels
      await page.click(tid('tab-details'));
      expect(await page.innerText(tid('run-dataset'))).toContain(`${HEIGHT}×${WIDTH}×3`);
      expect(await page.innerText(tid('run-dataset-sha'))).toBe(SHA);
      expect(await page.innerText(tid('run-dataset'))).toContain('none: label-free scores only');

      // --- Runs list: the data set, no accuracy
      await page.evaluate(() => {
        location.hash = '#/runs';
      });
      await page.locator(tid('run-row-1')).waitFor();
      expect(await page.innerText(`${tid('run-row-1')} ${tid('run-dataset')}`)).toBe(`${dataset.name}\n${HEIGHT}×${WIDTH}×3 · unlabelled`);
      expect(await page.innerText(`${tid('run-row-1')} ${tid('run-accuracy')}`)).toBe('—');

      // --- Compare: label-free rows, the best silhouette marked; no label score row, no confusion matrices
      await page.evaluate(() => {
        location.hash = '#/compare/1,2';
      });
      await page.locator(tid('compare-metrics')).waitFor();
      expect(await page.locator(tid('compare-metric-accuracy')).count()).toBe(0);
      expect(await page.innerText(`${tid('compare-metric-silhouette')} .best`)).toBe('0.5000');
      expect(await page.innerText(tid('compare-param-dataset'))).toContain(`colour-blocks · c0ffee1 · ${HEIGHT}×${WIDTH}×3`);
      expect(await page.locator(tid('compare-confusions')).count()).toBe(0);
      await app.pageShot('unlabelled-run-compare');
      expect(app.pageErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 180_000);
});
