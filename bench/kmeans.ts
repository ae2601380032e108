/**
 * `npm run bench -- kmeans [--seeds 0,1,2] [--n-init 10] [--train-limit N] [--test-limit N] [--backend wasm]
 *                          [--no-pruning] [--no-reference]`
 *
 * Fits KMeans(k = 10) on the Fashion-MNIST training images once per seed, times each fit, scores the test images
 * (Hungarian accuracy, NMI, ARI), then — when Debian's /usr/bin/python3 has scikit-learn — runs the reference
 * (bench/reference/sk_kmeans.py, OMP_NUM_THREADS=2) on the same data in the same run and prints the time ratio
 * and the inertia difference per seed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initBackend, type BackendName } from '../src-main/engine/backend/index';
import { KMeans } from '../src-main/engine/cluster/kmeans';
import { loadFashionMnist } from '../src-main/engine/data/index';
import { accuracy, ari, nmi } from '../src-main/engine/metrics/index';
import type { ImageSet, Matrix } from '../src-main/engine/types';

const SYS_PYTHON = '/usr/bin/python3';
const REFERENCE = fileURLToPath(new URL('./reference/sk_kmeans.py', import.meta.url));

interface Options {
  seeds: number[];
  nInit: number;
  trainLimit?: number;
  testLimit?: number;
  backend: BackendName;
  reference: boolean;
  /** undefined: the backend's default. */
  pruning?: boolean;
}

interface OurResult {
  seed: number;
  fitS: number;
  inertia: number;
  iters: number;
  testAcc: number;
  testNmi: number;
  testAri: number;
  trainAcc: number;
  seedingS: number;
  deviceS: number;
  cpuS: number;
  totalIterations: number;
}

interface RefResult {
  fit_s: number;
  inertia: number;
  iters: number;
  test_acc: number;
  test_nmi: number;
  test_ari: number;
  train_acc: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = { seeds: [0, 1, 2], nInit: 10, backend: 'wasm', reference: true };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} expects an integer ≥ ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case '--seeds': {
        const v = value();
        const seeds = (v ?? '').split(',').filter((s) => s.trim() !== '').map((s) => int('--seeds', s.trim(), 0));
        if (seeds.length === 0) throw new Error('--seeds expects a comma-separated list, e.g. 0,1,2');
        o.seeds = seeds;
        break;
      }
      case '--n-init':
        o.nInit = int('--n-init', value(), 1);
        break;
      case '--train-limit':
        o.trainLimit = int('--train-limit', value(), 10);
        break;
      case '--test-limit':
        o.testLimit = int('--test-limit', value(), 1);
        break;
      case '--backend':
        o.backend = (value() ?? 'wasm') as BackendName;
        break;
      case '--no-reference':
        o.reference = false;
        break;
      case '--no-pruning':
        o.pruning = false;
        break;
      case '--pruning':
        o.pruning = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          'usage: npm run bench -- kmeans [--seeds 0,1,2] [--n-init 10] [--train-limit N] [--test-limit N] [--backend wasm|cpu|auto|…] [--no-pruning] [--no-reference]\n',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

const asMatrix = (s: ImageSet): Matrix => ({ data: s.images, rows: s.count, cols: s.height * s.width });

function sklearnAvailable(): boolean {
  if (!existsSync(SYS_PYTHON)) return false;
  return spawnSync(SYS_PYTHON, ['-c', 'import sklearn, scipy, numpy'], { timeout: 60_000 }).status === 0;
}

