import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  accuracyFromContingency,
  ari,
  classificationReport,
  confusionMatrix,
  contingency,
  evaluate,
  hungarianMapping,
  mapLabels,
  nmi,
} from '../../src-main/engine/metrics/index';
import { Rng } from '../../src-main/engine/math/rng';
import { skipUnless } from '../helpers/prereqs';

/** A seeded uniform [0, 1) generator: the engine's Rng. */
const rng = (seed: number): (() => number) => {
  const r = new Rng(seed);
  return () => r.random();
};

const randInt = (r: () => number, n: number) => Math.floor(r() * n);

/** Truth uniform over C classes; prediction = a scrambled copy of the truth with probability `signal`, else random. */
function labeling(seed: number, n: number, k: number, nClasses: number, signal = 0.5) {
  const r = rng(seed);
  const scramble = Array.from({ length: nClasses }, () => randInt(r, k));
  const truth = new Uint8Array(n);
  const pred = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    truth[i] = randInt(r, nClasses);
    pred[i] = r() < signal ? scramble[truth[i]] : randInt(r, k);
  }
  return { truth, pred };
}

function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  const c = new Array<number>(n).fill(0);
  yield [...a];
  let i = 0;
  while (i < n) {
    if (c[i] < i) {
      const j = i % 2 === 0 ? 0 : c[i];
      [a[j], a[i]] = [a[i], a[j]];
      yield [...a];
      c[i]++;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

/** Best accuracy over every cluster → label assignment of the zero-padded max(k, C) square. */
function bruteForceAccuracy(table: number[][], k: number, nClasses: number): number {
  const size = Math.max(k, nClasses);
  const total = table.flat().reduce((a, b) => a + b, 0);
  let best = -1;
  for (const perm of permutations(size)) {
    let correct = 0;
    for (let c = 0; c < k; c++) if (perm[c] < nClasses) correct += table[c][perm[c]];
    best = Math.max(best, correct);
  }
  return best / total;
}

// A 3-class example worked out by hand.
//   truth: 0 0 0 0 1 1 1 2 2 2
//   pred:  1 1 1 0 0 0 2 2 2 1
// contingency (cluster × label): c0 = [1,2,0], c1 = [3,0,1], c2 = [0,1,2]
// best mapping c0→1, c1→0, c2→2 matches 2 + 3 + 2 = 7 of 10.
const HAND = {
  truth: Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 2, 2, 2]),
  pred: Int32Array.from([1, 1, 1, 0, 0, 0, 2, 2, 2, 1]),
};

