import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  originalCpuKernel,
  registerCpuTrainingKernelFixes,
  registerWasmTrainingKernels,
  setFilterGradMethod,
  setWasmSimdKernelsEnabled,
  wasmSimdKernelsAvailable,
  wasmTrainingKernelsRegistered,
  type FilterGradMethod,
} from '../../src-main/engine/backend/wasm-kernels';
import { binaryCrossEntropy, buildConvAutoencoder } from '../../src-main/engine/models/conv-autoencoder';

type Shape4 = [number, number, number, number];
type PadArg = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Deterministic values in [−1, 1) (an LCG), optionally with the negatives zeroed (relu-like: many ties). */
function values(shape: number[], seed: number, relu = false): Float32Array {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const v = (s / 2 ** 32) * 2 - 1;
    out[i] = relu && v < 0 ? 0 : v;
  }
  return out;
}

function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Float32Array {
  tf.setBackend(backend);
  const t = tf.tidy(f);
  const d = t.dataSync() as Float32Array;
  t.dispose();
  return d;
}

/** Largest |a − b| relative to the largest |a| (1 when the lengths differ). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 1;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return 1;
    if (Number.isNaN(a[i])) continue;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return d / Math.max(m, 1e-30);
}

function vsCpu(f: () => tf.Tensor): number {
  return relDiff(on('cpu', f), on('wasm', f));
}

beforeAll(async () => {
  registerWasmTrainingKernels();
  registerWasmTrainingKernels(); // idempotent
  await tf.setBackend('wasm');
  await tf.ready();
  await tf.setBackend('cpu');
  await tf.ready();
});

afterEach(() => {
  setFilterGradMethod('auto');
  setWasmSimdKernelsEnabled(true);
  tf.setBackend('wasm');
});

describe('registration', () => {
  it('adds Conv2DBackpropFilter to wasm, once', () => {
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(wasmSimdKernelsAvailable()).toBe(true);
  });
});

describe('Conv2DBackpropFilter on wasm matches the cpu backend', () => {
  const cases: [Shape4, Shape4, number | [number, number], PadArg][] = [
    [[2, 9, 9, 3], [3, 3, 3, 4], 1, 'same'],
    [[2, 9, 9, 3], [3, 3, 3, 4], 1, 'valid'],
    [[2, 10, 11, 5], [3, 2, 5, 4], 2, 'same'],
    [[2, 10, 11, 8], [3, 3, 8, 1], [2, 3], 'valid'],
    [[3, 8, 8, 1], [3, 3, 1, 8], 1, 'same'],
    [[3, 8, 8, 8], [3, 3, 8, 1], 1, 'same'],
    [
      [2, 7, 9, 4],
      [2, 3, 4, 2],
      1,
      [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
    ],
    [[2, 12, 12, 2], [5, 5, 2, 12], 3, 'same'],
    [[1, 5, 5, 2], [1, 1, 2, 3], 1, 'valid'],
    [[2, 16, 16, 16], [3, 3, 16, 32], 1, 'valid'],
    [[2, 14, 14, 32], [3, 3, 32, 16], 1, 'same'],
    [[4, 28, 28, 1], [3, 3, 1, 32], 1, 'same'],
    [[4, 28, 28, 32], [3, 3, 32, 1], 1, 'same'],
  ];
  const methods: FilterGradMethod[] = ['auto', 'x-input', 'dy-input', 'im2col', 'outer'];
  for (const [xShape, fShape, strides, pad] of cases) {
    it(`x ${xShape} filter ${fShape} strides ${strides} pad ${JSON.stringify(pad)}`, () => {
      const dyShape = tf.backend_util.computeConv2DInfo(xShape, fShape, strides, 1, pad).outShape;
      const x = values(xShape, 1);
      const dy = values(dyShape, 2);
      const reference = on(
        'cpu',
        () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, {
            strides,
            pad,
            dataFormat: 'NHWC',
            filterShape: fShape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
      );
      for (const simdOn of [true, false]) {
        setWasmSimdKernelsEnabled(simdOn);
        for (const method of methods) {
          setFilterGradMethod(method);
          const got = on(
            'wasm',
            () =>
              tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, {
                strides,
                pad,
                dataFormat: 'NHWC',
                filterShape: fShape,
              } as unknown as tf.NamedAttrMap) as tf.Tensor,
          );
          expect(relDiff(reference, got), `${method}, simd ${simdOn}`).toBeLessThan(1e-5);
        }
      }
    });
  }

  it('rejects NCHW clearly', () => {
    tf.setBackend('wasm');
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.zeros([1, 1, 4, 4]), dy: tf.zeros([1, 1, 4, 4]) }, {
        strides: 1,
        pad: 'same',
        dataFormat: 'NCHW',
        filterShape: [3, 3, 1, 1],
      } as unknown as tf.NamedAttrMap),
    ).toThrow(/NHWC/);
  });
});

describe('overridden wasm kernels match the cpu backend', () => {
  it('Conv2DBackpropInput', () => {
    const cases: [Shape4, Shape4, number, PadArg][] = [
      [[2, 9, 9, 3], [3, 3, 3, 4], 1, 'same'],
      [[2, 16, 16, 16], [3, 3, 16, 32], 1, 'valid'],
      [[2, 10, 11, 5], [3, 2, 5, 4], 2, 'same'],
      [
        [2, 7, 9, 4],
        [2, 3, 4, 2],
        1,
        [
          [0, 0],
          [1, 2],
          [0, 1],
          [0, 0],
        ],
      ],
      [[2, 28, 28, 32], [3, 3, 32, 1], 1, 'same'],
    ];
    for (const [xShape, fShape, strides, pad] of cases) {
      const dyShape = tf.backend_util.computeConv2DInfo(xShape, fShape, strides, 1, pad).outShape;
      const dy = values(dyShape, 3);
      const w = values(fShape, 4);
      const d = vsCpu(() =>
        tf.conv2dTranspose(tf.tensor(dy, dyShape) as tf.Tensor4D, tf.tensor(w, fShape) as tf.Tensor4D, xShape, strides, pad),
      );
      expect(d, `${xShape} ${fShape}`).toBeLessThan(2e-6);
    }
  });

  it('Conv2D and FusedConv2D with one or two output channels', () => {
    const cases: [Shape4, Shape4, number, PadArg, number][] = [
      [[2, 9, 9, 8], [3, 3, 8, 1], 1, 'same', 1],
      [[2, 9, 10, 12], [3, 2, 12, 2], 2, 'valid', 1],
      [[2, 11, 9, 8], [3, 3, 8, 1], 1, 'same', 2],
      [[2, 28, 28, 32], [3, 3, 32, 1], 1, 'same', 1],
    ];
    for (const [xShape, fShape, strides, pad, dilations] of cases) {
      const x = values(xShape, 5);
      const w = values(fShape, 6);
      const b = values([fShape[3]], 7);
      const mk = () => [tf.tensor(x, xShape) as tf.Tensor4D, tf.tensor(w, fShape) as tf.Tensor4D] as const;
      expect(vsCpu(() => tf.conv2d(...mk(), strides, pad, 'NHWC', dilations))).toBeLessThan(2e-6);
      for (const activation of ['linear', 'relu', 'sigmoid'] as const) {
        const d = vsCpu(() => {
          const [xt, ft] = mk();
          return tf.fused.conv2d({ x: xt, filter: ft, strides, pad, dilations, bias: tf.tensor(b), activation });
        });
        expect(d, activation).toBeLessThan(2e-6);
      }
    }
  });

  it('MaxPoolGrad, first maximum of each window wins (ties, −∞ and NaN as on cpu)', () => {
    const cases: [Shape4, number, number, 'same' | 'valid'][] = [
      [[2, 8, 8, 4], 2, 2, 'valid'],
      [[2, 7, 7, 8], 2, 2, 'same'],
      [[2, 9, 9, 4], 3, 2, 'same'],
      [[2, 7, 7, 3], 2, 2, 'same'],
      [[2, 6, 6, 4], 3, 1, 'valid'],
      [[3, 28, 28, 32], 2, 2, 'valid'],
    ];
    for (const [shape, size, stride, pad] of cases) {
      for (const relu of [false, true]) {
        const x = values(shape, 8, relu);
        if (!relu) {
          x[0] = -Infinity;
          x[5] = NaN;
        }
        for (const simdOn of [true, false]) {
          setWasmSimdKernelsEnabled(simdOn);
          const d = vsCpu(() => {
            const xt = tf.tensor(x, shape) as tf.Tensor4D;
            const y = tf.maxPool(xt, size, stride, pad);
            const w = tf.tensor(values(y.shape, 9), y.shape);
            return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, size, stride, pad), w)))(xt);
          });
          // non-overlapping windows route each dy value once: exact; overlapping ones add up in another order
          const label = `${shape} ${size}/${stride} ${pad} relu ${relu} simd ${simdOn}`;
          if (size === stride) expect(d, label).toBe(0);
          else expect(d, label).toBeLessThan(1e-6);
        }
      }
    }
  });

  it('Sum over the leading axes (bias gradients) and other reductions', () => {
    const cases: [number[], number | number[]][] = [
      [
        [64, 28, 28, 32],
        [0, 1, 2],
      ],
      [
        [5, 7, 3],
        [0, 1],
      ],
      [[100, 6], 0],
      [
        [4, 5, 6],
        [1, 2],
      ],
      [
        [4, 5, 8],
        [0, 1],
      ],
      [[1000, 12], 0],
    ];
    for (const [shape, axis] of cases) {
      const x = values(shape, 10);
      for (const simdOn of [true, false]) {
        setWasmSimdKernelsEnabled(simdOn);
        expect(
          vsCpu(() => tf.sum(tf.tensor(x, shape), axis)),
          `${shape} ${axis}`,
        ).toBeLessThan(1e-6);
        expect(
          vsCpu(() => tf.sum(tf.tensor(x, shape), axis, true)),
          `${shape} ${axis} keepDims`,
        ).toBeLessThan(1e-6);
      }
    }
  });
});

describe('ResizeNearestNeighborGrad', () => {
  const cases: [Shape4, [number, number], boolean, boolean][] = [
    [[2, 4, 4, 8], [8, 8], false, false],
    [[2, 7, 5, 4], [14, 15], false, false],
    [[2, 3, 3, 3], [6, 6], false, false],
    [[2, 14, 14, 32], [28, 28], false, false],
    [[2, 4, 4, 4], [6, 7], false, false],
    [[2, 4, 4, 4], [8, 8], false, true],
    [[2, 4, 5, 4], [7, 9], true, false],
    [[2, 5, 4, 4], [9, 11], false, true],
  ];

  /** Independent reference: resizing an index image tells which input pixel every output pixel copies. */
  function reference(
    shape: Shape4,
    size: [number, number],
    alignCorners: boolean,
    halfPixelCenters: boolean,
    dy: Float32Array,
  ): Float64Array {
    tf.setBackend('cpu');
    const n = shape.reduce((a, b) => a * b, 1);
    const src = tf.tidy(() =>
      tf.image.resizeNearestNeighbor(tf.range(0, n).reshape(shape) as tf.Tensor4D, size, alignCorners, halfPixelCenters).dataSync(),
    );
    const ref = new Float64Array(n);
    for (let i = 0; i < src.length; i++) ref[src[i]] += dy[i];
    return ref;
  }

  function grad(
    backend: 'cpu' | 'wasm',
    shape: Shape4,
    size: [number, number],
    alignCorners: boolean,
    halfPixelCenters: boolean,
    dy: Float32Array,
  ) {
    return on(
      backend,
      () =>
        tf.engine().runKernel(
          'ResizeNearestNeighborGrad',
          { images: tf.zeros(shape), dy: tf.tensor(dy, [shape[0], size[0], size[1], shape[3]]) },
          {
            alignCorners,
            halfPixelCenters,
          },
        ) as tf.Tensor,
    );
  }

  it('on wasm equals the adjoint of the forward resize', () => {
    for (const [shape, size, ac, hp] of cases) {
      const dy = values([shape[0], size[0], size[1], shape[3]], 11);
      const ref = reference(shape, size, ac, hp, dy);
      for (const simdOn of [true, false]) {
        setWasmSimdKernelsEnabled(simdOn);
        expect(relDiff(ref, grad('wasm', shape, size, ac, hp, dy)), `${shape} → ${size} ${ac} ${hp}`).toBeLessThan(1e-6);
      }
    }
  });

  it('the forward resize on wasm matches cpu (integer factors use the SIMD copy)', () => {
    for (const [shape, size, ac, hp] of cases) {
      const x = values(shape, 14);
      for (const simdOn of [true, false]) {
        setWasmSimdKernelsEnabled(simdOn);
        const d = vsCpu(() => tf.image.resizeNearestNeighbor(tf.tensor(x, shape) as tf.Tensor4D, size, ac, hp));
        expect(d, `${shape} → ${size} ${ac} ${hp}`).toBe(0);
      }
    }
  });

  it('the cpu backend kernel is wrong for batches > 1; registerCpuTrainingKernelFixes corrects it', () => {
    const shape: Shape4 = [2, 2, 2, 1];
    const dy = Float32Array.from({ length: 32 }, (_, i) => i);
    const ref = reference(shape, [4, 4], false, false, dy); // block sums: 10 18 42 50 | 74 82 106 114
    expect(Array.from(ref)).toEqual([10, 18, 42, 50, 74, 82, 106, 114]);
    registerCpuTrainingKernelFixes();
    const original = originalCpuKernel('ResizeNearestNeighborGrad');
    expect(original).toBeDefined();
    tf.setBackend('cpu');
    const buggy = tf.tidy(() => {
      const info = original!({
        inputs: { images: tf.zeros(shape), dy: tf.tensor(dy, [2, 4, 4, 1]) },
        backend: tf.backend(),
        attrs: { alignCorners: false, halfPixelCenters: false },
      }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info).dataSync();
    });
    expect(Array.from(buggy).slice(4)).not.toEqual([74, 82, 106, 114]);
    for (const [s, size, ac, hp] of cases) {
      const d = values([s[0], size[0], size[1], s[3]], 12);
      expect(relDiff(reference(s, size, ac, hp, d), grad('cpu', s, size, ac, hp, d))).toBeLessThan(1e-6);
    }
  });
});

describe('full gradients of the autoencoder', () => {
  it('are the same on wasm and cpu', () => {
    registerCpuTrainingKernelFixes();
    tf.setBackend('cpu');
    const { autoencoder } = buildConvAutoencoder(3);
    const batch = 3;
    const xData = values([batch, 28, 28, 1], 13).map((v) => (v + 1) / 2);
    const vars = autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = (backend: 'cpu' | 'wasm') => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(xData, [batch, 28, 28, 1]);
        const { value, grads: g } = tf.variableGrads(
          () => binaryCrossEntropy(x, autoencoder.apply(x, { training: true }) as tf.Tensor),
          vars,
        );
        return [value.dataSync()[0], vars.map((v) => g[v.name].dataSync() as Float32Array)] as const;
      });
    };
    const [lossCpu, gCpu] = grads('cpu');
    const [lossWasm, gWasm] = grads('wasm');
    expect(Math.abs(lossCpu - lossWasm)).toBeLessThan(1e-5);
    expect(gCpu).toHaveLength(14);
    gCpu.forEach((g, i) => expect(relDiff(g, gWasm[i]), vars[i].name).toBeLessThan(1e-4));
    autoencoder.dispose();
  });
});
