/**
 * The workbench UI end to end: the built renderer in Chromium against a real engine (web mode), on real
 * Fashion-MNIST subsets. Every screen is saved to test-artifacts/screenshots/workbench-*.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src-main/contract/index';
import { e2eSkipReason, repoRoot, startApp, type App } from './harness';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const tid = (id: string): string => `[data-testid="${id}"]`;
const EXPORT_DIR = join(repoRoot, 'test-artifacts', 'exports');

/** Keeps an exported file for people to look at (test-artifacts/exports). */
function keep(file: { name: string; bytes: Buffer }): void {
  mkdirSync(EXPORT_DIR, { recursive: true });
  writeFileSync(join(EXPORT_DIR, file.name), file.bytes);
}

/** A whole-page screenshot, saved as test-artifacts/screenshots/workbench-NAME.png. */
const shot = (app: App, name: string): Promise<string> => app.pageShot(`workbench-${name}`);

async function goto(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

async function download(page: Page, click: () => Promise<unknown>): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = (await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), click()])) as [Download, unknown];
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(path) };
}

async function getRun(app: App, id: number): Promise<RunRecord> {
  const reply = await app.api('runs.get', { id });
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.value;
}

async function fill(page: Page, field: string, value: string): Promise<void> {
  await page.fill(tid(`input-${field}`), value);
}

/** Waits until the Live view shows the job ended, and returns its state. */
async function waitForLiveEnd(page: Page, timeout = 180_000): Promise<string> {
  const detail = page.locator(`${tid('live-detail')}:not([data-state="running"]):not([data-state="queued"])`);
  await detail.waitFor({ timeout });
  return (await detail.getAttribute('data-state')) ?? '';
}

