# Reference: N2D's dense autoencoder (784-500-500-2000-10, ReLU, linear code and output, MSE, Adam, Keras-style
# glorot-uniform init) in PyTorch, trained on all 70,000 Fashion-MNIST images like N2D. Writes the 10-d codes
# (train rows, then test rows; float16 or float32) at the checkpoint epochs, for `npm run bench -- n2d-codes`.
# Runs on CUDA when there is one (the long runs of README's N2D analysis), else on the CPU (THREADS, default 2).
# usage: torch_n2d_ae.py OUTDIR [--seed 0] [--epochs 15] [--checkpoints 5,15] [--batch 256] [--lr 1e-3]
#                               [--schedule const|cosine] [--name n2d] [--dtype f16|f32]
import argparse, json, math, os, sys, time
import numpy as np, torch, torch.nn as nn
sys.path.insert(0, os.path.dirname(__file__))
from fmnist import load

ap = argparse.ArgumentParser()
ap.add_argument('outdir'); ap.add_argument('--seed', type=int, default=0); ap.add_argument('--epochs', type=int, default=15)
ap.add_argument('--checkpoints', default=''); ap.add_argument('--batch', type=int, default=256); ap.add_argument('--lr', type=float, default=1e-3)
ap.add_argument('--schedule', choices=['const', 'cosine'], default='const'); ap.add_argument('--name', default='n2d')
ap.add_argument('--dtype', choices=['f16', 'f32'], default='f16')
a = ap.parse_args()
checkpoints = {int(c) for c in a.checkpoints.split(',') if c} | {a.epochs}
torch.set_num_threads(int(os.environ.get('THREADS', '2'))); torch.manual_seed(a.seed)
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
X = torch.from_numpy(np.concatenate([load('train')[0], load('t10k')[0]])).to(dev)
n = X.shape[0]

def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1]); nn.init.xavier_uniform_(lin.weight); nn.init.zeros_(lin.bias); layers.append(lin)
        if i < len(sizes) - 2: layers.append(nn.ReLU())
    return nn.Sequential(*layers)

sizes = [784, 500, 500, 2000, 10]
enc, dec = mlp(sizes).to(dev), mlp(sizes[::-1]).to(dev)
opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=a.lr, eps=1e-7)  # Keras' epsilon
steps = math.ceil(n / a.batch) * a.epochs
sched = torch.optim.lr_scheduler.LambdaLR(opt, (lambda s: 0.5 * (1 + math.cos(math.pi * s / steps))) if a.schedule == 'cosine' else (lambda s: 1.0))
t0 = time.perf_counter()
for epoch in range(1, a.epochs + 1):
    order = torch.randperm(n, device=dev); total = torch.zeros((), device=dev)
    for i in range(0, n, a.batch):
        xb = X[order[i:i + a.batch]]
        loss = ((dec(enc(xb)) - xb) ** 2).mean()
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sched.step()
        total += loss.detach() * xb.shape[0]
    if epoch in checkpoints:
        with torch.no_grad():
            codes = torch.cat([enc(X[i:i + 8192]) for i in range(0, n, 8192)]).cpu().numpy()
        path = os.path.join(a.outdir, f'{a.name}-s{a.seed}-e{epoch}.{a.dtype}')
        codes.astype(np.float16 if a.dtype == 'f16' else np.float32).tofile(path + '.tmp'); os.replace(path + '.tmp', path)
        secs = time.perf_counter() - t0
        print('RESULT', json.dumps({'file': path, 'epoch': epoch, 'loss': round(float(total) / n, 6), 'secs': round(secs, 1),
                                    'img_per_s': round(n * epoch / secs), 'device': dev}), flush=True)
