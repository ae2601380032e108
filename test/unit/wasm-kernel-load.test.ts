import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type * as Generated from '../../src-main/engine/backend/kernels/simd-module.generated';
import { compileSimdModule, instantiateSimdModule, SIMD_MODULE_NAME } from '../../src-main/engine/backend/kernels/simd-kernels';
import { registerWasmTrainingKernels } from '../../src-main/engine/backend/wasm-kernels';

// A SIMD kernel module that does not load is an error naming it, never a silent fallback to the JavaScript
// loops. Here the checked-in module is replaced by bytes that are not WebAssembly.
vi.mock('../../src-main/engine/backend/kernels/simd-module.generated', () => ({
  SIMD_MODULE_PLAIN: Buffer.from('not a wasm module').toString('base64'),
  SIMD_MODULE_SHARED: Buffer.from('not a wasm module').toString('base64'),
}));

const NAMED = /the SIMD training kernel module \(src-main\/engine\/backend\/kernels\/\*\.wat\)/;

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('a SIMD kernel module that does not load', () => {
  it('fails the wasm backend’s start, naming the module', async () => {
    registerWasmTrainingKernels();
    await expect(tf.setBackend('wasm')).rejects.toThrow(NAMED);
    await expect(tf.setBackend('wasm')).rejects.toThrow(/plain-memory variant, does not compile/);
  });

  it('fails a kernel that uses it, naming the module', () => {
    // the backend is active (its setup failed above): the kernels themselves refuse to run
    const x = tf.ones([2, 4, 4, 4]);
    expect(() => tf.sum(x, [0, 1, 2]).dataSync()).toThrow(NAMED);
    x.dispose();
  });

  it('is named when it does not compile or does not fit the memory', async () => {
    expect(SIMD_MODULE_NAME).toMatch(NAMED);
    expect(() => compileSimdModule(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1]), 'plain')).toThrow(
      /plain-memory variant, does not compile: /,
    );
    const real = await vi.importActual<typeof Generated>('../../src-main/engine/backend/kernels/simd-module.generated');
    const shared = compileSimdModule(Buffer.from(real.SIMD_MODULE_SHARED, 'base64'), 'shared');
    expect(() => instantiateSimdModule(shared, 'shared', new WebAssembly.Memory({ initial: 1 }))).toThrow(
      /shared-memory variant, cannot be instantiated on the wasm backend's memory: /,
    );
    const plain = compileSimdModule(Buffer.from(real.SIMD_MODULE_PLAIN, 'base64'), 'plain');
    expect(Object.keys(instantiateSimdModule(plain, 'plain', new WebAssembly.Memory({ initial: 1 })))).toContain('sumRows');
  });
});
