#!/usr/bin/env python3
"""Compares two scripts/seed-check.sh outputs: mapping, confusion matrix, report, losses and every metric
(throughput figures aside) must be identical; metrics only the newer one has are listed. The stored history
(runs.json) must hold the same runs with the same parameters and metrics (times aside)."""
import json
import os
import sys

before, after = sys.argv[1], sys.argv[2]
identical = True
names = ['exp1', 'exp2', 'exp3'] + (['exp4'] if os.path.exists(f'{before}/exp4.json') else [])
for name in names:
    x = json.load(open(f'{before}/{name}.json'))
    y = json.load(open(f'{after}/{name}.json'))
    diffs = [k for k in ['mapping', 'confusion', 'report', 'losses'] if x[k] != y[k]]
    for k, v in x['metrics'].items():
        if not (k.endswith('PerSec') or k.startswith('backend')) and y['metrics'].get(k) != v:
            diffs.append(f'metrics.{k}: {v} vs {y["metrics"].get(k)}')
    m = y['metrics']
    print(f"{name}: {'identical' if not diffs else diffs} | accuracy {m['accuracy']} nmi {m['nmi']:.6f} ari {m['ari']:.6f}"
          f" | new metrics: {sorted(set(m) - set(x['metrics']))}")
    identical = identical and not diffs
if os.path.exists(f'{before}/runs.json'):
    # What a run stores that is not a result: its random uid, clock times, throughput and the output folder's paths.
    varying = {'uid', 'startedAt', 'endedAt', 'timings', 'heartbeatAt', 'owner'}
    def stored(path, out):
        def run(r):
            kept = {k: v for k, v in r.items() if k not in varying}
            kept['metrics'] = {k: v for k, v in (r.get('metrics') or {}).items() if not (k.endswith('PerSec') or k.startswith('backend'))}
            kept['artifacts'] = {k: str(v).replace(out, 'OUT') for k, v in (r.get('artifacts') or {}).items()}
            return kept
        return [run(r) for r in json.load(open(f'{path}/runs.json'))]
    same = stored(before, before) == stored(after, after)
    print(f"stored history: {'identical' if same else 'DIFFERENT'}")
    identical = identical and same
print('ALL IDENTICAL' if identical else 'DIFFERENT')
sys.exit(0 if identical else 1)
