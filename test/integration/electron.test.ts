import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli';
import { recordSkip, skipUnless } from '../helpers/prereqs';

// The real desktop window through Playwright's Electron support. Needs the Electron binary, which cannot be
// downloaded on every machine (no access to Electron's release server): then this skips, also under CI —
// the one prerequisite CI machines cannot have. Whenever a binary is present, it runs.
//
// The binary is located the way node_modules/electron/index.js does it, but without calling
// `require('electron')`: that call tries to download a missing binary (slow, and it fails offline).
function electronBinary(): { path?: string; reason?: string } {
  const dir = join(repoRoot, 'node_modules', 'electron');
  if (!existsSync(join(dir, 'package.json'))) return { reason: 'the electron package is not installed' };
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile))
    return {
      reason:
        'the Electron binary was never downloaded (node_modules/electron/path.txt missing; `npm start` fetches it, with network access)',
    };
  const relative = readFileSync(pathFile, 'utf8').trim();
  const base = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, 'dist');
  const path = join(base, relative);
  return existsSync(path) ? { path } : { reason: `the Electron binary ${path} does not exist` };
}

const binary = electronBinary();
const skipReason = skipUnless('builtApp') || (binary.reason && recordSkip(`the Electron window test: ${binary.reason}`));

describe.skipIf(skipReason)('desktop app (Electron)', () => {
  it('opens a locked-down window whose preload exposes window.clusterbench, and round-trips runs.list', async () => {
    const { _electron } = await import('playwright-core');
    const home = mkdtempSync(join(tmpdir(), 'clusterbench-electron-'));
    const app = await _electron.launch({
      executablePath: binary.path,
      args: [repoRoot, '--no-sandbox', '--disable-gpu'],
      cwd: repoRoot,
      env: { ...process.env, CLUSTERBENCH_HOME: home, ELECTRON_RENDERER_URL: '' },
    });
    try {
      const window = await app.firstWindow();
      await window.waitForFunction(() => (document.querySelector('#app')?.childElementCount ?? 0) > 0);
      const result = await window.evaluate(async () => {
        const api = (window as unknown as { clusterbench: Record<string, (r: unknown) => Promise<unknown>> }).clusterbench;
        let error = '';
        try {
          await api['runs.get']({ id: -1 });
        } catch (err) {
          error = (err as Error).message;
        }
        return {
          keys: Object.keys(api).sort(),
          runs: await api['runs.list']({}),
          hasRequire: typeof (window as unknown as { require?: unknown }).require !== 'undefined',
          hasProcess: typeof (window as unknown as { process?: unknown }).process !== 'undefined',
          error,
        };
      });
      expect(result.keys).toContain('runs.list');
      expect(result.keys).toContain('on');
      expect(result.runs).toEqual([]);
      expect(result.hasRequire).toBe(false);
      expect(result.hasProcess).toBe(false);
      expect(result.error).toContain('invalid-request');
      const prefs = await app.evaluate(({ BrowserWindow }) => {
        const w = BrowserWindow.getAllWindows()[0];
        // Not in every electron.d.ts, hence the cast; skipped where absent.
        const get = (w.webContents as unknown as { getLastWebPreferences?: () => Record<string, unknown> | null }).getLastWebPreferences;
        const p = get?.call(w.webContents);
        return p ? { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration } : null;
      });
      if (prefs) expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
