/**
 * A cluster of 70,000 images scrolls in the built UI without putting 70,000 images in the page: the "All images"
 * grid keeps only the rows in view (plus a margin) and fetches pages as they come into view. The engine is a
 * stand-in (mock-engine.ts) serving a run whose cluster 0 has 70,000 images, each drawn with its own index, so
 * the test can tell which images are on screen. Counts, not timings.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { RunRecord, RunSummary } from '../../src-main/contract/index';
import { e2eSkipReason, settled, startApp } from './harness';
import { mockEngine } from './mock-engine';

const tid = (id: string): string => `[data-testid="${id}"]`;
const BIG = 70_000;
const SMALL = 12;
/** Bounds far below the 70,000 a plain grid would hold, far above what one screen of rows needs. */
const MAX_ITEMS = 600;
const MAX_NODES = 2_500;

// (Cast: the summary's fields grow with the engine; these are the ones the pages read.)
const summary = {
  id: 1,
  task: 'kmeans',
  status: 'completed',
  params: { task: 'kmeans', k: 2, seed: 0 },
  backend: 'wasm',
  startedAt: '2026-12-08T10:00:00.000Z',
  endedAt: '2026-12-08T10:01:00.000Z',
  error: null,
  accuracy: 0.9,
  nmi: 0.5,
  ari: 0.4,
  silhouette: 0.12,
  dataset: null,
  totalMs: 60_000,
  sweepId: null,
} as RunSummary;

const run = {
  id: 1,
  task: 'kmeans',
  params: summary.params,
  seed: 0,
  backend: 'wasm',
  dataset: null,
  status: 'completed',
  error: null,
  startedAt: summary.startedAt,
  endedAt: summary.endedAt,
  metrics: { accuracy: 0.9, nmi: 0.5, ari: 0.4 },
  evaluation: {
    accuracy: 0.9,
    nmi: 0.5,
    ari: 0.4,
    mapping: [0, 1],
    clusterSizes: [BIG, SMALL],
    confusion: [
      [63_000, 0],
      [7_000, SMALL],
    ],
    classNames: ['even', 'odd'],
    perClass: [],
    macroAvg: { precision: 0, recall: 0, f1: 0, support: 0 },
    weightedAvg: { precision: 0, recall: 0, f1: 0, support: 0 },
  },
  timings: null,
  artifacts: {},
  losses: [],
  uid: 'mock',
  sweepId: null,
  sweepChild: null,
} as RunRecord;

/** Images 28×28 grey, image i filled with i mod 256; cluster 0 holds images 0..69,999, one in ten labelled 1. */
function clusterPage(request: { cluster: number; offset?: number; limit?: number }) {
  const size = request.cluster === 0 ? BIG : SMALL;
  const offset = request.offset ?? 0;
  const count = Math.max(0, Math.min(request.limit ?? 60, size - offset));
  const indices = Array.from({ length: count }, (_, i) => (request.cluster === 0 ? 0 : BIG) + offset + i);
  const pixels = Buffer.alloc(count * 784);
  indices.forEach((index, i) => pixels.fill(index % 256, i * 784, (i + 1) * 784));
  return {
    cluster: request.cluster,
    mappedLabel: request.cluster,
    clusterSize: size,
    purity: 0.9,
    total: size,
    offset,
    width: 28,
    height: 28,
    channels: 1,
    indices,
    labels: indices.map((index) => (index % 10 === 0 ? 1 : 0)),
    pixelsBase64: pixels.toString('base64'),
  };
}

/** The grid's items now in the page, the element count under the dialog, and the image under the viewport's centre. */
function gridState(page: Page) {
  return page.evaluate(() => {
    const dialog = document.querySelector('[data-testid="cluster-browser"]')!;
    const viewport = dialog.querySelector<HTMLElement>('[data-testid="virtual-grid"]')!;
    const box = viewport.getBoundingClientRect();
    const atCentre = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)?.closest('[data-index]');
    const items = [...dialog.querySelectorAll<HTMLElement>('li[data-position]')];
    const positions = items.map((li) => Number(li.getAttribute('data-position')));
    return {
      columns: items.filter((li) => li.offsetTop === items[0]?.offsetTop).length,
      scrollHeight: viewport.scrollHeight,
      items: positions.length,
      nodes: dialog.querySelectorAll('*').length,
      images: dialog.querySelectorAll('[data-testid="virtual-image"]').length,
      first: Math.min(...positions),
      last: Math.max(...positions),
      centre: atCentre ? Number(atCentre.getAttribute('data-index')) : null,
      setSize: Number(dialog.querySelector('li[data-position]')?.getAttribute('aria-setsize')),
      scrollTop: viewport.scrollTop,
      scrollRoom: viewport.scrollHeight - viewport.clientHeight,
    };
  });
}

