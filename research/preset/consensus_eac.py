# Research: evidence-accumulation consensus (Fred & Jain's co-association, average linkage) over several GMM fits
# of one N2D embedding, made tractable at 70k points by first cutting the embedding into `--micro` k-means
# micro-clusters: the co-association of two micro-clusters is the fraction of fits (GMMs with k = 10 and with
# `--over` components) whose majority labels put them together. Labels are read only by score().
# usage: consensus_eac.py EMB.f32 [--fits 8] [--micro 200] [--over 10,20]
import argparse, json, os, sys, time
import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.cluster import KMeans, AgglomerativeClustering
from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'bench', 'reference'))
from fmnist import load, acc

ap = argparse.ArgumentParser()
ap.add_argument('emb'); ap.add_argument('--fits', type=int, default=8); ap.add_argument('--micro', type=int, default=200)
ap.add_argument('--over', default='10,20')
a = ap.parse_args()
N_TRAIN, K = 60000, 10
emb = np.fromfile(a.emb, np.float32).reshape(-1, 10)

def score(pred):
    y = load('t10k')[1]; p = pred[N_TRAIN:]
    return {'acc': round(acc(y, p), 4), 'nmi': round(nmi(y, p), 4), 'ari': round(ari(y, p), 4)}

t = time.time()
micro = KMeans(a.micro, n_init=1, random_state=0).fit_predict(emb)
fits = [GaussianMixture(k, covariance_type='full', random_state=s).fit(emb).predict(emb)
        for k in map(int, a.over.split(',')) for s in range(a.fits)]
co = np.zeros((a.micro, a.micro))
for f in fits:
    major = np.array([np.bincount(f[micro == m]).argmax() for m in range(a.micro)])
    co += major[:, None] == major[None, :]
co /= len(fits)
for link in ('average', 'complete'):
    agg = AgglomerativeClustering(K, metric='precomputed', linkage=link).fit_predict(1 - co)
    print(json.dumps({'linkage': link, 'fits': len(fits), 'over': a.over, **score(agg[micro]), 'secs': round(time.time() - t, 1)}), flush=True)
