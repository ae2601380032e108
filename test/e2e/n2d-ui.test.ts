/**
 * The N2D task in the UI: its task card and component fields on the New-experiment screen (with inline
 * validation), a tiny n2d run started from the form, and the Embedding map of its results (UMAP map); the same for
 * the n2d-aug preset (its augmentation fields, its map and cluster grids); and a k-means run's map (PCA fallback). Screenshots: test-artifacts/screenshots/n2d-*.png.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src-main/contract/index';
import { defaultValues, isPipeline, shownFields, TASK_OPTIONS } from '../../src-renderer/src/lib/experiment';
import { e2eSkipReason, settled, startApp, type App } from './harness';

const tid = (id: string): string => `[data-testid="${id}"]`;

async function goto(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

/** A whole-page screenshot, saved as test-artifacts/screenshots/NAME.png. */
const shot = (app: App, name: string): Promise<string> => app.pageShot(`${name}`);

async function fill(page: Page, field: string, value: string): Promise<void> {
  await page.fill(tid(`input-${field}`), value);
  await page.locator(tid(`input-${field}`)).blur();
}

/** A pipeline form made a tiny, fast job: small encoder, one epoch, few images, a short UMAP. */
async function shrinkToTinyJob(page: Page): Promise<void> {
  await fill(page, 'layers', '64, 64');
  await fill(page, 'epochs', '1');
  await fill(page, 'trainLimit', '600');
  await fill(page, 'testLimit', '200');
  await page.click(`${tid('pipeline-advanced')} summary`);
  await fill(page, 'umapEpochs', '30');
  expect(await page.locator(tid('field-error')).count()).toBe(0);
}

async function waitForRun(app: App, jobId: string): Promise<number> {
  const done = await app.waitForEvent(
    (e) => (e.event === 'job.finished' || e.event === 'job.failed') && (e.payload as { jobId: string }).jobId === jobId,
    300_000,
  );
  if (done.event === 'job.failed') throw new Error(`job failed: ${(done.payload as { error: string }).error}`);
  return (done.payload as { runId: number }).runId;
}

async function expectEmbeddingChart(page: Page): Promise<void> {
  await page.click(tid('tab-embedding'));
  await page.waitForSelector(`${tid('embedding-chart')} canvas`, { timeout: 60_000 });
  const caption = await page.textContent(tid('embedding-caption'));
  expect(caption).toMatch(/eval images/);
}