/** Scrolls the grid to a fraction of its height and waits until the image at its centre is drawn. */
async function scrollTo(page: Page, fraction: number): Promise<void> {
  await page.evaluate((f) => {
    const viewport = document.querySelector<HTMLElement>('[data-testid="cluster-browser"] [data-testid="virtual-grid"]')!;
    viewport.scrollTop = f * (viewport.scrollHeight - viewport.clientHeight);
  }, fraction);
  await page.waitForFunction(() => {
    const viewport = document.querySelector<HTMLElement>('[data-testid="cluster-browser"] [data-testid="virtual-grid"]')!;
    const box = viewport.getBoundingClientRect();
    return document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)?.closest('[data-index]') != null;
  });
}

describe.skipIf(e2eSkipReason)('a 70,000-image cluster in the scrolling grid (web mode, Chromium, stand-in engine)', () => {
  it('keeps the page to the rows in view while scrolling anywhere in the cluster, fetching only the pages it shows', async () => {
    const app = await startApp();
    const { page } = app;
    try {
      const engine = await mockEngine(page, {
        'runs.list': () => [summary],
        'runs.get': () => run,
        'runs.clusterImages': clusterPage,
        'runs.imageDetail': ({ index }) => ({
          index,
          label: index % 10 === 0 ? 1 : 0,
          cluster: 0,
          mappedLabel: 0,
          pixelsBase64: Buffer.alloc(784, index % 256).toString('base64'),
          reconstructionBase64: null,
        }),
      });
      await page.reload();
      await page.evaluate(() => {
        location.hash = '#/runs/1?tab=images';
      });
      await page
        .locator(`${tid('cluster-grid-0')} ${tid('cluster-image')}`)
        .first()
        .waitFor();
      await page.click(tid('cluster-0-browse'));
      await page
        .locator(`${tid('cluster-browser')} ${tid('virtual-image')}`)
        .first()
        .waitFor();
      await expect.poll(() => page.innerText(tid('cluster-browser-count'))).toBe('70,000 images');

      const top = await gridState(page);
      expect(top.setSize).toBe(BIG);
      expect(top.first).toBe(0);
      expect(top.items).toBeLessThanOrEqual(MAX_ITEMS);
      expect(top.nodes).toBeLessThanOrEqual(MAX_NODES);
      // The scroll height is that of all 70,000 images' rows (64 px a row: 56 px images, frame and gap; 12 px padding).
      expect(Math.abs(top.scrollHeight - 12 - Math.ceil(BIG / top.columns) * 64)).toBeLessThanOrEqual(64);

      const seen = [top];
      for (const fraction of [0.25, 0.5, 0.8, 1, 0.1]) {
        await scrollTo(page, fraction);
        const state = await gridState(page);
        seen.push(state);
        // The image at the centre is the one at that point of the cluster (each image is drawn by its index).
        const expected = fraction * BIG;
        expect(Math.abs(state.centre! - expected)).toBeLessThan(state.items);
        expect(state.first).toBeLessThanOrEqual(state.centre!);
        expect(state.last).toBeGreaterThanOrEqual(state.centre!);
        expect(state.items).toBeLessThanOrEqual(MAX_ITEMS);
        expect(state.nodes).toBeLessThanOrEqual(MAX_NODES);
      }
      expect(seen.find((s) => s.scrollTop >= s.scrollRoom - 1)?.last).toBe(BIG - 1);

      // Wheel scrolling step by step: the page never grows.
      const box = (await page.locator(`${tid('cluster-browser')} ${tid('virtual-grid')}`).boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (let step = 0; step < 25; step++) {
        await page.mouse.wheel(0, 1500);
        await settled(page);
        const state = await gridState(page);
        expect(state.items).toBeLessThanOrEqual(MAX_ITEMS);
        expect(state.nodes).toBeLessThanOrEqual(MAX_NODES);
      }

      // Pages were fetched as they came into view: a few per jump, nowhere near the cluster's 175 pages of 400.
      const big = engine.requests.filter((r) => r.op === 'runs.clusterImages' && (r.payload as { cluster: number }).cluster === 0);
      const fetched = new Set(big.map((r) => (r.payload as { offset?: number }).offset ?? 0));
      expect(fetched.size).toBeGreaterThan(5);
      expect(fetched.size).toBeLessThan(60);

      // A click still opens the image's detail, above the grid.
      await scrollTo(page, 0.6);
      const { centre } = await gridState(page);
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await page.locator(tid('detail-index')).waitFor();
      expect(await page.innerText(tid('detail-index'))).toBe(String(centre));
      expect(app.pageErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 180_000);
});
