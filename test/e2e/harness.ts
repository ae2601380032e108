/**
 * End-to-end harness: the real built UI (out/renderer) in a real browser (Debian's Chromium through
 * playwright-core), talking to a real engine over the web mode's WebSocket bridge — everything but the
 * thin Electron shell, which cannot run here.
 *
 *   import { describe, it } from 'vitest';
 *   import { e2eSkipReason, startApp } from './harness';
 *
 *   describe.skipIf(e2eSkipReason)('my screen', () => {
 *     it('shows runs', async () => {
 *       const app = await startApp();
 *       try {
 *         await app.api('runs.start', { params: { task: 'kmeans', trainLimit: 500, testLimit: 100, nInit: 1 } });
 *         await app.page.getByText('Runs').click();
 *         await app.screenshot('runs-screen');           // → test-artifacts/screenshots/runs-screen.png
 *       } finally {
 *         await app.close();
 *       }
 *     });
 *   });
 *
 * Each app gets a temporary CLUSTERBENCH_HOME (empty run history; Fashion-MNIST is still found in the system
 * folder) and a random port. `e2eSkipReason` is a string (why the e2e tests cannot run here: no Chromium, no
 * built UI) or undefined.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';
import type { Events, Operation, Reply, RequestOf } from '../../src-main/contract/index';
import { startWebServer, type WebServer } from '../../src-main/web/server';
import { contractAlias } from '../../electron.vite.config';
import { repoRoot } from '../helpers/cli';
import { CHROMIUM_PATH, skipUnless } from '../helpers/prereqs';

export { repoRoot };
export const BUILT_RENDERER = join(repoRoot, 'out', 'renderer');
export const SCREENSHOT_DIR = join(repoRoot, 'test-artifacts', 'screenshots');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the e2e tests cannot run here (locally; under CI a missing prerequisite fails), or false when they can. */
export const e2eSkipReason = skipUnless('chromium', 'builtApp');

/** Saves a full-page screenshot to test-artifacts/screenshots/NAME.png; returns the path. */
async function screenshotOf(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Resolves once the page has drawn what it has: fonts loaded, then two animation frames (charts re-render on the
 * frame after a resize; with reduced motion they do not animate).
 */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(() =>
    document.fonts.ready.then(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())))),
  );
}

export interface EventRecord {
  event: keyof Events;
  payload: unknown;
}

