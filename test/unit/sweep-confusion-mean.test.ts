/**
 * A sweep's mean confusion matrix never mixes combinations: children with another k are other models. With one
 * combination it averages every completed child; with several, the best row's; a matrix of another size is left out
 * and counted; the note says what was averaged.
 */
import { describe, expect, it } from 'vitest';
import { sweepConfusionMean, sweepRows, type ChildOutcome } from '../../src-main/engine/schema/sweep-summary';

const child = (combination: number, accuracy: number, confusion: number[][], state: ChildOutcome['state'] = 'completed'): ChildOutcome => ({
  combination,
  state,
  accuracy,
  nmi: null,
  ari: null,
  totalMs: null,
  confusion,
});
const A = [
  [3, 1],
  [0, 4],
];
const B = [
  [1, 1],
  [2, 2],
];
const SMALL_K = [
  [0, 2],
  [2, 0],
];

describe('sweepConfusionMean', () => {
  it('averages every completed child of a seeds-only sweep', () => {
    const combos = [{}];
    const children = [child(0, 0.7, A), child(0, 0.5, B), child(0, 0, A, 'failed')];
    const mean = sweepConfusionMean(combos, children, sweepRows(combos, children))!;
    expect(mean.runs).toBe(2);
    expect(mean.note).toBe('mean of 2 runs');
    expect(mean.matrix[0][0]).toBeCloseTo((0.75 + 0.5) / 2, 12);
    expect(mean.matrix[1][1]).toBeCloseTo((1 + 0.5) / 2, 12);
  });

  it('averages only the best row of a sweep over k, and says so', () => {
    const combos = [{ k: 2 }, { k: 3 }];
    // k=2 is the worse row: its matrix must not enter the mean
    const children = [child(0, 0.2, SMALL_K), child(0, 0.3, SMALL_K), child(1, 0.8, A), child(1, 0.6, B)];
    const mean = sweepConfusionMean(combos, children, sweepRows(combos, children))!;
    expect(mean.combination).toBe(1);
    expect(mean.runs).toBe(2);
    expect(mean.note).toBe('mean of 2 runs at k=3 (the best row); 1 other combination not averaged');
    expect(mean.matrix[0][1]).toBeCloseTo((0.25 + 0.5) / 2, 12); // SMALL_K's 1.0 there would raise it
  });

  it('names the grid values as the parameter table does', () => {
    const combos = [
      { k: 10, batchSize: 128 },
      { k: 10, batchSize: 256 },
    ];
    const children = [child(0, 0.4, A), child(1, 0.6, B)];
    expect(sweepConfusionMean(combos, children, sweepRows(combos, children))!.note).toBe(
      'mean of 1 run at k=10, Batch size 256 (the best row); 1 other combination not averaged',
    );
  });

  it('leaves a matrix of another size out and counts it', () => {
    const combos = [{}];
    const three = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const children = [child(0, 0.7, A), child(0, 0.5, three)];
    const mean = sweepConfusionMean(combos, children, sweepRows(combos, children))!;
    expect(mean.matrix).toHaveLength(2);
    expect(mean.note).toBe('mean of 1 run; 1 run with another number of classes left out');
  });

  it('is null when nothing completed', () => {
    const combos = [{}];
    const children = [child(0, 0, A, 'failed')];
    expect(sweepConfusionMean(combos, children, sweepRows(combos, children))).toBeNull();
  });
});