describe.skipIf(e2eSkipReason)('N2D in the workbench UI', () => {
  it("starts a tiny N2D run from the form and shows its embedding map, and a k-means run's PCA map", async () => {
    const app = await startApp({ viewport: { width: 1440, height: 900 } });
    const { page } = app;
    try {
      await goto(page, '#/new');
      // Every parameter a task uses (default components; the k-means clusterer for a pipeline's k-means settings)
      // has its field on the screen (closed Advanced card included): the form is laid out from the schema.
      for (const task of TASK_OPTIONS) {
        await page.click(tid(`task-${task}`));
        for (const cluster of isPipeline(task) ? ['kmeans', 'gmm'] : [undefined]) {
          if (cluster) await page.selectOption(tid('input-cluster'), cluster);
          for (const field of shownFields({ ...defaultValues(task), ...(cluster ? { cluster } : {}) })) {
            expect(await page.locator(tid(`field-${field}`)).count(), `${task}: ${field}`).toBe(1);
          }
        }
      }
      await page.click(tid('task-n2d'));
      await page.click(tid('preset-n2d'));
      // The preset is N2D's recipe.
      expect(await page.inputValue(tid('input-layers'))).toBe('500, 500, 2000');
      expect(await page.inputValue(tid('input-codeSize'))).toBe('10');
      expect(await page.inputValue(tid('input-learningRate'))).toBe('0.001');
      expect(await page.inputValue(tid('input-batchSize'))).toBe('256');
      expect(await page.inputValue(tid('input-umapNeighbors'))).toBe('20');
      expect(await page.inputValue(tid('input-protocol'))).toBe('transductive');
      expect(await page.inputValue(tid('input-cluster'))).toBe('gmm');

      // Inline validation is the schema's, with the engine's messages.
      await fill(page, 'umapNeighbors', '1');
      await fill(page, 'umapMinDist', '1.5');
      await fill(page, 'layers', '64, -3');
      expect(await page.textContent(`${tid('field-umapNeighbors')} ${tid('field-error')}`)).toMatch(/≥ 2/);
      expect(await page.textContent(`${tid('field-umapMinDist')} ${tid('field-error')}`)).toBe('must be ≤ 1 (the spread)');
      expect(await page.textContent(`${tid('field-layers')} ${tid('field-error')}`)).toBe('must be ≥ 1');

      // A tiny, fast job.
      await fill(page, 'umapNeighbors', '15');
      await fill(page, 'umapMinDist', '0');
      await shrinkToTinyJob(page);
      await shot(app, 'n2d-new-experiment');

      const started = app.waitForEvent((e) => e.event === 'job.queued', 30_000);
      await page.click(tid('start-run'));
      const jobId = ((await started).payload as { jobId: string }).jobId;
      const runId = await waitForRun(app, jobId);

      const reply = await app.api('runs.get', { id: runId });
      if (!reply.ok) throw new Error(reply.error.message);
      const run: RunRecord = reply.value;
      expect(run.task).toBe('n2d');
      expect(run.params).toMatchObject({
        layers: [64, 64],
        epochs: 1,
        umapEpochs: 30,
        trainLimit: 600,
        testLimit: 200,
        protocol: 'transductive',
        cluster: 'gmm',
      });

      await goto(page, `#/runs/${runId}`);
      await page.waitForSelector(tid('tab-embedding'), { timeout: 30_000 });
      expect(await page.textContent('h1')).toMatch(/N2D/);
      await expectEmbeddingChart(page);
      expect(await page.textContent(tid('embedding-caption'))).toMatch(/UMAP/);
      // Hover a point: the tooltip shows the image (fetched lazily).
      const box = (await page
        .locator(`${tid('embedding-chart')} canvas`)
        .first()
        .boundingBox())!;
      expect(await page.locator(`${tid('embedding-chart')} .echart[_echarts_instance_]`).count()).toBe(1);
      let hovered = false;
      for (let y = box.y + 30; y < box.y + box.height - 40 && !hovered; y += 6) {
        for (let x = box.x + 50; x < box.x + box.width - 170 && !hovered; x += 6) {
          await page.mouse.move(x, y);
          hovered = await page
            .locator('[data-testid="embedding-tooltip"] img')
            .count()
            .then((n) => n > 0)
            .catch(() => false);
        }
      }
      await settled(page);
      await app.screenshot('n2d-embedding-tooltip');
      await page.mouse.move(0, 0);
      await shot(app, 'n2d-embedding-map');
      await page.mouse.move(0, 0);
      await page.click(tid('embedding-color-label'));
      await settled(page);
      await app.screenshot('n2d-embedding-map-labels');

      // The n2d-aug preset: N2D's recipe with the augmentation fields set, its run mapped and gridded like N2D's.
      await goto(page, '#/new');
      await page.click(tid('task-n2d-aug'));
      await page.click(tid('preset-n2d'));
      expect(await page.textContent(tid('preset-n2d'))).toMatch(/N2D-aug settings/);
      expect(await page.inputValue(tid('input-augRotation'))).toBe('10');
      expect(await page.inputValue(tid('input-augShift'))).toBe('0.1');
      expect(await page.inputValue(tid('input-layers'))).toBe('500, 500, 2000');
      await fill(page, 'augRotation', '60');
      expect(await page.textContent(`${tid('field-augRotation')} ${tid('field-error')}`)).toBe('must be ≤ 45');
      await fill(page, 'augRotation', '10');
      await shrinkToTinyJob(page);
      const augQueued = app.waitForEvent((e) => e.event === 'job.queued' && (e.payload as { jobId: string }).jobId !== jobId, 30_000);
      await page.click(tid('start-run'));
      const augRunId = await waitForRun(app, ((await augQueued).payload as { jobId: string }).jobId);
      const augReply = await app.api('runs.get', { id: augRunId });
      if (!augReply.ok) throw new Error(augReply.error.message);
      expect(augReply.value).toMatchObject({ task: 'n2d-aug', params: { augRotation: 10, augShift: 0.1, layers: [64, 64] } });
      await goto(page, `#/runs/${augRunId}`);
      await page.waitForSelector(tid('tab-embedding'), { timeout: 30_000 });
      expect(await page.textContent('h1')).toMatch(/N2D with augmentation/);
      await expectEmbeddingChart(page);
      expect(await page.textContent(tid('embedding-caption'))).toMatch(/UMAP/);
      await page.click(tid('tab-images'));
      await expect.poll(() => page.locator(tid('cluster-image')).count(), { timeout: 30_000 }).toBeGreaterThan(0);
      await shot(app, 'n2d-aug-cluster-images');

      // A k-means run: the map falls back to a PCA of the pixels.
      const km = await app.api('runs.start', { params: { task: 'kmeans', trainLimit: 500, testLimit: 150, nInit: 1 } });
      if (!km.ok) throw new Error(km.error.message);
      const kmRun = await waitForRun(app, km.value.jobId);
      await goto(page, `#/runs/${kmRun}`);
      await page.waitForSelector(tid('tab-embedding'), { timeout: 30_000 });
      await expectEmbeddingChart(page);
      expect(await page.textContent(tid('embedding-caption'))).toMatch(/PCA of the pixels/);
      await shot(app, 'n2d-kmeans-embedding-map');

      expect(app.consoleErrors).toEqual([]);
      expect(hovered, 'a hovered point shows its image in the tooltip').toBe(true);
    } finally {
      await app.close();
    }
  }, 600_000);
});
