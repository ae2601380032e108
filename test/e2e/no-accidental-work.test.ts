/**
 * No accidental work (issue 22), end to end: the built renderer in Chromium against the real engine (web mode) on
 * small Fashion-MNIST subsets.
 *   - Enter in a field of New experiment starts nothing (neither a run nor a sweep set up earlier); Reset clears the
 *     sweep card too; the start button says what it will start ("Start run", "Start sweep (N runs)").
 *   - The cancel dialog reads "Keep running" / "Cancel run", and goes away (with a note) when the run ends while it
 *     is open, so no button is left that does nothing.
 *   - A sweep over the run limit: the limit is a control of its own, the button does not offer the refused sweep,
 *     and a refusal is shown once, in the sweep card, where the sticky footer does not cover it.
 * Screenshots: test-artifacts/screenshots/no-accidental-work-*.png.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { e2eSkipReason, startApp, type App } from './harness';

const tid = (id: string): string => `[data-testid="${id}"]`;
const shot = (app: App, name: string): Promise<string> => app.pageShot(`no-accidental-work-${name}`);

async function value<T>(reply: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await reply;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** A small k-means run's settings in the form. */
async function smallKmeans(page: Page): Promise<void> {
  await page.locator(tid('view-new')).waitFor();
  await page.click(tid('task-kmeans'));
  await page.fill(tid('input-trainLimit'), '1000');
  await page.fill(tid('input-testLimit'), '500');
  await page.fill(tid('input-nInit'), '1');
}

/** Every job the engine was asked to queue so far (seen by the harness's own client). */
const queued = (app: App): number => app.events.filter((e) => e.event === 'job.queued').length;

/**
 * Presses Enter in a field, lets the page handle it (two frames, a round trip to the engine), and checks that the
 * page stayed on New experiment with nothing queued. (The test's end counts the runs once the queue has drained,
 * which catches a run started here however late its event.)
 */
async function enterIn(app: App, testid: string): Promise<void> {
  await app.page.focus(tid(testid));
  await app.page.keyboard.press('Enter');
  await app.page.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))));
  await value(app.api('runs.list', {}));
  expect(app.page.url(), `Enter in ${testid}`).not.toMatch(/#\/(live|sweeps)/);
  expect(await app.page.locator(tid('view-new')).count(), `Enter in ${testid}`).toBe(1);
  expect(queued(app), `Enter in ${testid}`).toBe(0);
}

