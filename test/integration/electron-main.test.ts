import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli';
import { ELECTRON_NODE, skipUnless } from '../helpers/prereqs';

// The bundled Electron main (out/main/index.js) run with a stand-in `electron` module by Node 24, the Node that
// Electron 45 runs, standing in for Electron's (another NODE_MODULE_VERSION than the Node that installed
// node_modules and runs the tests): no Electron binary can run here, but this exercises the real bundle — engine
// API creation, the engine worker found next to the bundle opening the run history with the installed native
// addons, IPC sender checks, event forwarding, navigation rules, CSP headers, files.save and closing the engine on
// quit. The history it wrote is then read by the CLI on the tests' Node: one SQLite binary serves both.
const builtMain = join(repoRoot, 'out', 'main', 'index.js');

const STUB = String.raw`
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const out = (name, value) => process.stdout.write('@@' + JSON.stringify({ name, value }) + '\n');
const handlers = new Map();
const windows = [];
const sent = [];
const opened = [];
let nextId = 1;
let headersListener;
let savePath;
let dialogOptions;

class WebContents extends EventEmitter {
  constructor() { super(); this.id = nextId++; this.url = ''; }
  setWindowOpenHandler(fn) { this.openHandler = fn; }
  send(channel, ...args) { sent.push([channel, ...args]); }
  getURL() { return this.url; }
  isDestroyed() { return false; }
}
export class BrowserWindow extends EventEmitter {
  constructor(options) { super(); this.options = options; this.webContents = new WebContents(); windows.push(this); }
  static getAllWindows() { return windows; }
  static getFocusedWindow() { return null; }
  loadFile(file) { this.webContents.url = pathToFileURL(file).href; return Promise.resolve(); }
  loadURL(url) { this.webContents.url = url; return Promise.resolve(); }
  isDestroyed() { return false; }
  isMinimized() { return false; }
  show() {}
}
let resolveReady;
const ready = new Promise((r) => (resolveReady = r));
class App extends EventEmitter {
  isPackaged = false;
  whenReady() { return ready; }
  requestSingleInstanceLock() { return true; }
  getAppPath() { return process.cwd(); }
  getPath() { return '/tmp'; }
  quit() { out('quit', true); setTimeout(() => process.exit(0), 50); }
}
export const app = new App();
export const ipcMain = {
  handle(channel, fn) { handlers.set(channel, fn); },
  removeHandler(channel) { handlers.delete(channel); out('removeHandler', channel); },
};
export const shell = { openExternal(url) { opened.push(url); return Promise.resolve(); } };
export const dialog = {
  showSaveDialog(win, options) { dialogOptions = options ?? win; return Promise.resolve({ canceled: false, filePath: savePath }); },
};
export const session = {
  defaultSession: {
    webRequest: { onHeadersReceived(fn) { headersListener = fn; } },
    setPermissionRequestHandler(fn) { this.permission = fn; },
    setPermissionCheckHandler(fn) { this.check = fn; },
  },
};
export default { app, BrowserWindow, ipcMain, shell, dialog, session };

setTimeout(() => resolveReady(), 10);
ready.then(() => setTimeout(scenario, 50));

async function scenario() {
  try {
    const call = handlers.get('clusterbench:call');
    const win = windows[0];
    const trusted = win.webContents.url;
    out('node', { node: process.versions.node, modules: process.versions.modules });
    out('window', { url: trusted, webPreferences: win.options.webPreferences });
    const ev = (url, sender = win.webContents, parent = null) => ({ sender, senderFrame: { url, parent } });
    out('list', await call(ev(trusted), 'runs.list', {}));
    out('untrusted', await call(ev('https://evil.example/'), 'runs.list', {}));
    out('otherFile', await call(ev('file:///tmp/evil.html'), 'runs.list', {}));
    out('subframe', await call(ev(trusted, win.webContents, {}), 'runs.list', {}));
    out('otherContents', await call(ev(trusted, { id: 999 }), 'runs.list', {}));
    out('invalid', await call(ev(trusted), 'runs.get', { id: -1 }));
    out('unknown', await call(ev(trusted), 'nope', {}));

    const started = await call(ev(trusted), 'runs.start', { params: { task: 'kmeans', trainLimit: 500, testLimit: 100, nInit: 1 } });
    out('start', started);
    for (let i = 0; i < 1200 && !sent.some((s) => s[1] === 'job.finished' || s[1] === 'job.failed'); i++) await new Promise((r) => setTimeout(r, 100));
    out('events', sent.map((s) => [s[0], s[1]]));
    out('listAfter', await call(ev(trusted), 'runs.list', {}));
    // The other native addons, loaded in the engine worker on this Node: resvg renders the PNG, Dawn is probed.
    const png = await call(ev(trusted), 'export.confusion', { id: 1, format: 'png' });
    out('png', png.ok ? { ok: true, bytes: Buffer.from(png.value.data, 'base64').subarray(1, 4).toString() } : png);
    const backends = await call(ev(trusted), 'backends.list', {});
    out('webgpu', backends.ok ? backends.value.find((b) => b.name === 'webgpu') : backends);

    let prevented = false;
    win.webContents.emit('will-navigate', { preventDefault() { prevented = true; } }, 'https://example.com/page');
    const denyJs = win.webContents.openHandler({ url: 'javascript:alert(1)' });
    const denyFile = win.webContents.openHandler({ url: 'file:///etc/passwd' });
    const denyWeb = win.webContents.openHandler({ url: 'https://example.org/' });
    out('navigation', { prevented, opened: [...opened], denies: [denyJs.action, denyFile.action, denyWeb.action] });

    savePath = process.env.CB_SAVE_PATH;
    out('save', await call(ev(trusted), 'files.save', { suggestedName: '../../evil.txt', data: Buffer.from('hello').toString('base64'), encoding: 'base64' }));
    out('saved', { content: readFileSync(savePath, 'utf8'), defaultPath: dialogOptions.defaultPath });

    await new Promise((resolve) => headersListener({ url: trusted, responseHeaders: { 'content-security-policy': ['x'] } }, (r) => { out('headers', r.responseHeaders); resolve(); }));
    let permission;
    session.defaultSession.permission(null, 'media', (v) => (permission = v));
    out('permission', permission);

    let quitPrevented = false;
    app.emit('will-quit', { preventDefault() { quitPrevented = true; } });
    out('willQuit', quitPrevented);
  } catch (err) {
    out('error', String(err && err.stack || err));
    process.exit(1);
  }
}
`;

