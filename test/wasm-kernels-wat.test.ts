import { describe, expect, it } from 'vitest';
import { SIMD_MODULE_PLAIN, SIMD_MODULE_SHARED } from '../src-main/engine/backend/kernels/simdModule.generated';
import { legacySimdModuleBytes } from '../src-main/engine/backend/wasmKernels';

// Issue 12: the SIMD kernels assembled from WebAssembly text (src-main/engine/backend/kernels/*.wat) against the
// hand-emitted generator they replace. Both modules are run on the same inputs in the same memory.

type Kernel = (...args: number[]) => void;

const fromBase64 = (b64: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(b64, 'base64'));

function instantiate(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): Record<string, Kernel> {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as Record<string, Kernel>;
}

/** Deterministic floats in [−1, 1) with many ties (a quarter of them 0) and a few −0, NaN and −∞. */
function fill(f32: Float32Array, from: number, n: number, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const v = (s / 2 ** 32) * 2 - 1;
    f32[from + i] = i % 97 === 5 ? NaN : i % 89 === 7 ? -Infinity : i % 83 === 3 ? -0 : v < -0.5 ? 0 : v;
  }
}

/** Bytes (not values: NaN payloads and −0 count) written by `call` into [out, out + n) floats. */
function outputOf(kernels: Record<string, Kernel>, memory: WebAssembly.Memory, call: (k: Record<string, Kernel>) => void, out: number, n: number): Uint8Array {
  const f32 = new Float32Array(memory.buffer);
  fill(f32, 0, 1 << 16, 7); // inputs at floats [0, 65536); outputs after them
  f32.fill(0.5, 1 << 16, (1 << 16) + (1 << 15));
  call(kernels);
  return new Uint8Array(memory.buffer.slice(out * 4, (out + n) * 4));
}

const OUT = 1 << 16; // first output float
const cases: { name: string; call: (k: Record<string, Kernel>) => void; n: number }[] = [
  // outerN(s, v, out, nb, ny, nx, sSB, sSR, sSC, vSB, vSR, vSC) over a 3×5×6 grid, for every width
  ...Array.from({ length: 8 }, (_, i) => ({
    name: `outer${i + 1}`,
    call: (k: Record<string, Kernel>) => k[`outer${i + 1}`](4, 4000, OUT * 4, 3, 5, 6, 2400, 400, 8, 9600, 1600, 256),
    n: 4 * (i + 1),
  })),
  // 3×3 windows, stride 2, padding 1, on [2, 9, 7, 8]
  { name: 'maxPoolGrad', call: (k) => k.maxPoolGrad(0, 8000, OUT * 4, 2, 9, 7, 8, 5, 4, 3, 3, 2, 2, 1, 1), n: 2 * 9 * 7 * 8 },
  { name: 'maxPool2x2Grad', call: (k) => k.maxPool2x2Grad(0, 20000, OUT * 4, 2, 4, 5, 12), n: 2 * 8 * 10 * 12 },
  { name: 'upGrad', call: (k) => k.upGrad(0, OUT * 4, 2, 3, 4, 8, 2, 3), n: 2 * 3 * 4 * 8 },
  { name: 'upFwd', call: (k) => k.upFwd(0, OUT * 4, 2, 3, 4, 8, 2, 3), n: 2 * 6 * 12 * 8 },
  { name: 'sumRows', call: (k) => k.sumRows(16, OUT * 4, 37, 24), n: 24 },
];

describe('SIMD kernels from WebAssembly text', () => {
  it('assemble to the same bytes as the hand-emitted generator, plain and shared memory', () => {
    expect(Buffer.from(fromBase64(SIMD_MODULE_PLAIN)).equals(Buffer.from(legacySimdModuleBytes(false)))).toBe(true);
    expect(Buffer.from(fromBase64(SIMD_MODULE_SHARED)).equals(Buffer.from(legacySimdModuleBytes(true)))).toBe(true);
  });

  it.each(cases)('$name gives bit-identical outputs from the same inputs', ({ call, n }) => {
    const memory = new WebAssembly.Memory({ initial: 8 });
    const legacy = outputOf(instantiate(legacySimdModuleBytes(false), memory), memory, call, OUT, n);
    const wat = outputOf(instantiate(fromBase64(SIMD_MODULE_PLAIN), memory), memory, call, OUT, n);
    expect(Buffer.from(wat).equals(Buffer.from(legacy))).toBe(true);
    expect(new Float32Array(wat.buffer).some((v) => v !== 0.5)).toBe(true); // the kernel wrote something
  });

  it('the shared-memory module gives the same outputs in a shared memory', () => {
    const memory = new WebAssembly.Memory({ initial: 8, maximum: 64, shared: true });
    for (const { call, n } of cases) {
      const legacy = outputOf(instantiate(legacySimdModuleBytes(true), memory), memory, call, OUT, n);
      const wat = outputOf(instantiate(fromBase64(SIMD_MODULE_SHARED), memory), memory, call, OUT, n);
      expect(Buffer.from(wat).equals(Buffer.from(legacy))).toBe(true);
    }
  });
});
