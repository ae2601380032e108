import { describe, expect, it } from 'vitest';
import { e2eSkipReason, startApp } from './harness';

// The built UI in Chromium against a real engine over the web bridge.
describe.skipIf(e2eSkipReason)('e2e smoke (web mode, Chromium)', () => {
  it('loads the page, mounts the app, and round-trips runs.list through the renderer api', async () => {
    const app = await startApp();
    try {
      // The token left the address bar (kept in sessionStorage); the cookie authenticates the assets.
      expect(await app.page.title()).toContain('Clusterbench');
      expect(await app.page.locator('#app').evaluate((el) => el.childElementCount)).toBeGreaterThan(0);

      await app.injectApi();
      const result = await app.page.evaluate(async () => {
        const t = (window as unknown as { __clusterbenchTest: typeof import('../../src-renderer/src/api/index') }).__clusterbenchTest;
        const runs = await t.api['runs.list']({});
        let error: { name: string; code: string } | undefined;
        try {
          await t.api['runs.get']({ id: -1 });
        } catch (err) {
          error = { name: (err as Error).name, code: (err as { code: string }).code };
        }
        return { transport: t.transport, runs, error, href: location.href };
      });
      expect(result.transport).toBe('web');
      expect(result.runs).toEqual([]);
      expect(result.error).toEqual({ name: 'ClusterbenchError', code: 'invalid-request' });
      expect(result.href).not.toContain('token=');
      // The browser keeps the token cookie for the app's secret base path only (cookies ignore ports).
      const cookies = await app.context.cookies();
      expect(cookies.filter((c) => c.value === app.server.token).map((c) => [c.name, c.path])).toEqual([
        [app.server.cookieName, app.server.basePath],
      ]);

      // Events reach `api.on` listeners in the page.
      await app.page.evaluate(() => {
        const w = window as unknown as { __clusterbenchTest: typeof import('../../src-renderer/src/api/index'); seen: string[] };
        w.seen = [];
        for (const name of ['job.started', 'job.progress', 'job.finished'] as const)
          w.__clusterbenchTest.api.on(name, () => w.seen.push(name));
      });
      const started = await app.page.evaluate(() =>
        (window as unknown as { __clusterbenchTest: typeof import('../../src-renderer/src/api/index') }).__clusterbenchTest.api[
          'runs.start'
        ]({
          params: { task: 'kmeans', trainLimit: 500, testLimit: 100, nInit: 1 },
        }),
      );
      expect(started.jobId).toEqual(expect.any(String));
      await app.page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.includes('job.finished'), undefined, {
        timeout: 120_000,
      });
      const seen = await app.page.evaluate(() => (window as unknown as { seen: string[] }).seen);
      expect(seen).toContain('job.started');
      expect(seen).toContain('job.progress');

      // Node-side client of the same bridge.
      const reply = await app.api('runs.list', {});
      expect(reply.ok && reply.value.map((r) => r.status)).toEqual(['completed']);
      expect(app.events.some((e) => e.event === 'job.finished')).toBe(true);

      expect(app.pageErrors).toEqual([]);
      expect(app.consoleErrors.filter((m) => /Content Security Policy|WebSocket/i.test(m))).toEqual([]);
      await app.screenshot('smoke-home');
    } finally {
      await app.close();
    }
  });
});