describe('hand-computed 3-class example', () => {
  it('contingency, mapping, accuracy', () => {
    const table = contingency(HAND.pred, HAND.truth, 3, 3);
    expect(table).toEqual([
      [1, 2, 0],
      [3, 0, 1],
      [0, 1, 2],
    ]);
    expect(hungarianMapping(table)).toEqual([1, 0, 2]);
    expect(accuracy(HAND.pred, HAND.truth)).toBeCloseTo(0.7, 12);
    expect(accuracyFromContingency(table)).toBeCloseTo(0.7, 12);
  });

  it('confusion matrix in mapped order', () => {
    // Row = true label, column = mapped prediction.
    expect(confusionMatrix(HAND.pred, HAND.truth)).toEqual([
      [3, 1, 0],
      [0, 2, 1],
      [1, 0, 2],
    ]);
  });

  it('classification report', () => {
    const rep = classificationReport(HAND.pred, HAND.truth, { classNames: ['a', 'b', 'c'] });
    // class 0: tp 3 of 4 predicted, 4 true; classes 1 and 2: tp 2 of 3 predicted, 3 true.
    const expected = [
      { label: 0, name: 'a', p: 3 / 4, r: 3 / 4, support: 4 },
      { label: 1, name: 'b', p: 2 / 3, r: 2 / 3, support: 3 },
      { label: 2, name: 'c', p: 2 / 3, r: 2 / 3, support: 3 },
    ];
    expected.forEach((e, i) => {
      const got = rep.perClass[i];
      expect(got.label).toBe(e.label);
      expect(got.name).toBe(e.name);
      expect(got.precision).toBeCloseTo(e.p, 12);
      expect(got.recall).toBeCloseTo(e.r, 12);
      expect(got.f1).toBeCloseTo(e.p, 12); // p = r, so F1 = p
      expect(got.support).toBe(e.support);
    });
    expect(rep.macroAvg.precision).toBeCloseTo((3 / 4 + 4 / 3) / 3, 12);
    expect(rep.macroAvg.f1).toBeCloseTo((3 / 4 + 4 / 3) / 3, 12);
    expect(rep.weightedAvg.precision).toBeCloseTo((3 + 2 + 2) / 10, 12);
    expect(rep.weightedAvg.recall).toBeCloseTo(0.7, 12);
    expect(rep.macroAvg.support).toBe(10);
    expect(rep.weightedAvg.support).toBe(10);
  });

  it('ARI and NMI', () => {
    // Pairs: Σ C(n_ij, 2) = 1 + 3 + 1 = 5; Σ C(a_i, 2) = Σ C(b_j, 2) = 12; C(10, 2) = 45.
    // ARI = (5 − 12·12/45) / (12 − 12·12/45) = 1.8 / 8.8 = 9/44.
    expect(ari(HAND.pred, HAND.truth)).toBeCloseTo(9 / 44, 12);
    const L = Math.log;
    const mi = 0.1 * L(10 / 12) + 0.2 * L(20 / 9) + 0.3 * L(30 / 16) + 0.1 * L(10 / 12) + 0.1 * L(10 / 9) + 0.2 * L(20 / 9);
    const h = -(2 * 0.3 * L(0.3) + 0.4 * L(0.4)); // both marginals are (0.3, 0.4, 0.3)
    expect(nmi(HAND.pred, HAND.truth)).toBeCloseTo(mi / h, 12); // 0.44270128334605 per sklearn
  });

  it('evaluate fills every field', () => {
    const ev = evaluate(HAND.pred, HAND.truth, { k: 4, classNames: ['a', 'b', 'c'] });
    // Cluster 3 is empty: it is matched to nothing useful and costs nothing.
    expect(ev.accuracy).toBeCloseTo(0.7, 12);
    expect(ev.clusterSizes).toEqual([3, 4, 3, 0]);
    expect(ev.mapping.slice(0, 3)).toEqual([1, 0, 2]);
    expect(ev.mapping[3]).toBe(-1);
    expect(ev.confusion).toEqual([
      [3, 1, 0],
      [0, 2, 1],
      [1, 0, 2],
    ]);
    expect(ev.classNames).toEqual(['a', 'b', 'c']);
    expect(ev.perClass).toHaveLength(3);
    expect(ev.nmi).toBeCloseTo(nmi(HAND.pred, HAND.truth), 12);
    expect(ev.ari).toBeCloseTo(9 / 44, 12);
    expect(ev.macroAvg.support).toBe(10);
    expect(Object.keys(ev).sort()).toEqual(
      ['accuracy', 'nmi', 'ari', 'mapping', 'clusterSizes', 'confusion', 'classNames', 'perClass', 'macroAvg', 'weightedAvg'].sort(),
    );
  });
});

