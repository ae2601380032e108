import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SIMD_MODULE_PLAIN, SIMD_MODULE_SHARED } from '../../src-main/engine/backend/kernels/simd-module.generated';

// The SIMD kernels' WebAssembly text (src-main/engine/backend/kernels/*.wat) is the truth: the checked-in
// module (simd-module.generated.ts) must be exactly what scripts/build-wasm-kernels.mjs makes of it.

const GENERATED = 'src-main/engine/backend/kernels/simd-module.generated.ts';
const dir = mkdtempSync(join(tmpdir(), 'clusterbench-wasm-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXPORTS = [...Array.from({ length: 8 }, (_, i) => `outer${i + 1}`), 'maxPoolGrad', 'maxPool2x2Grad', 'upGrad', 'upFwd', 'sumRows'];

describe('the SIMD kernel module', () => {
  it('checked in is what the build script assembles from the .wat sources', () => {
    const out = join(dir, 'simd-module.generated.ts');
    const build = spawnSync(process.execPath, ['scripts/build-wasm-kernels.mjs', '--out', out], { encoding: 'utf8' });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    expect(readFileSync(GENERATED, 'utf8'), `${GENERATED} is stale: run node scripts/build-wasm-kernels.mjs`).toBe(
      readFileSync(out, 'utf8'),
    );
  });

  it.each([
    ['plain', SIMD_MODULE_PLAIN, false],
    ['shared', SIMD_MODULE_SHARED, true],
  ] as const)('%s: imports only env.memory (%s) and exports the kernels', (_, b64, shared) => {
    const module = new WebAssembly.Module(Buffer.from(b64, 'base64'));
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(EXPORTS);
    const memory = new WebAssembly.Memory(shared ? { initial: 1, maximum: 2, shared: true } : { initial: 1 });
    expect(() => new WebAssembly.Instance(module, { env: { memory } })).not.toThrow();
  });

  it('fails naming the .wat file and line of an error', () => {
    const src = join(dir, 'broken');
    cpSync('src-main/engine/backend/kernels', src, { recursive: true });
    const file = join(src, 'sumRows.wat');
    writeFileSync(file, readFileSync(file, 'utf8').replace('(f32x4.add (v128.load', '(f32x4.frobnicate (v128.load'));
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('frobnicate')) + 1;
    const build = spawnSync(process.execPath, ['scripts/build-wasm-kernels.mjs', '--src', src, '--out', join(dir, 'unused.ts')], {
      encoding: 'utf8',
    });
    expect(build.status).toBe(1);
    expect(build.stderr).toContain(`sumRows.wat:${line}:`);
    expect(build.stderr).toMatch(/unexpected token "?f32x4\.frobnicate/);
  });
});