function runReference(o: Options): Promise<Record<string, RefResult>> {
  const argv = [REFERENCE, String(o.nInit), '--seeds', o.seeds.join(',')];
  if (o.trainLimit !== undefined) argv.push('--train-limit', String(o.trainLimit));
  return new Promise((resolve, reject) => {
    const child = spawn(SYS_PYTHON, argv, { env: { ...process.env, OMP_NUM_THREADS: '2' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let pending = '';
    child.stdout.on('data', (b: Buffer) => {
      const text = b.toString();
      out += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() && !line.startsWith('RESULT')) process.stdout.write(`  sklearn seed ${line}\n`);
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`reference exited with ${code}: ${err.trim().split('\n').slice(-5).join('\n')}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as Record<string, RefResult>);
    });
  });
}

function signedPercent(x: number): string {
  const v = (x * 100).toFixed(4);
  return `${v.startsWith('-') ? '' : '+'}${v === '-0.0000' ? '0.0000' : v}%`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]): string => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export async function benchKmeans(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const backend = await initBackend(o.backend);
  const t0 = performance.now();
  const ds = await loadFashionMnist({ trainLimit: o.trainLimit, testLimit: o.testLimit });
  const Xtr = asMatrix(ds.train);
  const Xte = asMatrix(ds.test);
  process.stdout.write(
    `k-means bench: backend ${backend}, ${cpus().length} CPU(s), train ${Xtr.rows}×${Xtr.cols}, test ${Xte.rows}, ` +
      `k=10, nInit=${o.nInit}, seeds ${o.seeds.join(',')} (data loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );

  // Warm-up: kernel setup / backend compilation should not be billed to the first seed.
  await new KMeans({ k: 10, nInit: 1, maxIter: 2, seed: 0 }).fit({ data: Xtr.data.subarray(0, 1000 * Xtr.cols), rows: Math.min(1000, Xtr.rows), cols: Xtr.cols });

  const ours: OurResult[] = [];
  for (const seed of o.seeds) {
    const km = new KMeans({ k: 10, nInit: o.nInit, seed });
    const t = performance.now();
    await km.fit(Xtr, { pruning: o.pruning });
    const fitS = (performance.now() - t) / 1000;
    const pred = await km.predict(Xte);
    const trainLabels = km.labels as Int32Array;
    const st = km.fitStats;
    const r: OurResult = {
      seed,
      fitS,
      inertia: km.inertia,
      iters: km.nIter,
      testAcc: accuracy(pred, ds.test.labels, { k: 10, nClasses: 10 }),
      testNmi: nmi(pred, ds.test.labels),
      testAri: ari(pred, ds.test.labels),
      trainAcc: accuracy(trainLabels, ds.train.labels, { k: 10, nClasses: 10 }),
      seedingS: (st?.seedingMs ?? 0) / 1000,
      deviceS: (st?.deviceMs ?? 0) / 1000,
      cpuS: (st?.cpuMs ?? 0) / 1000,
      totalIterations: st?.totalIterations ?? 0,
    };
    ours.push(r);
    process.stdout.write(
      `  ours seed ${seed}: fit ${fitS.toFixed(2)} s (seeding ${r.seedingS.toFixed(2)}, device ${r.deviceS.toFixed(2)}, cpu ${r.cpuS.toFixed(2)}; ` +
        `${st?.rounds} lockstep rounds, ${r.totalIterations} iterations over ${o.nInit} restarts, ` +
        `${st?.pruning ? `pruning: ${((100 * st.distanceRows) / Math.max(1, r.totalIterations * Xtr.rows)).toFixed(1)}% of point distances computed` : 'no pruning'}), ` +
        `inertia ${r.inertia.toFixed(1)}, ` +
        `n_iter ${r.iters}, test acc ${r.testAcc.toFixed(4)}, NMI ${r.testNmi.toFixed(4)}, ARI ${r.testAri.toFixed(4)}\n`,
    );
  }

  let ref: Record<string, RefResult> | null = null;
  let refNote = '';
  if (!o.reference) refNote = 'reference skipped (--no-reference)';
  else if (!sklearnAvailable()) refNote = `reference skipped: ${SYS_PYTHON} has no scikit-learn (apt-get install python3-sklearn)`;
  else {
    process.stdout.write(`running scikit-learn reference (${REFERENCE}, OMP_NUM_THREADS=2)…\n`);
    try {
      ref = await runReference(o);
    } catch (err) {
      refNote = `reference failed: ${(err as Error).message}`;
    }
  }
  if (refNote) process.stdout.write(`${refNote}\n`);

  const f = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
  const rows = ours.map((r) => {
    const s = ref?.[String(r.seed)];
    return [
      String(r.seed),
      f(r.fitS, 2),
      f(s?.fit_s, 2),
      s ? f(r.fitS / s.fit_s, 2) : '—',
      f(r.inertia, 0),
      f(s?.inertia, 0),
      s ? signedPercent((r.inertia - s.inertia) / s.inertia) : '—',
      `${r.iters}/${s?.iters ?? '—'}`,
      `${f(r.testAcc, 4)}/${f(s?.test_acc, 4)}`,
      `${f(r.testNmi, 4)}/${f(s?.test_nmi, 4)}`,
      `${f(r.testAri, 4)}/${f(s?.test_ari, 4)}`,
    ];
  });
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (ours.length > 1) {
    const refs = ours.map((r) => ref?.[String(r.seed)]).filter((x): x is RefResult => !!x);
    const mo = mean(ours.map((r) => r.fitS));
    const ms = refs.length === ours.length ? mean(refs.map((s) => s.fit_s)) : NaN;
    rows.push(['mean', f(mo, 2), f(ms, 2), Number.isFinite(ms) ? f(mo / ms, 2) : '—', '', '', '', '', '', '', '']);
  }
  process.stdout.write(
    `\nk-means on Fashion-MNIST (train ${Xtr.rows}, test ${Xte.rows}, k=10, nInit=${o.nInit}); ours on ${backend}, sklearn ${ref ? 'with OMP_NUM_THREADS=2' : 'not run'}\n` +
      table(
        ['seed', 'ours fit s', 'sklearn s', 'ratio', 'ours inertia', 'sklearn inertia', 'Δ inertia', 'n_iter o/s', 'test acc o/s', 'NMI o/s', 'ARI o/s'],
        rows,
      ) +
      '\n',
  );
}
