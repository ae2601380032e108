# Reference: scikit-learn GaussianMixture speed on 60k x D features (PCA of raw pixels to D dims), full covariance, k=10.
# Adapted from /work/shared/reference/sk_gmm.py and fmnist.py (self-contained copy). Additions:
#   --dump DIR   writes the exact PCA features the reference fits (ztr.f32, zte.f32: float32 little-endian, row-major),
#                the labels (ytr.u8, yte.u8), sklearn's own initial k-means labels (init_labels.i32: KMeans(k, n_init=1,
#                random_state=seed), i.e. what GaussianMixture(random_state=seed) starts from) and meta.json, so that the
#                TypeScript bench fits the identical matrix (and, optionally, from the identical initialisation).
#   --no-fit     only compute (and dump) the features.
#   --k, --seed, --train-limit
# Usage: /usr/bin/python3 sk_gmm.py [D=128] [--dump DIR] [--no-fit]; prints one line "RESULT {json}".
import argparse, gzip, json, os, sys, time
import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

DATA = os.environ.get('FMNIST_DIR', '/usr/share/datasets/fashion-mnist')


def load(kind, limit=None):
    X = np.frombuffer(gzip.open(f'{DATA}/{kind}-images-idx3-ubyte.gz').read(), np.uint8, offset=16).reshape(-1, 784)
    y = np.frombuffer(gzip.open(f'{DATA}/{kind}-labels-idx1-ubyte.gz').read(), np.uint8, offset=8)
    if limit is not None:
        X, y = X[:limit], y[:limit]
    return X.astype(np.float32) / 255.0, y.astype(np.int64)


def acc(y, p):
    from scipy.optimize import linear_sum_assignment
    k = max(p.max(), y.max()) + 1; w = np.zeros((k, k), np.int64)
    for a, b in zip(p, y): w[a, b] += 1
    r, c = linear_sum_assignment(-w); return w[r, c].sum() / len(y)


ap = argparse.ArgumentParser()
ap.add_argument('dims', nargs='?', type=int, default=128)
ap.add_argument('--k', type=int, default=10)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--train-limit', type=int, default=None)
ap.add_argument('--dump', default=None)
ap.add_argument('--no-fit', action='store_true')
a = ap.parse_args()
D = a.dims

t0 = time.perf_counter()
Xtr, ytr = load('train', a.train_limit); Xte, yte = load('t10k')
p = PCA(D, random_state=0).fit(Xtr); Ztr, Zte = p.transform(Xtr), p.transform(Xte)
pca_s = time.perf_counter() - t0
out = {'D': D, 'k': a.k, 'n_train': int(Ztr.shape[0]), 'n_test': int(Zte.shape[0]), 'pca_s': round(pca_s, 2),
       'dtype': str(Ztr.dtype)}

if a.dump:
    from sklearn.cluster import KMeans
    os.makedirs(a.dump, exist_ok=True)
    Ztr.astype('<f4').tofile(os.path.join(a.dump, 'ztr.f32'))
    Zte.astype('<f4').tofile(os.path.join(a.dump, 'zte.f32'))
    ytr.astype(np.uint8).tofile(os.path.join(a.dump, 'ytr.u8'))
    yte.astype(np.uint8).tofile(os.path.join(a.dump, 'yte.u8'))
    t1 = time.perf_counter()
    init = KMeans(a.k, n_init=1, random_state=a.seed).fit(Ztr).labels_
    out['init_kmeans_s'] = round(time.perf_counter() - t1, 2)
    init.astype('<i4').tofile(os.path.join(a.dump, 'init_labels.i32'))
    with open(os.path.join(a.dump, 'meta.json'), 'w') as f:
        json.dump({'dims': D, 'k': a.k, 'seed': a.seed, 'n_train': out['n_train'], 'n_test': out['n_test']}, f)

if not a.no_fit:
    t0 = time.perf_counter(); g = GaussianMixture(a.k, covariance_type='full', random_state=a.seed).fit(Ztr); t = time.perf_counter() - t0
    out.update({'fit_s': round(t, 2), 'iters': int(g.n_iter_), 'converged': bool(g.converged_),
                'test_acc': round(acc(yte, g.predict(Zte)), 4), 'lower_bound': float(g.lower_bound_),
                'test_score': float(g.score(Zte))})
print('RESULT', json.dumps(out))
sys.stdout.flush()
