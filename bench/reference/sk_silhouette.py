# Reference: scikit-learn's silhouette_score (Euclidean, exact) timed on the matrices the TypeScript bench wrote.
# Usage: /usr/bin/python3 sk_silhouette.py CASES.json, where CASES.json lists
#   {"cases": [{"x": "path.f32", "labels": "path.i32", "rows": R, "d": D, "sizes": [n1, n2, ...]}, ...]}
# (float32 / int32 little-endian, row-major). Each size n scores the first n rows of its matrix, as given (float32),
# the way a scikit-learn user would. Prints one progress line per case, then one line "RESULT {json}".
import json, sys, time
import numpy as np
from sklearn.metrics import silhouette_score

spec = json.load(open(sys.argv[1]))
out = []
for case in spec['cases']:
    X = np.fromfile(case['x'], dtype='<f4').reshape(case['rows'], case['d'])
    y = np.fromfile(case['labels'], dtype='<i4')[: case['rows']]
    for n in case['sizes']:
        t, cpu = time.perf_counter(), time.process_time()
        score = float(silhouette_score(X[:n], y[:n]))
        ms, cpu_ms = (time.perf_counter() - t) * 1000, (time.process_time() - cpu) * 1000
        print(f"n={n} d={case['d']}: {ms:.0f} ms, silhouette {score:.6f}", flush=True)
        out.append({'n': n, 'd': case['d'], 'ms': ms, 'cpu_ms': cpu_ms, 'score': score})
print('RESULT ' + json.dumps({'cases': out}), flush=True)
