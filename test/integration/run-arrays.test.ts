import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExportedFile } from '../../src-main/contract/index';
import { RunStore, runArtifactsDir } from '../../src-main/engine/store';
import { handleQuery } from '../../src-main/service/queries';
import { runCli, tempHome } from '../helpers/cli';
import { missingPrereq, skipUnless, SYSTEM_PYTHON } from '../helpers/prereqs';
import { evaluationOf } from '../helpers/run-fixtures';

const numpyMissing =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0
    ? false
    : missingPrereq(`numpy for ${SYSTEM_PYTHON}`, 'apt-get install python3-numpy');

/**
 * Loads every .npy (and .csv) of `dir` with numpy and compares it with `expected`: raw float32 files (the run's own
 * artifacts, read as numpy reads raw bytes) or JSON lists. Prints one JSON object: per file its shape, dtype and
 * whether its values equal the expected ones exactly.
 */
const CHECK = `
import json, sys, numpy as np
folder, expected = sys.argv[1], json.loads(sys.argv[2])
out = {}
for name, want in expected.items():
    got = np.load(f"{folder}/{name}.npy", allow_pickle=False)
    if want["raw"] is not None:
        ref = np.fromfile(want["raw"], dtype="<f4").reshape(got.shape)
    else:
        ref = np.array(want["values"], dtype=got.dtype)
    entry = {"shape": list(got.shape), "dtype": str(got.dtype), "equal": bool(np.array_equal(got, ref))}
    try:
        csv = np.loadtxt(f"{folder}/{name}.csv", delimiter=",", skiprows=1, dtype=got.dtype, ndmin=got.ndim)
        entry["csvEqual"] = bool(np.array_equal(csv.reshape(got.shape), got))
    except FileNotFoundError:
        pass
    out[name] = entry
print(json.dumps(out))
`;

type Expected = Record<string, { raw: string | null; values?: unknown }>;

function numpyCheck(
  dir: string,
  expected: Expected,
): Record<string, { shape: number[]; dtype: string; equal: boolean; csvEqual?: boolean }> {
  const py = spawnSync(SYSTEM_PYTHON, ['-c', CHECK, dir, JSON.stringify(expected)], { encoding: 'utf8', maxBuffer: 2 ** 28 });
  expect(py.status, py.stderr).toBe(0);
  return JSON.parse(py.stdout);
}