interface Line {
  name: string;
  value: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'clusterbench-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBundledMain(node: string): Promise<{ code: number | null; lines: Map<string, unknown>; stderr: string }> {
  const stub = join(dir, 'electron-stub.mjs');
  writeFileSync(stub, STUB);
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {\n` +
      `  if (specifier === 'electron') return { url: ${JSON.stringify(pathToFileURL(stub).href)}, shortCircuit: true };\n` +
      `  return next(specifier, context);\n}\n`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['--import', pathToFileURL(register).href, builtMain], {
      cwd: repoRoot,
      env: { ...process.env, CLUSTERBENCH_HOME: join(dir, 'home'), CB_SAVE_PATH: join(dir, 'saved.txt'), ELECTRON_RENDERER_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = new Map<string, unknown>();
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('@@')) continue;
        const { name, value } = JSON.parse(line.slice(2)) as Line;
        lines.set(name, value);
      }
      resolve({ code, lines, stderr });
    });
  });
}

describe.skipIf(skipUnless('builtApp', 'electronNode'))('bundled Electron main on Electron’s Node with a stand-in electron module', () => {
  it('opens the history, wires the engine to IPC securely and closes it on quit', async () => {
    const { code, lines, stderr } = await runBundledMain(ELECTRON_NODE);
    expect(lines.get('error'), stderr).toBeUndefined();
    expect(lines.get('node')).toMatchObject({ node: expect.stringMatching(/^24\./) });
    expect((lines.get('node') as { modules: string }).modules).not.toBe(process.versions.modules);
    const window = lines.get('window') as { url: string; webPreferences: Record<string, unknown> };
    expect(window.url).toBe(pathToFileURL(join(repoRoot, 'out/renderer/index.html')).href);
    expect(window.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(window.webPreferences.preload)).toMatch(/out[\\/]preload[\\/]index\.cjs$/);

    expect(lines.get('list')).toEqual({ ok: true, value: [] });
    for (const refused of ['untrusted', 'otherFile', 'subframe', 'otherContents']) {
      expect(lines.get(refused), refused).toMatchObject({
        ok: false,
        error: { code: 'failed', message: expect.stringContaining('Refused') },
      });
    }
    expect(lines.get('invalid')).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(lines.get('unknown')).toMatchObject({ ok: false, error: { code: 'unknown-operation' } });

    expect(lines.get('start')).toMatchObject({ ok: true, value: { jobId: expect.any(String) } });
    const events = lines.get('events') as [string, string][];
    expect(events.every(([channel]) => channel === 'clusterbench:event')).toBe(true);
    const names = events.map(([, name]) => name);
    expect(names).toEqual(expect.arrayContaining(['job.queued', 'job.started', 'job.progress', 'job.finished']));
    expect((lines.get('listAfter') as { value: { status: string }[] }).value.map((r) => r.status)).toEqual(['completed']);
    expect(lines.get('png')).toEqual({ ok: true, bytes: 'PNG' });
    // Dawn loaded and found an adapter (Mesa's software one here: CI installs it for the WebGPU tests).
    expect(lines.get('webgpu')).toMatchObject({ name: 'webgpu', available: true });

    expect(lines.get('navigation')).toEqual({
      prevented: true,
      opened: ['https://example.com/page', 'https://example.org/'],
      denies: ['deny', 'deny', 'deny'],
    });

    expect(lines.get('save')).toMatchObject({ ok: true, value: { saved: true } });
    const saved = lines.get('saved') as { content: string; defaultPath: string };
    expect(saved.content).toBe('hello');
    expect(saved.defaultPath).toBe(join('/tmp', 'evil.txt'));

    const headers = lines.get('headers') as Record<string, string[]>;
    expect(Object.keys(headers)).toEqual(['Content-Security-Policy']);
    expect(headers['Content-Security-Policy'][0]).toContain("script-src 'self'");
    expect(headers['Content-Security-Policy'][0]).toContain("object-src 'none'");
    expect(lines.get('permission')).toBe(false);

    expect(lines.get('willQuit')).toBe(true);
    expect(lines.get('removeHandler')).toBe('clusterbench:call');
    expect(lines.get('quit')).toBe(true);
    expect(code).toBe(0);

    // The same history, read by the CLI on the tests' Node.
    const list = await runCli(['runs', 'list', '--json'], { CLUSTERBENCH_HOME: join(dir, 'home') });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { status: string; task: string }[]).map((r) => [r.task, r.status])).toEqual([
      ['kmeans', 'completed'],
    ]);
  });
});
