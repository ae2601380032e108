# Research: what comes after N2D's UMAP embedding. Per GMM init seed: the GMM's accuracy, then
#  (b) self-labelling: the most confident `--keep` fraction of each cluster (by GMM posterior) trains a classifier
#      (on the AE codes: 'codes'; on the pixels with shift/rotation augmentation: 'pixels'), which re-predicts all
#      images; `--rounds` times;
#  (c) consensus: k-means on the concatenated GMM posteriors of all init seeds (a cheap co-association).
# Labels are read only by score(); the fitting functions never receive them.
# usage: self_label.py EMB.f32 [--codes CODES.f32] [--gmm-seeds 3] [--first-seed 0] [--keep 0.5] [--rounds 2] [--head emb,codes,pixels ('' = none)]
import argparse, json, math, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from sklearn.mixture import GaussianMixture
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'bench', 'reference'))
from fmnist import load, acc

ap = argparse.ArgumentParser()
ap.add_argument('emb'); ap.add_argument('--codes'); ap.add_argument('--gmm-seeds', type=int, default=3); ap.add_argument('--first-seed', type=int, default=0)
ap.add_argument('--keep', type=float, default=0.5); ap.add_argument('--rounds', type=int, default=2)
ap.add_argument('--head', default='codes'); ap.add_argument('--epochs', type=int, default=3)
a = ap.parse_args()
torch.set_num_threads(int(os.environ.get('THREADS', '2')))
N_TRAIN, K = 60000, 10
emb = np.fromfile(a.emb, np.float32).reshape(-1, 10)
codes = np.fromfile(a.codes, np.float32).reshape(-1, 10) if a.codes else None
pixels = torch.from_numpy(np.concatenate([load('train')[0], load('t10k')[0]]))

def score(pred):
    """Test images only (N2D's protocol): the one place labels are read."""
    y = load('t10k')[1]; p = pred[N_TRAIN:]
    return {'acc': round(acc(y, p), 4), 'nmi': round(nmi(y, p), 4), 'ari': round(ari(y, p), 4)}

def confident(post, keep):
    """Indices of the `keep` most confident rows of each cluster (by their posterior of the assigned cluster)."""
    lab = post.argmax(1); conf = post.max(1); idx = []
    for c in range(K):
        m = np.where(lab == c)[0]
        if len(m): idx.append(m[np.argsort(-conf[m])[:max(1, int(len(m) * keep))]])
    idx = np.concatenate(idx); return idx, lab[idx]

def augment(xb, shift=0.1, rotate=10.0):
    b = xb.shape[0]; ang = (torch.rand(b) * 2 - 1) * math.radians(rotate)
    tx, ty = [(torch.rand(b) * 2 - 1) * shift * 2 for _ in range(2)]
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    img = xb.view(b, 1, 28, 28)
    return F.grid_sample(img, F.affine_grid(theta, img.shape, align_corners=False), align_corners=False).view(b, 784)

def train_head(X, idx, y, aug, epochs, seed):
    """A small MLP on the pseudo-labelled rows; returns softmax over all rows."""
    torch.manual_seed(seed); d = X.shape[1]; h = 256 if d > 100 else 64
    net = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, K))
    opt = torch.optim.Adam(net.parameters(), 1e-3); Xi = X[idx]; yi = torch.from_numpy(y).long()
    for _ in range(epochs):
        order = torch.randperm(len(idx))
        for i in range(0, len(idx), 256):
            b = order[i:i + 256]; xb = Xi[b]
            if aug: xb = augment(xb)
            loss = F.cross_entropy(net(xb), yi[b]); opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad(): return torch.cat([F.softmax(net(X[i:i + 8192]), 1) for i in range(0, len(X), 8192)]).numpy()

def self_label(post, X, aug, seed):
    out = []
    for r in range(a.rounds):
        idx, y = confident(post, a.keep)
        post = train_head(X, idx, y, aug, a.epochs, seed + r); out.append(post.argmax(1))
    return out

heads = {'codes': (torch.from_numpy(codes) if codes is not None else None, False), 'pixels': (pixels, True),
         'emb': (torch.from_numpy(emb), False)}
posts = []
for s in range(a.first_seed, a.first_seed + a.gmm_seeds):
    t = time.time(); g = GaussianMixture(10, covariance_type='full', random_state=s).fit(emb); post = g.predict_proba(emb); posts.append(post)
    row = {'gmm_seed': s, 'gmm': score(post.argmax(1)), 'gmm_s': round(time.time() - t, 1)}
    for h in filter(None, a.head.split(',')):
        X, aug = heads[h]
        if X is None: continue
        t = time.time(); preds = self_label(post, X, aug, s)
        row[h] = [score(p) for p in preds]; row[h + '_s'] = round(time.time() - t, 1)
    print(json.dumps(row), flush=True)
onehot = np.concatenate(posts, 1)
t = time.time(); cons = KMeans(10, n_init=10, random_state=0).fit_predict(onehot)
print(json.dumps({'consensus_kmeans_on_posteriors': score(cons), 'secs': round(time.time() - t, 1)}), flush=True)
