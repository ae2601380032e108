/**
 * Any data set, end to end in the built UI (web mode, Chromium, the real engine): a flat folder of 200 unlabelled PNGs
 * (Fashion-MNIST test images, written here with sharp) is imported through the Data page's Import dialog — preview
 * first, nothing stored until Add — then clustered by k-means from New experiment; its run page shows the label-free
 * scores, the cluster sizes, the image grids and the map, and no label-only panel. Screens are saved as
 * test-artifacts/screenshots/datasets-*.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Download, Page } from 'playwright-core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src-main/contract/index';
import { DEBIAN_DATA_DIR } from '../../src-main/engine/data/locate';
import { e2eSkipReason, startApp, type App } from './harness';

const tid = (id: string): string => `[data-testid="${id}"]`;
const IMAGES = 200;
const NAME = 'fmnist-unlabelled';

/** Writes the first `count` Fashion-MNIST test images as 28×28 grey PNGs into a flat folder (no class folders). */
async function writeUnlabelledFolder(dir: string, count: number): Promise<void> {
  const idx = gunzipSync(readFileSync(join(DEBIAN_DATA_DIR, 't10k-images-idx3-ubyte.gz')));
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const pixels = idx.subarray(16 + i * 784, 16 + (i + 1) * 784);
    // b-w: a grey PNG (sharp writes sRGB by default, which a folder reads as colour)
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(join(dir, `img-${String(i).padStart(4, '0')}.png`));
  }
}

const shot = (app: App, name: string): Promise<string> => app.pageShot(`datasets-${name}`);

async function goto(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

async function download(page: Page, click: () => Promise<unknown>): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = (await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()])) as [Download, unknown];
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

async function getRun(app: App, id: number): Promise<RunRecord> {
  const reply = await app.api('runs.get', { id });
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.value;
}