describe.skipIf(e2eSkipReason)('workbench UI (web mode, Chromium, real data subsets)', () => {
  it('experiment 1 from the form: live progress, results with the right numbers, images, exports, history, compare, data', async () => {
    const app = await startApp();
    const { page } = app;
    try {
      // --- New experiment, empty history
      await page.locator(tid('view-new')).waitFor();
      await expect.poll(() => page.locator(tid('queue-panel')).innerText()).toContain('No runs in progress');
      await shot(app, 'new-experiment');

      await goto(page, '#/runs');
      await page.locator(`${tid('view-runs')} ${tid('state-empty')}`).waitFor();
      await shot(app, 'runs-empty');
      await goto(page, '#/compare');
      await page.locator(`${tid('view-compare')} ${tid('state-empty')}`).waitFor();
      await goto(page, '#/new');

      // Inline validation mirrors the engine's rules.
      await page.click(tid('task-kmeans'));
      await fill(page, 'k', '1');
      await page.locator(tid('input-k')).blur();
      await expect.poll(() => page.locator(`${tid('field-k')} ${tid('field-error')}`).innerText()).toBe('must be ≥ 2');
      await fill(page, 'nInit', '0');
      await fill(page, 'trainLimit', 'abc');
      await page.click(tid('start-run'));
      await expect.poll(() => page.locator(`${tid('field-nInit')} ${tid('field-error')}`).innerText()).toBe('must be ≥ 1');
      await expect.poll(() => page.locator(`${tid('field-trainLimit')} ${tid('field-error')}`).innerText()).toBe('must be a number');
      await shot(app, 'new-experiment-validation');
      const none = await app.api('runs.list', {});
      expect(none.ok && none.value).toEqual([]); // nothing was submitted

      // The form remembers its values across a reload (localStorage).
      await fill(page, 'k', '10');
      await fill(page, 'nInit', '2');
      await fill(page, 'trainLimit', '3000');
      await fill(page, 'testLimit', '500');
      await page.reload();
      await page.locator(tid('view-new')).waitFor();
      expect(await page.inputValue(tid('input-trainLimit'))).toBe('3000');
      expect(await page.inputValue(tid('input-testLimit'))).toBe('500');
      expect(await page.inputValue(tid('input-nInit'))).toBe('2');
      await expect.poll(() => page.locator(`${tid('field-k')} ${tid('field-error')}`).count()).toBe(0);

      // --- Start it and follow it live
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      await page.locator(tid('live-detail')).waitFor();
      expect(await page.locator(`${tid('queue-panel')} a[data-state]`).count()).toBeGreaterThan(0);
      await shot(app, 'live-running');
      expect(await waitForLiveEnd(page)).toBe('done');
      await shot(app, 'live-completed');

      // --- Results: the numbers are the stored run's
      await page.click(tid('open-results'));
      await page.waitForURL(/#\/runs\/1/);
      const run1 = await getRun(app, 1);
      expect(run1.status).toBe('completed');
      expect(run1.params).toMatchObject({ task: 'kmeans', k: 10, nInit: 2, trainLimit: 3000, testLimit: 500 });
      const ev = run1.evaluation!;
      await page.locator(tid('metrics')).waitFor();
      expect(await page.innerText(tid('metric-accuracy'))).toBe(`${(ev.accuracy * 100).toFixed(2)}%`);
      expect(await page.innerText(tid('metric-nmi'))).toBe(ev.nmi.toFixed(4));
      expect(await page.innerText(tid('metric-ari'))).toBe(ev.ari.toFixed(4));
      for (let c = 0; c < ev.mapping.length; c++) {
        const row = page.locator(tid(`mapping-row-${c}`));
        expect(await row.locator(tid('mapping-label')).innerText()).toBe(ev.classNames[ev.mapping[c]]);
        expect(await row.locator(tid('mapping-size')).innerText()).toBe(ev.clusterSizes[c].toLocaleString('en-US'));
        const correct = ev.confusion[ev.mapping[c]][ev.mapping[c]];
        expect(await row.locator(tid('mapping-purity')).innerText()).toBe(`${((correct / ev.clusterSizes[c]) * 100).toFixed(1)}%`);
      }
      const cells = await page
        .locator(`${tid('confusion-table')} tbody tr`)
        .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => Number(td.textContent))));
      expect(cells).toEqual(ev.confusion);
      // The heatmap itself is drawn.
      expect(await page.locator(`${tid('confusion-chart')} canvas`).count()).toBeGreaterThan(0);
      expect(await page.locator(`${tid('class-report')} tbody tr`).count()).toBe(ev.perClass.length);
      await shot(app, 'results-overview');

      // --- Exports: the confusion matrix (server-rendered) as PNG and SVG, a chart, the run as JSON
      const png = await download(page, () => page.click(tid('confusion-chart-export-png')));
      expect(png.name).toBe('clusterbench-run-1-confusion.png');
      expect([...png.bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      keep(png);
      const svg = await download(page, () => page.click(tid('confusion-chart-export-svg')));
      expect(svg.name).toBe('clusterbench-run-1-confusion.svg');
      expect(svg.bytes.toString('utf8')).toMatch(/<svg[\s>]/);
      // and as a vector PDF, the same figure as the CLI's (server-rendered)
      const pdf = await download(page, () => page.click(tid('confusion-chart-export-pdf')));
      expect(pdf.name).toBe('clusterbench-run-1-confusion.pdf');
      expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const f1Svg = await download(page, () => page.click(tid('f1-chart-export-svg')));
      expect(f1Svg.name).toMatch(/\.svg$/);
      const f1Text = f1Svg.bytes.toString('utf8');
      expect(f1Text).toMatch(/<svg[\s>]/);
      expect(f1Text).toContain('F1 per class');
      expect(f1Text).toContain((ev.accuracy * 100).toFixed(2)); // the title names the accuracy
      const f1Png = await download(page, () => page.click(tid('f1-chart-export-png')));
      expect([...f1Png.bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      keep(f1Png);
      keep(f1Svg);
      const json = await download(page, () => page.click(tid('export-json')));
      expect(JSON.parse(json.bytes.toString('utf8'))).toMatchObject({ id: 1, task: 'kmeans', status: 'completed' });

      // --- Cluster image grids
      await page.click(tid('tab-images'));
      for (let c = 0; c < ev.mapping.length; c++) {
        const grid = page.locator(tid(`cluster-grid-${c}`));
        await grid.locator(tid('cluster-images')).or(grid.locator('.empty')).first().waitFor();
        expect(await grid.locator(tid('cluster-size')).innerText()).toBe(`${ev.clusterSizes[c].toLocaleString('en-US')} images`);
        expect(await grid.locator(tid('cluster-image')).count()).toBe(Math.min(32, ev.clusterSizes[c]));
      }
      // Only mistakes: cluster 0 then shows exactly its misassigned images (first page).
      const correct0 = ev.confusion[ev.mapping[0]][ev.mapping[0]];
      await page.check(tid('cluster-0-mistakes'));
      await expect
        .poll(() => page.locator(`${tid('cluster-grid-0')} ${tid('cluster-image')}`).count())
        .toBe(Math.min(32, ev.clusterSizes[0] - correct0));
      if (ev.clusterSizes[0] - correct0 > 0) {
        // The grid redraws after the toggle: wait for the new page rather than reading a half-updated one.
        await expect
          .poll(() => page.locator(`${tid('cluster-grid-0')} ${tid('cluster-image')}.wrong`).count())
          .toBe(Math.min(32, ev.clusterSizes[0] - correct0));
      }
      await page.uncheck(tid('cluster-0-mistakes'));
      await expect
        .poll(() => page.locator(`${tid('cluster-grid-0')} ${tid('cluster-image')}`).count())
        .toBe(Math.min(32, ev.clusterSizes[0]));
      // Paging through a big cluster.
      const big = ev.clusterSizes.findIndex((s) => s > 32);
      if (big >= 0) {
        await page.click(`${tid(`cluster-grid-${big}`)} button[aria-label="Next page"]`);
        await expect.poll(() => page.innerText(tid(`cluster-${big}-page`))).toBe(`2 / ${Math.ceil(ev.clusterSizes[big] / 32)}`);
        await page.click(`${tid(`cluster-grid-${big}`)} button[aria-label="Previous page"]`);
      }
      await shot(app, 'results-cluster-images');

      // Image detail: index, true label, cluster; k-means has no reconstruction.
      await page
        .locator(`${tid('cluster-grid-0')} ${tid('cluster-image')}`)
        .first()
        .click();
      await page.locator(tid('detail-cluster')).waitFor();
      expect(await page.innerText(tid('detail-cluster'))).toBe('0');
      expect(await page.locator(tid('no-reconstruction')).count()).toBe(1);
      await shot(app, 'image-detail');
      await page.keyboard.press('Escape');
      await page.locator(tid('image-detail')).waitFor({ state: 'detached' });

      await page.click(tid('tab-details'));
      await shot(app, 'results-details');

      // --- Re-run with the same settings (prefills the form), changed to k = 8, seed 3
      await page.click(tid('rerun'));
      await page.locator(tid('prefilled-note')).waitFor();
      expect(await page.inputValue(tid('input-trainLimit'))).toBe('3000');
      await fill(page, 'k', '8');
      await fill(page, 'seed', '3');
      await shot(app, 'new-experiment-prefilled');
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      expect(await waitForLiveEnd(page)).toBe('done');
      const run2 = await getRun(app, 2);
      expect(run2.params).toMatchObject({ k: 8, seed: 3, nInit: 2, trainLimit: 3000 });

      // --- History: sortable, filterable, CSV
      await goto(page, '#/runs');
      await page.locator(tid('run-row-2')).waitFor();
      await page.click(tid('sort-accuracy'));
      const order = await page
        .locator(`${tid('runs-table')} tbody tr`)
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid')));
      const better = run1.metrics!.accuracy! >= run2.metrics!.accuracy! ? 1 : 2;
      expect(order[0]).toBe(`run-row-${better}`);
      await page.fill(tid('runs-search'), 'k=8');
      await expect.poll(() => page.locator(`${tid('runs-table')} tbody tr`).count()).toBe(1);
      await page.fill(tid('runs-search'), '');
      const csv = await download(page, () => page.click(tid('export-csv')));
      expect(csv.bytes.toString('utf8').split('\n')[0]).toMatch(/^id,task,status,accuracy/);
      await page.check(tid('pick-1'));
      await page.check(tid('pick-2'));
      await shot(app, 'runs-history');

      // --- Compare
      await page.click(tid('compare-selected'));
      await page.waitForURL(/#\/compare\/1,2/);
      await page.locator(tid('compare-metrics')).waitFor();
      const accRow = await page.innerText(tid('compare-metric-accuracy'));
      expect(accRow).toContain(`${(run1.metrics!.accuracy! * 100).toFixed(2)}%`);
      expect(accRow).toContain(`${(run2.metrics!.accuracy! * 100).toFixed(2)}%`);
      expect(await page.getAttribute(tid('compare-param-k'), 'data-differs')).toBe('true');
      expect(await page.getAttribute(tid('compare-param-trainLimit'), 'data-differs')).toBe('false');
      expect(await page.locator(`${tid('compare-confusion-1')} canvas`).count()).toBeGreaterThan(0);
      expect(await page.locator(`${tid('compare-confusion-2')} canvas`).count()).toBeGreaterThan(0);
      await shot(app, 'compare');
      const cmpPng = await download(page, () => page.click(tid('compare-confusion-2-export-png')));
      expect(cmpPng.name).toBe('clusterbench-run-2-confusion.png');
      expect([...cmpPng.bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      await page.click(tid('change-selection'));
      await page.locator(tid('compare-picker')).waitFor();
      await shot(app, 'compare-picker');

      // --- Delete with confirmation (Escape cancels, Enter confirms)
      await goto(page, '#/runs');
      await page.click(tid('delete-2'));
      await page.locator(tid('confirm-dialog')).waitFor();
      await shot(app, 'runs-confirm-delete');
      await page.keyboard.press('Escape');
      await page.locator(tid('confirm-dialog')).waitFor({ state: 'detached' });
      expect(await page.locator(tid('run-row-2')).count()).toBe(1);
      await page.click(tid('delete-2'));
      await page.locator(tid('confirm-dialog')).waitFor();
      await page.keyboard.press('Enter');
      await page.locator(tid('run-row-2')).waitFor({ state: 'detached' });
      const after = await app.api('runs.list', {});
      expect(after.ok && after.value.map((r) => r.id)).toEqual([1]);

      // --- Data
      await goto(page, '#/data');
      await page.locator(tid('dataset-identity')).waitFor({ timeout: 60_000 });
      await page
        .locator(`${tid('samples')} canvas`)
        .first()
        .waitFor({ timeout: 60_000 });
      expect(await page.innerText(tid('dataset-dir'))).toBe(run1.dataset!.dir);
      expect(await page.locator(`${tid('samples-class-9')} canvas`).count()).toBe(10);
      expect(await page.locator(`${tid('dataset-checksums')} tr`).count()).toBe(Object.keys(run1.dataset!.checksums).length);
      expect(await page.locator(`${tid('hist-raw')} canvas`).count()).toBeGreaterThan(0);
      await shot(app, 'data');
      const hist = await download(page, () => page.click(tid('hist-normalized-export-svg')));
      expect(hist.bytes.toString('utf8')).toContain('after normalisation');
      keep(await download(page, () => page.click(tid('hist-raw-export-png'))));

      // --- Dark theme (follows the OS)
      await page.emulateMedia({ colorScheme: 'dark' });
      await shot(app, 'data-dark');
      await goto(page, '#/runs/1');
      await page.locator(tid('metrics')).waitFor();
      await shot(app, 'results-overview-dark');
      await goto(page, '#/new');
      await page.locator(tid('view-new')).waitFor();
      await shot(app, 'new-experiment-dark');
      await page.emulateMedia({ colorScheme: 'light' });

      expect(app.pageErrors).toEqual([]);
      expect(app.consoleErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 400_000);

  it('experiments 2 and 3: an autoencoder run (1 epoch), then a GMM reusing its encoder, picked in the form', async () => {
    const app = await startApp();
    const { page } = app;
    try {
      await page.locator(tid('view-new')).waitFor();
      // The study's settings in one click.
      await page.click(tid('task-ae-gmm'));
      await fill(page, 'epochs', '7');
      await fill(page, 'learningRate', '0.5');
      await page.selectOption(tid('input-covariance'), 'spherical');
      await page.click(tid('preset-study'));
      for (const [field, value] of Object.entries({
        k: '10',
        epochs: '50',
        batchSize: '128',
        learningRate: '0.01',
        valSplit: '0.1',
        covariance: 'full',
      })) {
        expect(await page.inputValue(tid(`input-${field}`))).toBe(value);
      }
      await page.click(tid('task-ae-kmeans'));
      expect(await page.inputValue(tid('input-nInit'))).toBe('10');
      await fill(page, 'epochs', '1');
      await fill(page, 'batchSize', '64');
      await fill(page, 'trainLimit', '1000');
      await fill(page, 'testLimit', '200');
      await fill(page, 'nInit', '1');
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      await page.locator(tid('live-loss-chart')).waitFor();
      expect(await waitForLiveEnd(page)).toBe('done');
      await shot(app, 'live-autoencoder');
      const ae = await getRun(app, 1);
      expect(ae.task).toBe('ae-kmeans');
      expect(ae.losses).toHaveLength(1);

      // Experiment 3: reuse that encoder.
      await goto(page, '#/new');
      await page.click(tid('task-ae-gmm'));
      await page.locator(`${tid('input-reuseEncoder')} option[value="1"]`).waitFor({ state: 'attached' });
      await page.selectOption(tid('input-reuseEncoder'), '1');
      expect(await page.locator(tid('input-epochs')).isDisabled()).toBe(true);
      await page.selectOption(tid('input-covariance'), 'diag');
      await shot(app, 'new-experiment-autoencoder-gmm');
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      expect(await waitForLiveEnd(page)).toBe('done');
      const gmm = await getRun(app, 2);
      expect(gmm.params).toMatchObject({ task: 'ae-gmm', reuseEncoder: 1, covariance: 'diag', trainLimit: 1000, testLimit: 200 });
      expect(gmm.status).toBe('completed');

      await page.click(tid('open-results'));
      await page.locator(tid('metrics')).waitFor();
      expect(await page.innerText(tid('metric-accuracy'))).toBe(`${(gmm.metrics!.accuracy! * 100).toFixed(2)}%`);
      expect(await page.innerText(`${tid('loss-chart')} h3`)).toContain('encoder of run #1');
      await shot(app, 'results-autoencoder-gmm');
      // The detail of an autoencoder run's image shows its reconstruction.
      await page.click(tid('tab-images'));
      await page
        .locator(`${tid('cluster-image')}`)
        .first()
        .click();
      await page.locator(tid('reconstruction')).waitFor();
      await shot(app, 'image-detail-reconstruction');
      await page.keyboard.press('Escape');

      await goto(page, '#/compare/1,2');
      await page.locator(tid('compare-loss-chart')).waitFor();
      await shot(app, 'compare-autoencoders');
      keep(await download(page, () => page.click(tid('compare-loss-chart-export-png'))));

      // Several runs in the queue; the training one grows its loss curve epoch by epoch; cancel it.
      await goto(page, '#/new');
      await page.click(tid('task-ae-kmeans'));
      await page.selectOption(tid('input-reuseEncoder'), '');
      await fill(page, 'epochs', '40');
      await fill(page, 'trainLimit', '2000');
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      const waiting = await app.api('runs.start', { params: { task: 'kmeans', trainLimit: 500, testLimit: 100, nInit: 1 } });
      expect(waiting.ok).toBe(true);
      await expect.poll(() => page.locator(`${tid('queue-panel')} a[data-state="queued"]`).count()).toBe(1);
      await app.waitForEvent(
        (e) =>
          e.event === 'job.epoch' &&
          (e.payload as { runId: number; loss: { epoch: number } }).runId === 3 &&
          (e.payload as { loss: { epoch: number } }).loss.epoch >= 3,
        120_000,
      );
      await expect.poll(() => page.innerText(tid('live-rate'))).toMatch(/img\/s/);
      await expect.poll(() => page.innerText(tid('live-phase'))).toBe('Training autoencoder');
      await shot(app, 'live-training-with-queue');
      await page.click(tid('cancel-run'));
      await page.locator(tid('confirm-dialog')).waitFor();
      await page.keyboard.press('Enter');
      expect(await waitForLiveEnd(page)).toBe('cancelled');
      const next = await app.waitForEvent(
        (e) => e.event === 'job.finished' && waiting.ok && (e.payload as { jobId: string }).jobId === waiting.value.jobId,
        120_000,
      );
      expect(next).toBeTruthy();
      expect((await getRun(app, 3)).status).toBe('cancelled');
      expect(app.pageErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 400_000);

  it('problems the engine finds are shown next to their fields; a failed run shows its error', async () => {
    const app = await startApp();
    const { page } = app;
    try {
      await page.locator(tid('view-new')).waitFor();
      // An invalid-params reply to runs.start (the payload altered on the wire, past the form's own checks).
      let altered = false;
      await page.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((message) => {
          const m = JSON.parse(String(message)) as { op?: string; payload?: { params?: Record<string, unknown> } };
          if (!altered && m.op === 'runs.start' && m.payload?.params) {
            m.payload.params.learningRate = -1;
            altered = true;
          }
          server.send(JSON.stringify(m));
        });
      });
      await page.reload();
      await page.locator(tid('view-new')).waitFor();
      await page.click(tid('task-ae-kmeans'));
      await fill(page, 'trainLimit', '500');
      await fill(page, 'testLimit', '100');
      await page.click(tid('start-run'));
      await expect.poll(() => page.locator(`${tid('field-learningRate')} ${tid('field-error')}`).innerText()).toBe('must be > 0');
      expect(page.url()).not.toMatch(/#\/live/);
      await shot(app, 'new-experiment-server-issue');

      // A run the engine rejects once it sees the data: Live shows the error and offers to fix the parameters.
      await page.reload();
      await page.locator(tid('view-new')).waitFor();
      await page.click(tid('task-kmeans'));
      await fill(page, 'trainLimit', '500');
      await fill(page, 'testLimit', '100');
      await fill(page, 'nInit', '1');
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      expect(await waitForLiveEnd(page)).toBe('done');
      // Reuse of run #1 (k-means: no encoder) is refused by the engine.
      await page.evaluate(() => {
        const key = 'clusterbench.new-experiment.v1';
        const v = JSON.parse(localStorage.getItem(key) ?? '{}');
        localStorage.setItem(key, JSON.stringify({ ...v, task: 'ae-gmm', reuseEncoder: '1' }));
        location.hash = '#/new';
      });
      await page.reload();
      await page.locator(tid('view-new')).waitFor();
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      expect(await waitForLiveEnd(page)).toBe('failed');
      expect(await page.innerText(tid('live-error'))).toContain('reuseEncoder');
      await shot(app, 'live-failed');
      await page.click(tid('fix-params'));
      await expect
        .poll(() => page.locator(`${tid('field-reuseEncoder')} ${tid('field-error')}`).innerText())
        .toContain('no trained autoencoder');
      await shot(app, 'new-experiment-fix-params');
    } finally {
      await app.close();
    }
  }, 300_000);

  it('shows the problem and a Download button when the dataset is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'clusterbench-nodata-'));
    const previous = process.env.CLUSTERBENCH_DATA;
    process.env.CLUSTERBENCH_DATA = empty;
    const app = await startApp();
    try {
      const { page } = app;
      await goto(page, '#/data');
      await page.locator(tid('dataset-missing')).waitFor({ timeout: 60_000 });
      expect(await page.innerText(tid('dataset-problem'))).toContain(empty);
      expect(await page.isEnabled(tid('download-dataset'))).toBe(true);
      await shot(app, 'data-missing');
    } finally {
      await app.close();
      if (previous === undefined) delete process.env.CLUSTERBENCH_DATA;
      else process.env.CLUSTERBENCH_DATA = previous;
      rmSync(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