describe('Hungarian mapping', () => {
  it('matches brute force over all permutations (k = C = 3..6, random labelings)', () => {
    for (let k = 3; k <= 6; k++) {
      for (let trial = 0; trial < 12; trial++) {
        const { pred, truth } = labeling(1000 * k + trial, 120, k, k, trial % 3 === 0 ? 0 : 0.4);
        const table = contingency(pred, truth, k, k);
        const mapping = hungarianMapping(table);
        expect(new Set(mapping).size).toBe(k); // a permutation
        expect(accuracy(pred, truth, { k, nClasses: k })).toBeCloseTo(bruteForceAccuracy(table, k, k), 12);
      }
    }
  });

  it('matches brute force when k ≠ C (padded square; extra clusters unmatched = errors)', () => {
    const shapes: [number, number][] = [
      [4, 3],
      [6, 3],
      [5, 4],
      [3, 5],
      [2, 6],
    ];
    for (const [k, nClasses] of shapes) {
      for (let trial = 0; trial < 8; trial++) {
        const { pred, truth } = labeling(77 * k + 13 * nClasses + trial, 150, k, nClasses, 0.3);
        const table = contingency(pred, truth, k, nClasses);
        const mapping = hungarianMapping(table);
        expect(mapping).toHaveLength(k);
        const matched = mapping.filter((m) => m >= 0);
        expect(matched.length).toBe(Math.min(k, nClasses));
        expect(new Set(matched).size).toBe(matched.length);
        expect(accuracyFromContingency(table, mapping)).toBeCloseTo(bruteForceAccuracy(table, k, nClasses), 12);
      }
    }
  });

  it('handles ties, empty clusters and degenerate tables', () => {
    // Few samples for many clusters: many zero rows and tied optima.
    for (let trial = 0; trial < 30; trial++) {
      const k = 3 + (trial % 4);
      const nClasses = 2 + (trial % 5);
      const { pred, truth } = labeling(500 + trial, 4 + (trial % 5), k, nClasses, 0.5);
      const table = contingency(pred, truth, k, nClasses);
      expect(accuracyFromContingency(table, hungarianMapping(table))).toBeCloseTo(bruteForceAccuracy(table, k, nClasses), 12);
    }
    expect(
      new Set(
        hungarianMapping([
          [0, 0, 0],
          [0, 0, 0],
          [0, 0, 0],
        ]),
      ).size,
    ).toBe(3);
    expect(hungarianMapping([[5, 2, 7]])).toEqual([2]);
    expect(hungarianMapping([[5], [9], [1]])).toEqual([-1, 0, -1]);
    expect(accuracy([0, 0, 0], [1, 1, 2])).toBeCloseTo(2 / 3, 12);
  });

  it('unmatched clusters count as errors and stay out of the confusion matrix', () => {
    // 3 clusters, 2 classes: cluster 2 cannot get a label.
    const truth = Uint8Array.from([0, 0, 0, 1, 1, 1, 0, 1]);
    const pred = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2]);
    const ev = evaluate(pred, truth, { k: 3, classNames: ['x', 'y'] });
    expect(ev.mapping).toEqual([0, 1, -1]);
    expect(ev.accuracy).toBeCloseTo(6 / 8, 12);
    expect(ev.confusion).toEqual([
      [3, 0],
      [0, 3],
    ]);
    expect(ev.perClass.map((c) => c.support)).toEqual([4, 4]);
    expect(ev.perClass[0].recall).toBeCloseTo(3 / 4, 12);
    expect(ev.perClass[0].precision).toBeCloseTo(1, 12);
    expect(Array.from(mapLabels(pred, ev.mapping))).toEqual([0, 0, 0, 1, 1, 1, -1, -1]);
  });

  it('rejects labels out of range', () => {
    expect(() => contingency([0, 3], [0, 1], 3, 2)).toThrow(/cluster index/);
    expect(() => contingency([0, 1], [0, 2], 3, 2)).toThrow(/label/);
    expect(() => contingency([0], [0, 1], 3, 2)).toThrow(/length/);
  });
});

