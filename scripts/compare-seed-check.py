#!/usr/bin/env python3
"""Compares two scripts/seed-check.sh outputs: mapping, confusion matrix, report, losses and every metric
(throughput figures aside) must be identical; metrics only the newer one has are listed."""
import json
import sys

before, after = sys.argv[1], sys.argv[2]
identical = True
for name in ['exp1', 'exp2', 'exp3']:
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
print('ALL IDENTICAL' if identical else 'DIFFERENT')
sys.exit(0 if identical else 1)
