import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type InlineConfig, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';
import config from '../../electron.vite.config';

/** Vite's default chunkSizeWarningLimit, in kB of minified code (it warns above it). */
const VITE_WARNING_KB = 500;

// Issue 22: every `npm run web` printed Vite's "Some chunks are larger than 500 kB after minification".
describe('renderer bundle', () => {
  it('builds in chunks Vite does not warn about, without raising its limit', async () => {
    const renderer = (config as { renderer: InlineConfig }).renderer;
    expect(renderer.build?.chunkSizeWarningLimit).toBeUndefined();
    const warnings: string[] = [];
    const output = (await build({
      ...renderer,
      configFile: false,
      logLevel: 'silent',
      customLogger: {
        info: () => undefined,
        warn: (msg: string) => void warnings.push(msg),
        warnOnce: (msg: string) => void warnings.push(msg),
        error: () => undefined,
        clearScreen: () => undefined,
        hasErrorLogged: () => false,
        hasWarned: false,
      },
      build: { ...renderer.build, outDir: mkdtempSync(join(tmpdir(), 'cb-renderer-')), emptyOutDir: true },
    })) as Rollup.RollupOutput;
    const chunks = output.output.filter((o): o is Rollup.OutputChunk => o.type === 'chunk');
    const sizes = Object.fromEntries(chunks.map((c) => [c.name, Math.round(c.code.length / 1000)]));
    expect(Object.keys(sizes).sort()).toEqual(['echarts', 'index', 'vendor', 'zrender']);
    for (const [name, kb] of Object.entries(sizes)) expect(kb, `${name}: ${kb} kB`).toBeLessThanOrEqual(VITE_WARNING_KB);
    expect(warnings.filter((w) => /larger than/.test(w))).toEqual([]);
  });
});