describe.skipIf(e2eSkipReason)('an unlabelled image folder, imported and clustered from the UI (web mode, Chromium)', () => {
  it('imports through the dialog (preview, then add), runs k-means on it, and shows label-free results only', async () => {
    const work = mkdtempSync(join(tmpdir(), 'clusterbench-e2e-folder-'));
    const folder = join(work, 'fmnist-200');
    await writeUnlabelledFolder(folder, IMAGES);
    const app = await startApp();
    const { page } = app;
    try {
      // --- Data: the built-in data set listed first
      await goto(page, '#/data');
      await page.locator(tid('dataset-row-fashion-mnist')).waitFor({ timeout: 60_000 });
      const firstRow = await page
        .locator(`${tid('datasets-table')} tbody tr`)
        .first()
        .getAttribute('data-testid');
      expect(firstRow).toBe('dataset-row-fashion-mnist');

      // --- Import: nothing can be added before a preview of the path
      await page.click(tid('import-dataset'));
      await page.locator(tid('import-dialog')).waitFor();
      await page.fill(tid('import-path'), folder);
      expect(await page.inputValue(tid('import-name'))).toBe('fmnist-200'); // named after the folder until edited
      await page.fill(tid('import-name'), NAME);
      expect(await page.isDisabled(tid('import-add'))).toBe(true);
      await page.click(tid('import-preview'));
      await page.locator(tid('import-preview-result')).waitFor({ timeout: 60_000 });
      expect(await page.innerText(tid('import-preview-facts'))).toMatch(new RegExp(`^${IMAGES} images · unlabelled · read at 28×28×1`));
      expect(await page.locator(tid('import-preview-thumbnail')).count()).toBeGreaterThan(0);
      const listed = await app.api('datasets.list', {});
      expect(listed.ok && listed.value.map((d) => d.name)).toEqual(['fashion-mnist']); // the preview stored nothing
      await shot(app, 'import-preview');

      // --- Add: the dialog closes, the data set is listed with what it holds
      await page.click(tid('import-add'));
      await page.locator(tid('import-dialog')).waitFor({ state: 'detached', timeout: 120_000 });
      const row = page.locator(tid(`dataset-row-${NAME}`));
      await row.waitFor();
      expect(await row.locator(tid('dataset-kind')).innerText()).toBe('images');
      expect(await row.locator(tid('dataset-shape')).innerText()).toBe('28×28×1');
      expect(await row.locator(tid('dataset-rows')).innerText()).toBe(`${IMAGES} (one split)`);
      expect(await row.locator(tid('dataset-labels')).innerText()).toBe('unlabelled');
      await shot(app, 'data-list');

      // --- New experiment: k-means on it, picked in the form
      await goto(page, '#/new');
      await page.click(tid('task-kmeans'));
      await page.locator(`${tid('input-dataset')} option[value="${NAME}"]`).waitFor({ state: 'attached' });
      await page.selectOption(tid('input-dataset'), NAME);
      await expect.poll(() => page.innerText(tid('dataset-notes'))).toContain('No labels');
      expect(await page.innerText(tid('dataset-notes'))).toContain(`same ${IMAGES} rows`);
      await page.fill(tid('input-k'), '5');
      await page.fill(tid('input-nInit'), '1');
      await page.fill(tid('input-trainLimit'), '');
      await page.fill(tid('input-testLimit'), '');
      await shot(app, 'new-experiment');
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      const ended = page.locator(`${tid('live-detail')}:not([data-state="running"]):not([data-state="queued"])`);
      await ended.waitFor({ timeout: 180_000 });
      expect(await ended.getAttribute('data-state')).toBe('done');

      // --- The run page: label-free scores, sizes, grids, map; no label-only panel
      await page.click(tid('open-results'));
      await page.waitForURL(/#\/runs\/1/);
      const run = await getRun(app, 1);
      expect(run.status).toBe('completed');
      expect(run.evaluation).toBeNull();
      expect(run.params).toMatchObject({ task: 'kmeans', k: 5, dataset: NAME });
      expect(run.dataset).toMatchObject({ name: NAME, labelled: false });
      await page.locator(tid('metrics')).waitFor();
      expect(await page.innerText(tid('metric-silhouette'))).toBe(run.metrics!.silhouette!.toFixed(4));
      expect(await page.locator(tid('metric-calinski-harabasz')).count()).toBe(1);
      expect(await page.innerText(tid('metric-davies-bouldin'))).toBe(run.metrics!.daviesBouldin!.toFixed(4));
      for (const absent of [
        'metric-accuracy',
        'metric-nmi',
        'mapping-table',
        'confusion-chart',
        'confusion-table',
        'class-report',
        'f1-chart',
      ])
        expect(await page.locator(tid(absent)).count(), absent).toBe(0);
      await page.locator(tid('cluster-sizes-table')).waitFor();
      const sizes = (await page.locator(tid('cluster-size-value')).allInnerTexts()).map(Number);
      expect(sizes).toHaveLength(5);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(IMAGES);
      await shot(app, 'unlabelled-overview');

      await page.click(tid('tab-images'));
      for (let c = 0; c < 5; c++) {
        const grid = page.locator(tid(`cluster-grid-${c}`));
        await grid.locator(tid('cluster-images')).or(grid.locator('.empty')).first().waitFor();
        expect(await grid.locator(tid('cluster-image')).count()).toBe(Math.min(32, sizes[c]));
        expect(await grid.locator(tid(`cluster-${c}-mistakes`)).count()).toBe(0);
        expect(await grid.locator(tid('cluster-purity')).count()).toBe(0);
      }
      await shot(app, 'unlabelled-images');
      await page.locator(tid('cluster-image')).first().click();
      await page.locator(tid('detail-cluster')).waitFor();
      expect(await page.locator(tid('detail-label')).count()).toBe(0);
      await page.keyboard.press('Escape');
      await page.locator(tid('image-detail')).waitFor({ state: 'detached' });

      await page.click(tid('tab-embedding'));
      await page
        .locator(`${tid('embedding-chart')} canvas`)
        .first()
        .waitFor({ timeout: 60_000 });
      expect(await page.locator(tid('embedding-color-label')).count()).toBe(0);
      await shot(app, 'unlabelled-map');

      // --- The run's arrays, as one .npz (a zip)
      await page.click(tid('tab-overview'));
      const npz = await download(page, () => page.click(tid('export-arrays')));
      expect(npz.name).toMatch(/\.npz$/);
      expect(npz.bytes.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');

      // --- The runs list names the data set; the run has no accuracy
      await goto(page, '#/runs');
      await page.locator(tid('run-row-1')).waitFor();
      expect(await page.innerText(`${tid('run-row-1')} ${tid('run-dataset')}`)).toContain(NAME);
      expect(await page.innerText(`${tid('run-row-1')} ${tid('run-accuracy')}`)).toBe('—');
      await shot(app, 'runs');

      // --- Compare with a second run on it: silhouette rows, no confusion; the methods × data sets table
      const second = await app.api('runs.start', { params: { task: 'kmeans', k: 3, nInit: 1, dataset: NAME } });
      expect(second.ok).toBe(true);
      await app.waitForEvent(
        (e) => e.event === 'job.finished' && second.ok && (e.payload as { jobId: string }).jobId === second.value.jobId,
      );
      await goto(page, '#/compare/1,2');
      await page.locator(tid('compare-metrics')).waitFor();
      expect(await page.locator(tid('compare-metric-accuracy')).count()).toBe(0);
      expect(await page.locator(tid('compare-metric-silhouette')).count()).toBe(1);
      expect(await page.locator(tid('compare-confusions')).count()).toBe(0);
      expect(await page.inputValue(tid('method-table-metric'))).toBe('silhouette');
      const table = await download(page, () => page.click(tid('method-table-md')));
      expect(table.name).toMatch(/\.md$/);
      expect(table.bytes.toString('utf8')).toContain(NAME);
      await shot(app, 'compare');

      // --- Remove the data set: its runs keep what they recorded
      await goto(page, '#/data');
      await page.click(tid(`remove-dataset-${NAME}`));
      await page.locator(tid('confirm-dialog')).waitFor();
      await page.keyboard.press('Enter');
      await page.locator(tid(`dataset-row-${NAME}`)).waitFor({ state: 'detached' });
      expect((await getRun(app, 1)).dataset?.name).toBe(NAME);

      expect(app.pageErrors).toEqual([]);
    } finally {
      await app.close();
      rmSync(work, { recursive: true, force: true });
    }
  }, 400_000);
});
