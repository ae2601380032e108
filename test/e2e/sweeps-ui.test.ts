/**
 * Sweeps in the UI end to end: the built renderer in Chromium against the real engine (web mode) on real
 * Fashion-MNIST subsets. A k-means sweep (k 8, 10 × seeds 0, 1) is started from New experiment, followed to the end
 * on the Sweeps view (live, by sweep.updated), and read on its page: the summary's numbers are the engine's and
 * agree with the children's own runs, the charts are drawn, the averaged confusion matrix exports as SVG and PNG,
 * the CSV is the engine's. Compare takes the sweep next to a run; delete removes it. Screenshots:
 * test-artifacts/screenshots/sweeps-*.png.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { Download, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { SweepDetail } from '../../src-main/contract/index';
import { e2eSkipReason, repoRoot, startApp, type App } from './harness';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const tid = (id: string): string => `[data-testid="${id}"]`;
const EXPORT_DIR = join(repoRoot, 'test-artifacts', 'exports');

/** A whole-page screenshot, saved as test-artifacts/screenshots/sweeps-NAME.png. */
const shot = (app: App, name: string): Promise<string> => app.pageShot(`sweeps-${name}`);

async function goto(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

async function download(page: Page, click: () => Promise<unknown>): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = (await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), click()])) as [Download, unknown];
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

function keep(file: { name: string; bytes: Buffer }): void {
  mkdirSync(EXPORT_DIR, { recursive: true });
  writeFileSync(join(EXPORT_DIR, file.name), file.bytes);
}

async function value<T>(reply: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await reply;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

// The texts the tables should show, written out here rather than taken from the renderer's formatter.
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sdOf = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - meanOf(xs)) ** 2, 0) / (xs.length - 1));
const accText = (m: { mean: number | null; sd: number | null }) =>
  `${(m.mean! * 100).toFixed(2)}%${m.sd === null ? '' : ` ± ${(m.sd * 100).toFixed(2)}`}`;
const fixText = (m: { mean: number | null; sd: number | null }) => `${m.mean!.toFixed(4)}${m.sd === null ? '' : ` ± ${m.sd.toFixed(4)}`}`;