describe.skipIf(e2eSkipReason)('no accidental work (web mode, Chromium, real engine)', () => {
  it('Enter in a field starts neither a run nor a sweep set up earlier; Reset clears the sweep; the button says what runs', async () => {
    const app = await startApp({ viewport: { width: 1440, height: 900 } });
    const { page } = app;
    try {
      await smallKmeans(page);
      expect(await page.innerText(tid('start-run'))).toBe('Start run');
      for (const field of ['input-trainLimit', 'input-k', 'input-nInit']) await enterIn(app, field);

      // A sweep set up earlier, then a field of the run edited and Enter pressed there: still nothing starts.
      await page.check(tid('sweep-repeat'));
      await page.fill(tid('sweep-seeds'), '0, 1');
      await page.click(tid('sweep-add-param'));
      await page.selectOption(tid('sweep-param-0'), 'k');
      await page.fill(tid('sweep-values-0'), '8, 10, 12');
      await expect.poll(() => page.innerText(tid('start-run'))).toBe('Start sweep (6 runs)');
      await page.fill(tid('input-trainLimit'), '800');
      await enterIn(app, 'input-trainLimit');
      await enterIn(app, 'sweep-seeds');
      await enterIn(app, 'sweep-values-0');
      expect(await value(app.api('sweeps.list', {}))).toEqual([]);
      await shot(app, 'sweep-set-up');

      // Reset clears the sweep card as well as the fields: the button is back to one run.
      await page.click(tid('reset-form'));
      expect(await page.isChecked(tid('sweep-repeat'))).toBe(false);
      expect(await page.locator(tid('sweep-grid-row-0')).count()).toBe(0);
      expect(await page.innerText(tid('sweep-plan'))).toContain('One run.');
      expect(await page.innerText(tid('start-run'))).toBe('Start run');
      expect(await page.inputValue(tid('input-trainLimit'))).not.toBe('800');
      await shot(app, 'after-reset');

      // The button, clicked, starts exactly one run: once it has finished (runs go one after another, so anything
      // queued before it has too), the history holds that run alone and no sweep.
      await smallKmeans(page);
      await page.click(tid('start-run'));
      await page.waitForURL(/#\/live\/job-/);
      const jobId = page.url().split('/').pop()!;
      await app.waitForEvent((e) => e.event === 'job.finished' && (e.payload as { jobId: string }).jobId === jobId, 120_000);
      expect(queued(app)).toBe(1);
      expect(await value(app.api('runs.list', {}))).toHaveLength(1);
      expect(await value(app.api('sweeps.list', {}))).toEqual([]);
      expect(app.pageErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 180_000);

  it('the cancel dialog says "Keep running" / "Cancel run", and goes away when the run ends while it is open', async () => {
    const app = await startApp();
    const { page } = app;
    try {
      // A run long enough to be running when the dialog opens: an autoencoder with many epochs.
      const started = await value(
        app.api('runs.start', { params: { task: 'ae-kmeans', epochs: 200, trainLimit: 2000, testLimit: 200, nInit: 1 } }),
      );
      await app.waitForEvent((e) => e.event === 'job.epoch' && (e.payload as { jobId: string }).jobId === started.jobId, 180_000);
      await page.evaluate((id) => {
        location.hash = `#/live/${id}`;
      }, started.jobId);
      await expect.poll(() => page.getAttribute(tid('live-detail'), 'data-state')).toBe('running');

      // The labels say which button keeps the run and which stops it; "Keep running" keeps it.
      await page.click(tid('cancel-run'));
      await page.locator(tid('confirm-dialog')).waitFor();
      expect(await page.innerText(tid('confirm-cancel'))).toBe('Keep running');
      expect(await page.innerText(tid('confirm-ok'))).toBe('Cancel run');
      await shot(app, 'cancel-dialog');
      await page.click(tid('confirm-cancel'));
      await page.locator(tid('confirm-dialog')).waitFor({ state: 'detached' });
      expect(await page.getAttribute(tid('live-detail'), 'data-state')).toBe('running');

      // The run ends (cancelled from elsewhere, another tab) while the dialog is open: the dialog goes, a note says so.
      await page.click(tid('cancel-run'));
      await page.locator(tid('confirm-dialog')).waitFor();
      expect(await value(app.api('runs.cancel', { jobId: started.jobId }))).toEqual({ cancelled: true });
      await page.locator(tid('confirm-dialog')).waitFor({ state: 'detached', timeout: 30_000 });
      await expect.poll(() => page.getAttribute(tid('live-detail'), 'data-state')).toBe('cancelled');
      await expect
        .poll(() => page.locator(tid('toast')).allInnerTexts())
        .toContainEqual(expect.stringMatching(/was cancelled before you confirmed: nothing left to cancel/));
      await app.screenshot('no-accidental-work-run-ended-under-dialog');
      expect(await page.locator(tid('cancel-run')).count()).toBe(0);
      expect(app.pageErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 300_000);

  it('a sweep over the run limit: a limit control, no offer to start it, the refusal shown once and in view', async () => {
    const app = await startApp({ viewport: { width: 1280, height: 800 } });
    const { page } = app;
    try {
      await smallKmeans(page);
      await page.check(tid('sweep-repeat'));
      await page.fill(tid('sweep-seeds'), '0-99');
      await page.click(tid('sweep-add-param'));
      await page.selectOption(tid('sweep-param-0'), 'k');
      await page.fill(tid('sweep-values-0'), '2, 3, 4, 5, 6, 7');

      // 600 runs over the default limit of 500: said once, in the sweep card, and the button does not offer it.
      await expect
        .poll(() => page.innerText(tid('sweep-plan-error')))
        .toBe('600 runs, more than the run limit of 500: raise the limit (up to 10,000) or vary fewer values.');
      const start = page.locator(tid('start-run'));
      expect(await start.innerText()).toBe('Over the run limit (600 runs)');
      expect(await start.isDisabled()).toBe(true);
      expect(await page.getByText('more than the run limit').count()).toBe(1);
      expect(await page.locator('body').innerText()).not.toContain('--max-runs');
      await page.locator(tid('sweep-plan')).scrollIntoViewIfNeeded();
      await shot(app, 'over-the-limit');

      // The limit is a control: raised to 600 the sweep can start (its plan asked of the engine); past the schema's
      // bound it is a field to fix.
      expect(await page.inputValue(tid('sweep-max-runs'))).toBe('500');
      await page.fill(tid('sweep-max-runs'), '20000');
      expect(await page.innerText(tid('sweep-max-runs-error'))).toBe('the run limit is from 1 to 10,000 runs');
      expect(await page.innerText(tid('start-run'))).toBe('Start sweep');
      await page.fill(tid('sweep-max-runs'), '600');
      await expect.poll(() => page.innerText(tid('sweep-run-count')), { timeout: 10_000 }).toBe('600 runs');
      expect(await start.innerText()).toBe('Start sweep (600 runs)');
      expect(await start.isDisabled()).toBe(false);
      expect(await page.locator(tid('sweep-plan-error')).count()).toBe(0);

      // A refusal at start (the request altered on the wire past the plan: a seed listed twice): one line, once,
      // in the sweep card, scrolled into view clear of the sticky footer.
      await page.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((message) => {
          const m = JSON.parse(String(message)) as { op?: string; payload?: { seeds?: number[] } };
          if (m.op === 'sweeps.start' && m.payload?.seeds) m.payload.seeds = [0, 0];
          server.send(JSON.stringify(m));
        });
      });
      await page.reload();
      await page.locator(tid('view-new')).waitFor();
      await page.fill(tid('sweep-seeds'), '0, 1');
      await page.fill(tid('sweep-values-0'), '8, 10');
      await expect.poll(() => start.innerText(), { timeout: 10_000 }).toBe('Start sweep (4 runs)');
      await page.evaluate(() => window.scrollTo(0, 0));
      await start.click();
      const error = page.locator(tid('sweep-plan-error'));
      await expect.poll(() => error.innerText()).toContain('0 is listed twice');
      expect(await page.getByText('0 is listed twice').count()).toBe(1);
      expect(page.url()).not.toMatch(/#\/(live|sweeps)/);
      // In view, and what is drawn at its centre is the error itself (not the footer over it).
      await expect
        .poll(() =>
          error.evaluate((el) => {
            const box = el.getBoundingClientRect();
            const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
            return box.bottom <= window.innerHeight && box.top >= 0 && top !== null && el.contains(top);
          }),
        )
        .toBe(true);
      await shot(app, 'refused-at-start');
      expect(await value(app.api('sweeps.list', {}))).toEqual([]);
      expect(app.pageErrors).toEqual([]);
    } finally {
      await app.close();
    }
  }, 180_000);
});