describe('NMI and ARI', () => {
  it('perfect agreement gives 1, also under relabelling', () => {
    const { truth } = labeling(5, 500, 10, 10);
    const relabel = [3, 7, 1, 0, 9, 2, 8, 5, 4, 6];
    const pred = Int32Array.from(truth, (t) => relabel[t]);
    expect(nmi(pred, truth)).toBeCloseTo(1, 12);
    expect(ari(pred, truth)).toBeCloseTo(1, 12);
    expect(accuracy(pred, truth)).toBe(1);
  });

  it('independent labelings score ≈ 0', () => {
    const r = rng(99);
    const n = 20000;
    const a = Int32Array.from({ length: n }, () => randInt(r, 10));
    const b = Int32Array.from({ length: n }, () => randInt(r, 10));
    expect(Math.abs(ari(a, b))).toBeLessThan(0.002);
    expect(nmi(a, b)).toBeLessThan(0.005);
  });

  it('is invariant to permuting cluster ids and symmetric', () => {
    const { pred, truth } = labeling(11, 800, 7, 5, 0.5);
    const perm = [6, 4, 2, 0, 1, 3, 5];
    const permuted = Int32Array.from(pred, (p) => perm[p]);
    expect(nmi(permuted, truth)).toBeCloseTo(nmi(pred, truth), 12);
    expect(ari(permuted, truth)).toBeCloseTo(ari(pred, truth), 12);
    expect(nmi(truth, pred)).toBeCloseTo(nmi(pred, truth), 12);
    expect(ari(truth, pred)).toBeCloseTo(ari(pred, truth), 12);
    expect(accuracy(permuted, truth)).toBeCloseTo(accuracy(pred, truth), 12);
  });

  it('special cases follow sklearn', () => {
    expect(nmi([0, 0, 1, 1], [0, 1, 0, 1])).toBe(0);
    expect(ari([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
    expect(nmi([0, 0, 0], [1, 1, 1])).toBe(1);
    expect(ari([0, 0, 0], [1, 1, 1])).toBe(1);
    expect(nmi([0, 1, 2], [0, 0, 0])).toBe(0);
    expect(ari([0, 1, 2], [0, 0, 0])).toBe(0);
    // arbitrary label values (negative, large) are compacted
    expect(nmi([-1, -1, 5e9, 5e9], [2, 2, 3, 3])).toBeCloseTo(1, 12);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Cross-check against scikit-learn (Debian's /usr/bin/python3 with python3-sklearn, not the pyenv python).

const PYTHON = '/usr/bin/python3';

const SKLEARN_SCRIPT = String.raw`
import json, sys
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import normalized_mutual_info_score, adjusted_rand_score, classification_report
d = json.load(sys.stdin)
t = np.array(d["truth"]); p = np.array(d["pred"]); C = d["C"]
# the study's acc(): scipy linear_sum_assignment on the max(k, C) square
D = max(p.max(), t.max()) + 1
w = np.zeros((D, D), dtype=np.int64)
for i in range(p.size): w[p[i], t[i]] += 1
r, c = linear_sum_assignment(-w)
mapping = {int(a): (int(b) if b < C else -1) for a, b in zip(r, c)}
acc = sum(w[a, b] for a, b in zip(r, c)) / p.size
mapped = np.array([mapping[int(x)] for x in p])
rep = classification_report(t, mapped, labels=list(range(C)), output_dict=True, zero_division=0)
print(json.dumps({
  "nmi": normalized_mutual_info_score(t, p), "ari": adjusted_rand_score(t, p), "acc": float(acc),
  "mapping": [mapping[i] for i in range(d["k"])], "report": rep}))
`;

function sklearn(pred: Int32Array, truth: Uint8Array, k: number, nClasses: number) {
  const res = spawnSync(PYTHON, ['-c', SKLEARN_SCRIPT], {
    input: JSON.stringify({ pred: Array.from(pred), truth: Array.from(truth), k, C: nClasses }),
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`python failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as {
    nmi: number;
    ari: number;
    acc: number;
    mapping: number[];
    report: Record<string, { precision: number; recall: number; 'f1-score': number; support: number }>;
  };
}

describe.skipIf(skipUnless('sklearn'))('agreement with scikit-learn', () => {
  const names = Array.from({ length: 10 }, (_, i) => `class ${i}`);
  for (const k of [10, 12]) {
    it(`n = 1000, k = ${k}, C = 10: NMI, ARI, accuracy, mapping, classification report`, () => {
      // seeds whose best assignment is unique (scipy and ours may break a tie between equal assignments differently)
      const { pred, truth } = labeling(2026 + k, 1000, k, 10, 0.45);
      const ref = sklearn(pred, truth, k, 10);
      const ev = evaluate(pred, truth, { k, classNames: names });
      expect(ev.nmi).toBeCloseTo(ref.nmi, 12);
      expect(ev.ari).toBeCloseTo(ref.ari, 12);
      expect(ev.accuracy).toBeCloseTo(ref.acc, 12);
      expect(ev.mapping).toEqual(ref.mapping);
      for (const c of ev.perClass) {
        const r = ref.report[String(c.label)];
        expect(c.precision).toBeCloseTo(r.precision, 12);
        expect(c.recall).toBeCloseTo(r.recall, 12);
        expect(c.f1).toBeCloseTo(r['f1-score'], 12);
        expect(c.support).toBe(r.support);
      }
      for (const [mine, key] of [
        [ev.macroAvg, 'macro avg'],
        [ev.weightedAvg, 'weighted avg'],
      ] as const) {
        const r = ref.report[key];
        expect(mine.precision).toBeCloseTo(r.precision, 12);
        expect(mine.recall).toBeCloseTo(r.recall, 12);
        expect(mine.f1).toBeCloseTo(r['f1-score'], 12);
        expect(mine.support).toBe(r.support);
      }
    });
  }
});