describe.skipIf(e2eSkipReason)('sweeps in the workbench UI (web mode, Chromium, real engine)', () => {
  it('a k × seeds sweep from New experiment: live on Sweeps, its page with the engine’s numbers, charts, exports, compare, delete', async () => {
    const app = await startApp({ viewport: { width: 1440, height: 900 } });
    const { page } = app;
    try {
      // --- New experiment: a plain k-means run's settings, then seeds and a grid over k
      await page.locator(tid('view-new')).waitFor();
      await page.click(tid('task-kmeans'));
      await page.fill(tid('input-trainLimit'), '1000');
      await page.fill(tid('input-testLimit'), '500');
      await page.fill(tid('input-nInit'), '1');
      expect(await page.innerText(tid('start-run'))).toBe('Start run'); // no sweep yet: a plain run
      await page.check(tid('sweep-repeat'));
      await page.fill(tid('sweep-seeds'), '0, 1, 1');
      expect(await page.innerText(tid('sweep-seeds-error'))).toBe('seed 1 is listed twice');
      await page.fill(tid('sweep-seeds'), '0, 1');
      expect(await page.locator(tid('input-seed')).isDisabled()).toBe(true);
      await page.click(tid('sweep-add-param'));
      await page.selectOption(tid('sweep-param-0'), 'k');
      // Each value is checked by k's own schema, the problem shown on the row.
      await page.fill(tid('sweep-values-0'), '8, 1');
      await expect.poll(() => page.locator(tid('sweep-row-error-0')).innerText()).toBe('1: must be ≥ 2');
      // A combination the engine's plan refuses (more clusters than eval images): its one line, inline.
      await page.fill(tid('sweep-values-0'), '8, 600');
      await expect.poll(() => page.locator(tid('sweep-plan-error')).innerText(), { timeout: 10_000 }).toContain('k=600');
      await page.fill(tid('sweep-values-0'), '8, 10');
      await expect.poll(() => page.locator(tid('sweep-run-count')).innerText(), { timeout: 10_000 }).toBe('4 runs');
      await expect.poll(() => page.locator(tid('sweep-estimate')).innerText(), { timeout: 10_000 }).not.toContain('estimating');
      const plan = await value(
        app.api('sweeps.plan', {
          params: { task: 'kmeans', trainLimit: 1000, testLimit: 500, nInit: 1 },
          seeds: [0, 1],
          grid: [['k', [8, 10]]],
        }),
      );
      expect(plan.runs).toBe(4);
      expect(await page.innerText(tid('sweep-plan'))).toContain(plan.estimateFrom);
      expect(await page.innerText(tid('start-run'))).toBe('Start sweep (4 runs)');
      await shot(app, 'new-experiment');

      // --- Start: the sweep page opens
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/sweeps\/\d+/);
      const id = Number(/#\/sweeps\/(\d+)/.exec(page.url())![1]);

      // --- The Sweeps view follows it to the end on sweep.updated events alone (no reload, no refresh click)
      await goto(page, '#/sweeps');
      const row = page.locator(tid(`sweep-row-${id}`));
      await row.waitFor();
      // Mid-way (a child done, the sweep still running), when the children are slow enough to catch it there.
      await expect.poll(() => row.locator(tid('sweep-progress')).getAttribute('data-completed'), { timeout: 120_000 }).not.toBe('0');
      if ((await row.getAttribute('data-status')) === 'running') await shot(app, 'list-running');
      await row.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 300_000 });
      await expect.poll(() => row.locator(tid('sweep-progress-text')).innerText()).toBe('4/4 completed');
      await shot(app, 'list');

      // --- The sweep page: the summary is sweeps.get's, and sweeps.get agrees with the children's runs
      await row.locator(`a[href="#/sweeps/${id}"]`).click();
      await page.locator(tid('sweep-summary-table')).waitFor();
      const detail: SweepDetail = await value(app.api('sweeps.get', { id }));
      expect(detail.status).toBe('completed');
      expect(detail.rows.map((r) => [r.values, r.n])).toEqual([
        [{ k: 8 }, 2],
        [{ k: 10 }, 2],
      ]);
      for (const [i, r] of detail.rows.entries()) {
        const runs = await Promise.all(
          detail.children.filter((c) => c.values.k === r.values.k).map((c) => value(app.api('runs.get', { id: c.run!.id }))),
        );
        expect(runs.map((run) => run.params)).toEqual([
          expect.objectContaining({ k: r.values.k, seed: 0 }),
          expect.objectContaining({ k: r.values.k, seed: 1 }),
        ]);
        const accuracies = runs.map((run) => run.metrics!.accuracy!);
        expect(r.accuracy.mean).toBeCloseTo(meanOf(accuracies), 12);
        expect(r.accuracy.sd).toBeCloseTo(sdOf(accuracies), 12);
        const cells = page.locator(tid(`sweep-summary-row-${i}`));
        expect(await cells.locator(tid('summary-value-k')).innerText()).toBe(String(r.values.k));
        expect(await cells.locator(tid('summary-n')).innerText()).toBe('2');
        expect((await cells.locator(tid('summary-accuracy')).innerText()).replace(' ★', '')).toBe(accText(r.accuracy));
        expect(await cells.locator(tid('summary-nmi')).innerText()).toBe(fixText(r.nmi));
        expect(await cells.locator(tid('summary-ari')).innerText()).toBe(fixText(r.ari));
        expect(await cells.getAttribute('data-best')).toBe(String(r.best));
      }
      expect(detail.rows.filter((r) => r.best)).toHaveLength(1);
      expect(await page.locator(tid('summary-best')).count()).toBe(1);
      // The children: four completed runs, each linked to its run page.
      expect(await page.locator(`${tid('sweep-children')} tbody tr[data-state="completed"]`).count()).toBe(4);

      // --- The charts are drawn: metric against k with error bars, parallel coordinates, the averaged confusion
      for (const chart of ['sweep-metric-chart', 'sweep-parallel-chart', 'sweep-confusion-chart']) {
        expect(await page.locator(`${tid(chart)} canvas`).count(), chart).toBeGreaterThan(0);
      }
      expect(await page.inputValue(tid('sweep-chart-param'))).toBe('k');
      expect(detail.confusionMean!.matrix).toHaveLength(10);
      for (const r of detail.confusionMean!.matrix) expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      await shot(app, 'page');

      // --- Exports: the averaged confusion matrix as SVG and PNG, the metric chart, the summary as the engine's CSV
      const svg = await download(page, () => page.click(tid('sweep-confusion-chart-export-svg')));
      expect(svg.name).toBe(`clusterbench-sweep-${id}-confusion.svg`);
      const svgText = svg.bytes.toString('utf8');
      expect(svgText).toMatch(/<svg[\s>]/);
      // k=8 and k=10 are other models: the mean is the best row's two seeds, and says so (not "mean of 4 runs")
      expect(svgText).toContain('Confusion matrix (row-normalised mean) — Sweep');
      expect(svgText).toMatch(/mean of 2 runs at k=(8|10) \(the best row\); 1 other combination not averaged/);
      expect(svgText).toMatch(/<svg[^>]*width="820"[^>]*height="760"/); // the figures' one aspect
      expect(await page.locator(tid('sweep-confusion-note')).innerText()).toMatch(
        /^mean of 2 runs at k=(8|10) \(the best row\); 1 other combination not averaged$/,
      );
      expect(svgText).toContain('fit 1,000 / eval 500 images');
      expect(svgText).toContain('Ankle boot');
      // Well-formed: an SVG renderer draws it (a browser refuses an SVG file that is not well-formed XML).
      expect(new Resvg(svgText).render().width).toBeGreaterThan(0);
      keep(svg);
      const png = await download(page, () => page.click(tid('sweep-confusion-chart-export-png')));
      expect([...png.bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      keep(png);
      const metricSvg = await download(page, () => page.click(tid('sweep-metric-chart-export-svg')));
      expect(metricSvg.name).toBe(`clusterbench-sweep-${id}-accuracy-k.svg`);
      expect(new Resvg(metricSvg.bytes.toString('utf8')).render().width).toBeGreaterThan(0);
      keep(metricSvg);
      const csv = await download(page, () => page.click(tid('export-sweep-csv')));
      const engineCsv = await value(app.api('export.sweepCsv', { id }));
      expect(csv.name).toBe(engineCsv.suggestedName);
      expect(csv.bytes.toString('utf8')).toBe(engineCsv.data);
      keep(csv);

      // Another metric on the chart.
      await page.selectOption(tid('sweep-chart-metric'), 'nmi');
      await expect.poll(() => page.locator(`${tid('sweep-metric-chart')} canvas`).count()).toBeGreaterThan(0);

      // A child's link opens its run page.
      await page.click(tid('sweep-child-link-0'));
      await page.waitForURL(new RegExp(`#/runs/${detail.children[0].run!.id}$`));
      await page.locator(tid('metrics')).waitFor();
      expect(await page.innerText(tid('run-sweep-link'))).toBe(`sweep #${id}`);
      // The Runs list marks the children with their sweep.
      await goto(page, '#/runs');
      const childId = detail.children[0].run!.id;
      await expect.poll(() => page.locator(tid(`run-sweep-${childId}`)).innerText()).toBe(`sweep #${id}`);

      // --- Compare: a run and the sweep picked together, the sweep's rows reading mean ± sd
      const runId = detail.children[0].run!.id;
      await goto(page, '#/compare');
      await page.locator(tid('compare-picker')).waitFor();
      await page.check(tid(`compare-pick-${runId}`));
      await page.check(tid(`compare-pick-sweep-${id}`));
      await page.click(tid('compare-go'));
      await page.waitForURL(new RegExp(`#/compare/${runId},s${id}$`));
      await page.locator(tid('compare-sweep-table')).waitFor();
      for (const [i, r] of detail.rows.entries()) {
        expect(await page.innerText(`${tid(`compare-sweep-${id}-row-${i}`)} ${tid('compare-accuracy')}`)).toBe(accText(r.accuracy));
      }
      const run = await value(app.api('runs.get', { id: runId }));
      expect(await page.innerText(`${tid(`compare-run-row-${runId}`)} ${tid('compare-accuracy')}`)).toBe(
        `${(run.metrics!.accuracy! * 100).toFixed(2)}%`,
      );
      expect(await page.locator(`${tid(`compare-sweep-confusion-${id}`)} canvas`).count()).toBeGreaterThan(0);
      await shot(app, 'compare');

      // --- Delete, with confirmation: the sweep and its runs leave the history
      await goto(page, '#/sweeps');
      await page.click(tid(`delete-sweep-${id}`));
      await page.locator(tid('confirm-dialog')).waitFor();
      await page.keyboard.press('Enter');
      await page.locator(tid(`sweep-row-${id}`)).waitFor({ state: 'detached' });
      expect(await value(app.api('sweeps.list', {}))).toEqual([]);
      expect(await value(app.api('runs.list', {}))).toEqual([]);

      expect(app.pageErrors).toEqual([]);
      expect(app.consoleErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 400_000);

  it('a failed child leaves the sweep partial, shown with its error; cancel and resume from the Sweeps view', async () => {
    const app = await startApp({ viewport: { width: 1440, height: 900 } });
    const { page } = app;
    try {
      await page.locator(tid('view-new')).waitFor();
      // k = 600 passes the plan (all 10,000 test images) but not the run: more clusters than the 500 fit images.
      const partial = await value(
        app.api('sweeps.start', { params: { task: 'kmeans', trainLimit: 500, nInit: 1 }, seeds: [0], grid: [['k', [4, 600]]] }),
      );
      await goto(page, `#/sweeps/${partial.sweepId}`);
      await expect.poll(() => page.innerText(tid('sweep-status')), { timeout: 120_000 }).toBe('partial');
      const failed = page.locator(`${tid('sweep-child-1')}[data-state="failed"]`);
      await failed.waitFor();
      const detail = await value(app.api('sweeps.get', { id: partial.sweepId }));
      expect(detail.children[1].run!.error).toMatch(/k/);
      expect(await failed.innerText()).toContain(detail.children[1].run!.error!);
      expect(await page.innerText(`${tid('sweep-summary-row-1')} ${tid('summary-n')}`)).toBe('0');
      expect(await page.innerText(`${tid('sweep-summary-row-1')} ${tid('summary-accuracy')}`)).toBe('—');
      expect(await page.getAttribute(tid('sweep-summary-row-0'), 'data-best')).toBe('true');
      expect(await page.locator(tid('resume-sweep')).count()).toBe(1);
      await shot(app, 'page-partial');

      // A longer sweep: cancelled on the Sweeps view once a child is done, then resumed to the end.
      const long = await value(
        app.api('sweeps.start', { params: { task: 'kmeans', trainLimit: 3000, testLimit: 500, nInit: 2 }, seeds: [0, 1, 2, 3, 4, 5] }),
      );
      await goto(page, '#/sweeps');
      const row = page.locator(tid(`sweep-row-${long.sweepId}`));
      await expect.poll(() => row.locator(tid('sweep-progress')).getAttribute('data-completed'), { timeout: 120_000 }).not.toBe('0');
      await page.click(tid(`cancel-sweep-${long.sweepId}`));
      await row.and(page.locator('[data-status="cancelled"]')).waitFor({ timeout: 60_000 });
      const cancelled = await value(app.api('sweeps.get', { id: long.sweepId }));
      expect(cancelled.completed).toBeGreaterThan(0);
      expect(cancelled.completed).toBeLessThan(6);
      // The bar shows the completed share of the six children.
      const [done, bar] = await Promise.all([row.locator('.seg.completed').boundingBox(), row.locator('.bar').boundingBox()]);
      expect(done!.width / bar!.width).toBeCloseTo(cancelled.completed / 6, 1);
      await shot(app, 'list-cancelled');
      await page.click(tid(`resume-sweep-${long.sweepId}`));
      await row.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 300_000 });
      await expect.poll(() => row.locator(tid('sweep-progress-text')).innerText()).toBe('6/6 completed');
      // The children completed before the cancel were kept, not run again.
      const resumed = await value(app.api('sweeps.get', { id: long.sweepId }));
      const keptIds = cancelled.children.filter((c) => c.state === 'completed').map((c) => c.run!.id);
      for (const runId of keptIds) expect(resumed.children.some((c) => c.run?.id === runId)).toBe(true);

      expect(app.pageErrors).toEqual([]);
      expect(app.consoleErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 400_000);
});
