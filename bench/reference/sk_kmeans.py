# Reference: scikit-learn (Debian python3-sklearn) k-means on raw Fashion-MNIST pixels; fit on train, score on test.
# Copy of /work/shared/reference/sk_kmeans.py, extended with options (the defaults reproduce the original):
#   sk_kmeans.py [n_init] [--seeds 0,1,2] [--train-limit N]
# Run with OMP_NUM_THREADS=2 /usr/bin/python3; FMNIST_DIR overrides the data folder. Last line: RESULT {json}.
import sys, time, json, argparse; sys.path.insert(0, __import__('os').path.dirname(__file__))
from fmnist import load, acc
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari
ap = argparse.ArgumentParser()
ap.add_argument('n_init', nargs='?', type=int, default=10)
ap.add_argument('--seeds', default='0,1,2')
ap.add_argument('--train-limit', type=int, default=None)
a = ap.parse_args()
Xtr, ytr = load('train'); Xte, yte = load('t10k')
if a.train_limit: Xtr, ytr = Xtr[:a.train_limit], ytr[:a.train_limit]
n_init = a.n_init
out = {}
for seed in [int(s) for s in a.seeds.split(',') if s.strip()]:
    t0 = time.perf_counter(); km = KMeans(10, n_init=n_init, random_state=seed).fit(Xtr); t = time.perf_counter() - t0
    p = km.predict(Xte)
    out[seed] = dict(fit_s=round(t, 2), inertia=float(km.inertia_), iters=int(km.n_iter_), test_acc=round(acc(yte, p), 4), test_nmi=round(nmi(yte, p), 4), test_ari=round(ari(yte, p), 4), train_acc=round(acc(ytr, km.labels_), 4))
    print(seed, out[seed], flush=True)
print('RESULT', json.dumps(out))
