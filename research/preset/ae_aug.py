# Research: N2D's dense autoencoder (784-500-500-2000-10) trained DEC-DA style on randomly shifted (±10%) and
# rotated (±10°) images, reconstructing the augmented image; codes of the clean images are written for
# `npm run bench -- n2d-codes` (UMAP → GMM) and self_label.py. Labels are never loaded here.
# usage: ae_aug.py OUTDIR [--seed 0] [--epochs 15] [--checkpoints 5,15] [--shift 0.1] [--rotate 10] [--augment 1]
import argparse, json, math, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'bench', 'reference'))
from fmnist import load

ap = argparse.ArgumentParser()
ap.add_argument('outdir'); ap.add_argument('--seed', type=int, default=0); ap.add_argument('--epochs', type=int, default=15)
ap.add_argument('--checkpoints', default=''); ap.add_argument('--batch', type=int, default=256); ap.add_argument('--lr', type=float, default=1e-3)
ap.add_argument('--shift', type=float, default=0.1); ap.add_argument('--rotate', type=float, default=10.0)
ap.add_argument('--augment', type=int, default=1); ap.add_argument('--name', default='aug')
a = ap.parse_args()
checkpoints = {int(c) for c in a.checkpoints.split(',') if c} | {a.epochs}
torch.set_num_threads(int(os.environ.get('THREADS', '2'))); torch.manual_seed(a.seed)
X = torch.from_numpy(np.concatenate([load('train')[0], load('t10k')[0]]))
n = X.shape[0]

def augment(xb):
    """Random rotation ±rotate° and shift ±shift·width, bilinear, zero fill (Keras ImageDataGenerator-like)."""
    b = xb.shape[0]
    ang = (torch.rand(b) * 2 - 1) * math.radians(a.rotate)
    tx, ty = [(torch.rand(b) * 2 - 1) * a.shift * 2 for _ in range(2)]  # affine_grid units: width = 2
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    img = xb.view(b, 1, 28, 28)
    grid = F.affine_grid(theta, img.shape, align_corners=False)
    return F.grid_sample(img, grid, align_corners=False, padding_mode='zeros').view(b, 784)

def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1]); nn.init.xavier_uniform_(lin.weight); nn.init.zeros_(lin.bias); layers.append(lin)
        if i < len(sizes) - 2: layers.append(nn.ReLU())
    return nn.Sequential(*layers)

sizes = [784, 500, 500, 2000, 10]
enc, dec = mlp(sizes), mlp(sizes[::-1])
opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=a.lr, eps=1e-7)
t0 = time.perf_counter()
for epoch in range(1, a.epochs + 1):
    order = torch.randperm(n); total = 0.0
    for i in range(0, n, a.batch):
        xb = X[order[i:i + a.batch]]
        if a.augment: xb = augment(xb)
        loss = ((dec(enc(xb)) - xb) ** 2).mean()
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        total += float(loss) * xb.shape[0]
    if epoch in checkpoints:
        with torch.no_grad():
            codes = torch.cat([enc(X[i:i + 8192]) for i in range(0, n, 8192)]).numpy()
        path = os.path.join(a.outdir, f'{a.name}-s{a.seed}-e{epoch}.f32')
        codes.astype(np.float32).tofile(path + '.tmp'); os.replace(path + '.tmp', path)
        torch.save(enc.state_dict(), os.path.join(a.outdir, f'{a.name}-s{a.seed}-e{epoch}.enc.pt'))
    secs = time.perf_counter() - t0
    print('EPOCH', json.dumps({'epoch': epoch, 'loss': round(total / n, 6), 'secs': round(secs, 1), 'img_per_s': round(n * epoch / secs)}), flush=True)
