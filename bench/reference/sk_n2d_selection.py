# Reference analysis for README's N2D section: given UMAP embeddings of all 70,000 images (training rows first, as
# written by `npm run bench -- n2d-codes ... --save-embedding DIR`), fits scikit-learn's full-covariance GMM from
# SEEDS initialisation seeds and reports the test accuracy of each, of the init that each unsupervised criterion
# would pick (highest lower bound, most balanced cluster sizes, consensus = highest mean ARI with the others), and
# of over-clustering into 20 components merged back to 10 by kNN connectivity.
# usage: SEEDS=16 /usr/bin/python3 sk_n2d_selection.py EMB.f32 [EMB.f32 ...]
import os, sys, json
import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import kneighbors_graph
sys.path.insert(0, os.path.dirname(__file__))
from fmnist import acc, load

y_test = load('t10k')[1]
n_train = 60000
seeds = int(os.environ.get('SEEDS', '16'))

def merge_by_connectivity(labels, graph, k):
    """Merges the pair of clusters with the most kNN edges between them (relative to their sizes) until k remain."""
    labels = labels.copy()
    while len(np.unique(labels)) > k:
        u = np.unique(labels); idx = np.searchsorted(u, labels)
        w = np.zeros((len(u), len(u))); np.add.at(w, (idx[graph.row], idx[graph.col]), 1)
        w = w + w.T; np.fill_diagonal(w, 0); size = np.bincount(idx)
        a, b = np.unravel_index((w / np.sqrt(np.outer(size, size))).argmax(), w.shape)
        labels[labels == u[b]] = u[a]
    return np.searchsorted(np.unique(labels), labels)

for path in sys.argv[1:]:
    emb = np.fromfile(path, np.float32).reshape(-1, 10)
    runs = []
    for s in range(seeds):
        g = GaussianMixture(10, covariance_type='full', random_state=s).fit(emb)
        p = g.predict(emb); q = np.bincount(p, minlength=10) / len(p)
        runs.append({'acc': acc(y_test, p[n_train:]), 'lb': g.lower_bound_, 'entropy': -(q * np.log(q + 1e-12)).sum(), 'labels': p})
    a = np.array([r['acc'] for r in runs])
    agreement = [np.mean([adjusted_rand_score(r['labels'], o['labels']) for o in runs if o is not r]) for r in runs]
    graph = kneighbors_graph(emb, 15, include_self=False).tocoo()
    merged = [acc(y_test, merge_by_connectivity(GaussianMixture(20, covariance_type='full', random_state=s).fit(emb).predict(emb), graph, 10)[n_train:]) for s in range(5)]
    print('RESULT', json.dumps({
        'file': os.path.basename(path), 'gmm_mean': round(a.mean(), 4), 'gmm_min': round(a.min(), 4), 'gmm_max': round(a.max(), 4),
        'pick_lower_bound': round(a[np.argmax([r['lb'] for r in runs])], 4), 'pick_balanced': round(a[np.argmax([r['entropy'] for r in runs])], 4),
        'pick_consensus': round(a[int(np.argmax(agreement))], 4), 'merge20_mean': round(float(np.mean(merged)), 4), 'accs': [round(x, 3) for x in a]}), flush=True)
