import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  aeGmmTaskSchema,
  aeKmeansTaskSchema,
  kmeansTaskSchema,
  n2dTaskSchema,
  paramMax,
  parseExperimentParams,
  pipelineTaskSchema,
  ParamError,
} from '../../src-main/engine/schema/params';

const TASK_SCHEMAS = [kmeansTaskSchema, aeKmeansTaskSchema, aeGmmTaskSchema, pipelineTaskSchema, n2dTaskSchema];

/** Issues of parsing `params`, as "param: message". */
function issuesOf(params: Record<string, unknown>): string[] {
  try {
    parseExperimentParams(params);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ParamError);
    return (err as ParamError).issues.map((i) => `${i.param}: ${i.message}`);
  }
}

/** The maximum of each parameter of a task schema whose values are numbers (or lists of numbers). */
function numericMaxima(schema: (typeof TASK_SCHEMAS)[number]): [string, number | null][] {
  const numberOf = (s: unknown): z.ZodNumber | undefined => {
    let t = s;
    while (t instanceof z.ZodDefault || t instanceof z.ZodNullable || t instanceof z.ZodOptional) t = t.unwrap();
    if (t instanceof z.ZodArray) t = t.element;
    return t instanceof z.ZodNumber ? t : undefined;
  };
  return Object.entries(schema.shape).flatMap(([name, s]) => {
    const n = numberOf(s);
    return n ? [[name, n.maxValue] as [string, number | null]] : [];
  });
}

describe('parameter maxima (bounded work)', () => {
  it('every numeric parameter of every task has a sane maximum, the same for every task', () => {
    for (const schema of TASK_SCHEMAS) {
      for (const [param, max] of numericMaxima(schema)) {
        expect(max, param).toBe(paramMax(param));
        if (param !== 'reuseEncoder') expect(max, param).toBeLessThan(2 ** 33); // a run id is not an amount of work
      }
    }
    expect(paramMax('reuseEncoder')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses the inputs of issue 10 with one message each', () => {
    expect(issuesOf({ task: 'kmeans', nInit: 1e9 })).toEqual(['nInit: must be ≤ 1000']);
    expect(issuesOf({ task: 'kmeans', maxIter: 1e12 })).toEqual(['maxIter: must be ≤ 100000']);
    expect(issuesOf({ task: 'ae-kmeans', epochs: 1e15 })).toEqual(['epochs: must be ≤ 10000']);
    expect(issuesOf({ task: 'ae-gmm', learningRate: 1e308 })).toEqual(['learningRate: must be ≤ 10']);
    expect(issuesOf({ task: 'pipeline', batchSize: 1e6 })).toEqual(['batchSize: must be ≤ 65536']);
    expect(issuesOf({ task: 'kmeans', k: 5000 })).toEqual(['k: must be ≤ 1000']);
    expect(issuesOf({ task: 'n2d', umapNeighbors: 1e6, umapEpochs: 1e9, gmmNInit: 1e4 })).toEqual([
      'umapNeighbors: must be ≤ 200',
      'umapEpochs: must be ≤ 10000',
      'gmmNInit: must be ≤ 100',
    ]);
    expect(issuesOf({ task: 'pipeline', layers: [500, 100_000] })).toEqual(['layers: must be ≤ 4096']);
    expect(issuesOf({ task: 'kmeans', seed: 2 ** 40 })).toEqual(['seed: must be ≤ 4294967295']);
    // any data set's split holds at most MAX_ROWS rows (data/dataset.ts): a limit is bounded by that
    expect(issuesOf({ task: 'kmeans', trainLimit: 10_000_001, testLimit: 2 ** 40 })).toEqual([
      'trainLimit: must be ≤ 10000000',
      'testLimit: must be ≤ 10000000',
    ]);
    expect(issuesOf({ task: 'kmeans', dataset: '../etc' })).toEqual(['dataset: must be a data set name (letters, digits, . _ -)']);
    expect(issuesOf({ task: 'kmeans', dataset: '$(rm -rf /)' })).toEqual(['dataset: must be a data set name (letters, digits, . _ -)']);
  });

  it('accepts every maximum itself', () => {
    expect(issuesOf({ task: 'kmeans', nInit: 1000, maxIter: 100_000, k: 1000, tol: 1, seed: 2 ** 32 - 1 })).toEqual([]);
    expect(
      issuesOf({
        task: 'ae-gmm',
        epochs: 10_000,
        batchSize: 65_536,
        learningRate: 10,
        patience: 10_000,
        gmmNInit: 100,
        gmmMaxIter: 100_000,
        regCovar: 1,
        gmmTol: 1,
      }),
    ).toEqual([]);
    expect(
      issuesOf({ task: 'pipeline', umapNeighbors: 200, umapComponents: 256, umapEpochs: 10_000, layers: [4096], codeSize: 4096 }),
    ).toEqual([]);
  });

  it('a UMAP dimension that defaults to a k above its maximum must be set', () => {
    expect(issuesOf({ task: 'pipeline', k: 300 })).toEqual(['umapComponents: defaults to k (300), above its maximum 256: set it']);
    expect(issuesOf({ task: 'pipeline', k: 300, umapComponents: 10 })).toEqual([]);
    expect(issuesOf({ task: 'pipeline', k: 300, umap: false })).toEqual([]);
  });
});
