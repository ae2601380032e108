import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { choice, int, intList, parseFlags, sd } from '../../bench/harness';
import { halfToFloat, readCodes } from '../../bench/n2d-codes';
import { BACKEND_NAMES } from '../../src-main/engine/backend/names';
import { repoRoot } from '../helpers/cli';

// The benches print the figures the README quotes: their option parsing and the reading of codes written by the
// PyTorch reference (numpy float16) must be right.
describe('bench tools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterbench-bench-tools-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses --flag value and --flag=value, and rejects bad or unknown options with the flag named', () => {
    const flags = {
      '--seeds': (o: { seeds: number[]; mode: string }, v: () => string | undefined, f: string) => {
        o.seeds = intList(f, v(), 0, '--seeds expects a list');
      },
      '--mode': (o: { seeds: number[]; mode: string }, v: () => string | undefined, f: string) => {
        o.mode = choice(f, v(), ['a', 'b']);
      },
    };
    const defaults = { seeds: [0], mode: 'a' };
    expect(parseFlags(['--seeds', '0, 2,,5', '--mode=b'], defaults, flags)).toEqual({ seeds: [0, 2, 5], mode: 'b' });
    expect(defaults).toEqual({ seeds: [0], mode: 'a' });
    expect(() => parseFlags(['--seeds', 'x'], defaults, flags)).toThrow('--seeds expects an integer ≥ 0, got x');
    expect(() => parseFlags(['--mode', 'c'], defaults, flags)).toThrow('--mode expects one of a, b, got c');
    expect(() => parseFlags(['--sed', '1'], defaults, flags)).toThrow('unknown option --sed');
    expect(() => int('--epochs', '', 1)).toThrow('--epochs expects an integer ≥ 1, got nothing');
    expect(sd([1, 2, 3, 4])).toBeCloseTo(1.2909944, 6);
  });

  it('the backend names are written once (engine/backend/names.ts): no bench or source file keeps its own list', () => {
    const name = `['"](?:${BACKEND_NAMES.join('|')})['"]`;
    const list = new RegExp(`\\[\\s*${name}(?:\\s*,\\s*${name}){3,}`); // four or more: a copy, not a chosen few
    const sources = ['src-main', 'bench', 'src-renderer/src'].flatMap((dir) =>
      readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => /\.(ts|vue)$/.test(file))
        .map((file) => join(repoRoot, dir, file)),
    );
    const copies = sources.filter((file) => list.test(readFileSync(file, 'utf8'))).map((file) => relative(repoRoot, file));
    expect(copies).toEqual(['src-main/engine/backend/names.ts']);
  });

  it('decodes IEEE half floats as numpy writes them', () => {
    // 1, -2, 0.5, 65504 (largest half), 2^-24 (smallest subnormal), 0, -0, +inf
    const halves = Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x0000, 0x8000, 0x7c00]);
    const out = halfToFloat(Buffer.from(halves.buffer));
    expect(Array.from(out)).toEqual([1, -2, 0.5, 65504, 2 ** -24, 0, -0, Infinity]);
    expect(Number.isNaN(halfToFloat(Buffer.from(Uint16Array.from([0x7e00]).buffer))[0])).toBe(true);
  });

  it('reads a code file of the right size and names the problem with a wrong one', () => {
    const good = join(dir, 'codes-s0-e1.f32');
    writeFileSync(good, Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer));
    expect(readCodes(good, 2, 3)).toEqual({ data: Float32Array.from([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 });
    expect(() => readCodes(good, 4, 3)).toThrow(/6 values, expected 3 rows × 4 \(--dims\) = 12/);
    const bad = join(dir, 'codes.bin');
    writeFileSync(bad, Buffer.alloc(24));
    expect(() => readCodes(bad, 2, 3)).toThrow(/expected a \.f16 or \.f32 file/);
    const odd = join(dir, 'odd.f32');
    writeFileSync(odd, Buffer.alloc(7));
    expect(() => readCodes(odd, 2, 1)).toThrow(/7 bytes is not a whole number of values/);
    // a view at an odd offset of a shared buffer, as Buffer slices can be
    expect(Array.from(halfToFloat(Buffer.from([0, 0x00, 0x3c]).subarray(1)))).toEqual([1]);
    const nan = join(dir, 'nan.f32');
    writeFileSync(nan, Buffer.from(Float32Array.from([1, NaN]).buffer));
    expect(() => readCodes(nan, 2, 1)).toThrow(/non-finite/);
  });
});