describe.skipIf(skipUnless('fashionMnist') || numpyMissing)('export run --what: a real run’s arrays read back with numpy', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  const db = join(home, 'runs.sqlite');
  let kmeans: { id: number };
  let pipeline: { id: number };
  const show = async (id: number) => JSON.parse((await runCli(['runs', 'show', String(id), '--json'], env)).stdout);

  beforeAll(async () => {
    const km = await runCli(['run', '--task', 'kmeans', '--train-limit', '1000', '--test-limit', '300', '--n-init', '1', '--json'], env);
    expect(km.code, km.stderr).toBe(0);
    kmeans = JSON.parse(km.stdout);
    // a dense autoencoder (784 → 32 → 4) for one epoch, a 3-dimensional UMAP, a GMM and a PCA map: codes and embeddings
    const tiny = ['--encoder', 'dense', '--layers', '32', '--code-size', '4', '--epochs', '1', '--umap-components', '3'];
    const pl = await runCli(
      ['run', '--task', 'pipeline', ...tiny, '--umap-epochs', '30', '--cluster', 'gmm', '--k', '5', '--map2d', 'pca'].concat([
        '--train-limit',
        '300',
        '--test-limit',
        '120',
        '--backend',
        'wasm',
        '--json',
      ]),
      env,
    );
    expect(pl.code, pl.stderr).toBe(0);
    pipeline = JSON.parse(pl.stdout);
  }, 600_000);

  it('k-means: its assignments as int32 (and CSV) equal to the run’s; what it lacks is refused in one line, nothing written', async () => {
    const dir = join(home, 'kmeans-arrays');
    const lacking = await runCli(['export', 'run', String(kmeans.id), '--what', 'assignments,codes,probabilities', '--out', dir], env);
    expect(lacking.code).toBe(1);
    expect(lacking.stderr).toBe(
      `clusterbench: Run #${kmeans.id} has no codes (it clusters the raw data: no encoder), no probabilities (k-means runs have none): nothing was exported\n`,
    );
    expect(existsSync(dir)).toBe(false);

    const out = await runCli(['export', 'run', String(kmeans.id), '--what', 'assignments', '--csv', '--out', dir], env);
    expect(out.code, out.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['assignments.csv', 'assignments.npy', 'export.json']);
    const run = await runCli(['export', 'run', String(kmeans.id), '--out', join(home, 'kmeans.json')], env);
    expect(run.code).toBe(0);
    const assignments = JSON.parse(readFileSync(join(home, 'kmeans.json'), 'utf8')).assignments as number[];
    expect(assignments).toHaveLength(300);
    expect(numpyCheck(dir, { assignments: { raw: null, values: assignments } })).toEqual({
      assignments: { shape: [300], dtype: 'int32', equal: true, csvEqual: true },
    });
    const manifest = JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8'));
    const shown = await show(kmeans.id);
    const recorded = shown.dataset;
    expect(manifest.run).toMatchObject({ id: kmeans.id, uid: shown.uid, task: 'kmeans' });
    expect(manifest.run.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(manifest.dataset).toMatchObject({ name: recorded.name, fitSize: 1000, evalSize: 300 });
    expect(manifest.dataset.sha256).toBe(recorded.sha256 ?? null);
    expect(manifest.files).toEqual([
      {
        file: 'assignments.npy',
        csv: 'assignments.csv',
        item: 'assignments',
        holds: 'the cluster (0…k−1) of each eval row',
        dtype: 'int32',
        shape: [300],
        rows: 'eval rows: the test split, indices 0…299, in order',
      },
    ]);

    // the folder is no longer empty: refused unless --force
    const again = await runCli(['export', 'run', String(kmeans.id), '--what', 'assignments', '--out', dir], env);
    expect(again.stderr).toMatch(/is not empty \(add --force/);
    expect((await runCli(['export', 'run', String(kmeans.id), '--what', 'assignments', '--out', dir, '--force'], env)).code).toBe(0);
  }, 120_000);

  it('an autoencoder pipeline: codes of the fit and eval rows, its UMAP embedding and 2-D map, equal to the run’s files', async () => {
    const dir = join(home, 'pipeline-arrays');
    const out = await runCli(['export', 'run', String(pipeline.id), '--what', 'codes,embedding,assignments', '--csv', '--out', dir], env);
    expect(out.code, out.stderr).toBe(0);
    const recorded = await show(pipeline.id);
    const a = recorded.artifacts;
    const result = numpyCheck(dir, {
      codes_fit: { raw: a.codesFit },
      codes_eval: { raw: a.codesEval },
      embedding: { raw: a.embeddingEval },
      map2d: { raw: a.map2dEval },
    });
    expect(result).toEqual({
      codes_fit: { shape: [300, 4], dtype: 'float32', equal: true, csvEqual: true },
      codes_eval: { shape: [120, 4], dtype: 'float32', equal: true, csvEqual: true },
      embedding: { shape: [120, 3], dtype: 'float32', equal: true, csvEqual: true },
      map2d: { shape: [120, 2], dtype: 'float32', equal: true, csvEqual: true },
    });
    const manifest = JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8'));
    expect(manifest.files.map((f: { file: string }) => f.file)).toEqual([
      'codes_fit.npy',
      'codes_eval.npy',
      'embedding.npy',
      'map2d.npy',
      'assignments.npy',
    ]);
    expect(manifest.files[0].rows).toBe('fit rows: the training split, indices 0…299, in order');

    // the app's export.runArrays: the same arrays in one .npz (with export.json), as numpy.load reads it
    const ctx = { dbPath: db, busy: () => false, emit: () => undefined };
    const file = (await handleQuery('export.runArrays', { id: pipeline.id }, ctx)) as ExportedFile;
    expect(file.suggestedName).toBe(`clusterbench-run-${pipeline.id}-arrays.npz`);
    const npz = join(home, 'arrays.npz');
    writeFileSync(npz, Buffer.from(file.data, 'base64'));
    const py = spawnSync(
      SYSTEM_PYTHON,
      [
        '-c',
        `import json, os, sys, numpy as np
z = np.load(sys.argv[1])
# the folder holds what --what asked for; the .npz all the run has (probabilities too, for a GMM)
same = {n: bool(np.array_equal(z[n], np.load(f"{sys.argv[2]}/{n}.npy"))) for n in z.files if os.path.exists(f"{sys.argv[2]}/{n}.npy")}
print(json.dumps({"files": sorted(z.files), "same": same, "manifest": json.loads(bytes(z["export.json"]))["run"]["id"]}))`,
        npz,
        dir,
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    // probabilities: only when the run recorded them (the GMM's responsibilities, artifact probabilitiesEval)
    const items = ['assignments', 'codes_eval', 'codes_fit', 'embedding', 'export.json', 'map2d'];
    if (a.probabilitiesEval) items.push('probabilities');
    const got = JSON.parse(py.stdout);
    expect(got.files).toEqual(items.sort());
    expect(Object.keys(got.same).sort()).toEqual(items.filter((n) => n !== 'export.json' && n !== 'probabilities'));
    expect(Object.values(got.same).every(Boolean)).toBe(true);
    expect(got.manifest).toBe(pipeline.id);
  }, 120_000);
});

describe.skipIf(numpyMissing)('export run --what on a history made by hand', () => {
  const home = tempHome();
  const db = join(home, 'runs.sqlite');
  const env = { CLUSTERBENCH_DB: db };
  let gmm: number;
  let outside: number;
  const probabilities = Float32Array.from({ length: 4 * 3 }, (_, i) => [0.7, 0.2, 0.1][i % 3]);

  beforeAll(() => {
    const store = RunStore.open(db);
    const create = (task: 'ae-gmm' | 'ae-kmeans') => {
      const { id } = store.createRun({ task, params: { task, k: 3, seed: 0 }, seed: 0, backend: 'cpu' });
      store.completeRun(id, {
        metrics: { accuracy: 0.5, nmi: 0.4, ari: 0.3 },
        evaluation: evaluationOf(0.5),
        assignments: Int32Array.from([0, 1, 2, 0]),
        timings: {},
      });
      return id;
    };
    gmm = create('ae-gmm');
    const folder = runArtifactsDir(db, gmm);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'probabilities-eval.f32'), new Uint8Array(probabilities.buffer));
    store.setArtifacts(gmm, { probabilitiesEval: join(folder, 'probabilities-eval.f32') });
    outside = create('ae-kmeans');
    writeFileSync(join(home, 'elsewhere.f32'), new Uint8Array(16 * 4));
    store.setArtifacts(outside, { codesEval: join(home, 'elsewhere.f32'), codeSize: '4' });
    store.close();
  });

  it('exports a GMM run’s probabilities when it recorded them (k × eval rows, float32)', async () => {
    const dir = join(home, 'gmm');
    const out = await runCli(['export', 'run', String(gmm), '--what', 'probabilities', '--out', dir], env);
    expect(out.code, out.stderr).toBe(0);
    const raw = join(runArtifactsDir(db, gmm), 'probabilities-eval.f32');
    expect(numpyCheck(dir, { probabilities: { raw } })).toEqual({ probabilities: { shape: [4, 3], dtype: 'float32', equal: true } });
  }, 60_000);

  it('never follows a recorded path out of the run’s folder; --what all exports what there is', async () => {
    const out = await runCli(['export', 'run', String(outside), '--what', 'codes', '--out', join(home, 'escaped')], env);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^clusterbench: Run #\d+'s codesEval ".*elsewhere\.f32" is outside this history's artifacts folder/);
    expect(existsSync(join(home, 'escaped'))).toBe(false);
    const all = await runCli(['export', 'run', String(gmm), '--what', 'all', '--out', join(home, 'all')], env);
    expect(all.code, all.stderr).toBe(0);
    expect(readdirSync(join(home, 'all')).sort()).toEqual(['assignments.npy', 'export.json', 'probabilities.npy']);
  }, 60_000);
});