export interface App {
  page: Page;
  context: BrowserContext;
  /** null: the app runs in a persistent context (a fresh user-data-dir of its own). */
  browser: Browser | null;
  server: WebServer;
  /** The URL with the token. */
  url: string;
  /** This app's CLUSTERBENCH_HOME (temporary). */
  home: string;
  /** Calls the engine from Node over the same bridge the page uses; resolves with the Reply. */
  api<O extends Operation>(op: O, payload: RequestOf<O>): Promise<Reply<O>>;
  /** Every event the Node-side client has received so far. */
  events: EventRecord[];
  /** Resolves when an event matching `test` arrives (or has already arrived). */
  waitForEvent(test: (e: EventRecord) => boolean, timeoutMs?: number): Promise<EventRecord>;
  /** Browser console errors and uncaught page errors, for assertions. */
  consoleErrors: string[];
  pageErrors: Error[];
  /**
   * Loads the renderer's api module (src-renderer/src/api) into the page as `window.__clusterbenchTest =
   * { api, transport, call, ClusterbenchError }`, as a same-origin module script (the CSP stays strict).
   */
  injectApi(): Promise<void>;
  /** Saves a full-page screenshot to test-artifacts/screenshots/NAME.png; returns the path. */
  screenshot(name: string): Promise<string>;
  /**
   * A screenshot of the whole page with the viewport as tall as the content, so sticky bars sit where a user sees
   * them; toasts closed, scrolled to the top, once the page has settled.
   */
  pageShot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface StartAppOptions {
  /** Defaults to out/renderer (run `npm run build` first). */
  rendererDir?: string;
  viewport?: { width: number; height: number };
  /** Waits for `#app` to have content before returning (default true). */
  waitForMount?: boolean;
}

let apiBundle: Promise<string> | undefined;

/** src-renderer/src/api bundled to one ES module that publishes itself on window (built once per process). */
function bundleApiModule(): Promise<string> {
  apiBundle ??= (async () => {
    const { build } = await import('vite');
    const dir = mkdtempSync(join(tmpdir(), 'clusterbench-e2e-api-'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import * as mod from ${JSON.stringify(join(repoRoot, 'src-renderer/src/api/index.ts'))};\n` +
        '(window as unknown as { __clusterbenchTest: unknown }).__clusterbenchTest = mod;\n',
    );
    try {
      const out = await build({
        configFile: false,
        logLevel: 'silent',
        root: dir,
        resolve: { alias: contractAlias },
        build: { write: false, minify: false, lib: { entry, formats: ['es'], fileName: 'api' } },
      });
      const outputs = (Array.isArray(out) ? out : [out]) as { output: { type: string; code?: string }[] }[];
      const chunk = outputs.flatMap((o) => o.output).find((o) => o.type === 'chunk');
      if (!chunk?.code) throw new Error('bundling src-renderer/src/api produced no code');
      return chunk.code;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return apiBundle;
}

/** A Node-side WebSocket client of the bridge (Origin and cookie as a browser tab of the app would send). */
async function nodeClient(server: WebServer) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, {
    origin: `http://127.0.0.1:${server.port}`,
    headers: { Cookie: `${server.cookieName}=${server.token}` },
  });
  await new Promise<void>((resolvePromise, reject) => {
    ws.once('open', () => resolvePromise());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`bridge refused the harness: HTTP ${res.statusCode}`)));
  });
  const pending = new Map<number, (reply: Reply<Operation>) => void>();
  const events: EventRecord[] = [];
  const waiters = new Set<{ test: (e: EventRecord) => boolean; resolve: (e: EventRecord) => void }>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; reply?: Reply<Operation>; event?: keyof Events; payload?: unknown };
    if (m.event) {
      const record = { event: m.event, payload: m.payload };
      events.push(record);
      for (const w of [...waiters]) {
        if (!w.test(record)) continue;
        waiters.delete(w);
        w.resolve(record);
      }
    } else if (typeof m.id === 'number' && m.reply) {
      pending.get(m.id)?.(m.reply);
      pending.delete(m.id);
    }
  });
  let next = 1;
  return {
    events,
    call<O extends Operation>(op: O, payload: RequestOf<O>): Promise<Reply<O>> {
      const id = next++;
      return new Promise((resolvePromise) => {
        pending.set(id, resolvePromise as (r: Reply<Operation>) => void);
        ws.send(JSON.stringify({ id, op, payload }));
      });
    },
    waitForEvent(test: (e: EventRecord) => boolean, timeoutMs = 120_000): Promise<EventRecord> {
      const seen = events.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolvePromise, reject) => {
        const waiter = {
          test,
          resolve: (e: EventRecord) => {
            clearTimeout(timer);
            resolvePromise(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for an event`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () => ws.close(),
  };
}

/** Starts the web server (temporary home, random port) and opens the app in headless Chromium. */
export async function startApp(options: StartAppOptions = {}): Promise<App> {
  if (e2eSkipReason && !options.rendererDir) throw new Error(e2eSkipReason);
  const home = mkdtempSync(join(tmpdir(), 'clusterbench-e2e-'));
  const previousHome = process.env.CLUSTERBENCH_HOME;
  // The engine worker reads the app-data folder from its environment, copied when it starts.
  process.env.CLUSTERBENCH_HOME = home;

  // A copy of the built UI plus the test-only api module (served same-origin, so the CSP stays strict).
  const rendererDir = join(home, 'renderer');
  cpSync(options.rendererDir ?? BUILT_RENDERER, rendererDir, { recursive: true });
  mkdirSync(join(rendererDir, '__e2e'), { recursive: true });
  writeFileSync(join(rendererDir, '__e2e', 'api.js'), await bundleApiModule());

  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    if (previousHome === undefined) delete process.env.CLUSTERBENCH_HOME;
    else process.env.CLUSTERBENCH_HOME = previousHome;
    rmSync(home, { recursive: true, force: true });
  };

  try {
    const server = await startWebServer({ port: 0, rendererDir, dbPath: join(home, 'runs.sqlite'), warn: () => undefined });
    cleanups.push(() => server.close());
    const client = await nodeClient(server);
    cleanups.push(() => client.close());

    const userDataDir = mkdtempSync(join(tmpdir(), 'clusterbench-chromium-'));
    cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
    // A persistent context is the way to give Chromium a fresh user-data-dir of our own.
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1280, height: 800 },
      acceptDownloads: true,
      // The charts honour it (no animations), so what a screenshot or an assertion sees is the final frame.
      reducedMotion: 'reduce',
    });
    cleanups.push(() => context.close());
    const browser = context.browser();
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    const pageErrors: Error[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err));

    await page.goto(server.url, { waitUntil: 'load' });
    if (options.waitForMount ?? true) {
      await page.waitForFunction(() => (document.querySelector('#app')?.childElementCount ?? 0) > 0, undefined, { timeout: 30_000 });
    }

    let closed = false;
    return {
      page,
      context,
      browser,
      server,
      url: server.url,
      home,
      api: (op, payload) => client.call(op, payload),
      events: client.events,
      waitForEvent: (test, timeoutMs) => client.waitForEvent(test, timeoutMs),
      consoleErrors,
      pageErrors,
      async injectApi() {
        // Relative: under the server's base path, where the browser sends the token cookie.
        await page.addScriptTag({ url: '__e2e/api.js', type: 'module' });
        await page.waitForFunction(() => '__clusterbenchTest' in window, undefined, { timeout: 10_000 });
      },
      screenshot: (name: string) => screenshotOf(page, name),
      async pageShot(name: string) {
        await page.evaluate(() => {
          for (const b of document.querySelectorAll<HTMLButtonElement>('[data-testid="toast"] button')) b.click();
          window.scrollTo(0, 0);
        });
        const viewport = page.viewportSize() ?? { width: 1280, height: 800 };
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        if (height > viewport.height) await page.setViewportSize({ width: viewport.width, height });
        await settled(page);
        const path = await screenshotOf(page, name);
        if (height > viewport.height) await page.setViewportSize(viewport);
        return path;
      },
      async close() {
        if (closed) return;
        closed = true;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
