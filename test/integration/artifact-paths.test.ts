/**
 * Issue 19: recorded artifact paths must never lead out of the history. `runs import` refuses a path outside the
 * file's run folders and a run folder holding anything but plain files and folders; the service reads a recorded
 * path only inside the history's artifacts folder, as a plain file of the size it must have, and answers a tampered
 * history with one line, fast (a FIFO or /dev/zero must not hang it or grow it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src-main/engine/backend/index';
import { loadFashionMnist } from '../../src-main/engine/data/index';
import { CONV_AE_ARCHITECTURE, convArchitecture } from '../../src-main/engine/models/conv-autoencoder';
import { artifactsRoot, RunStore, runArtifactsDir } from '../../src-main/engine/store';
import { importRunDatabase, openImportTarget } from '../../src-main/engine/store/import';
import type { DatasetInfo, NewRun, RunArtifacts, RunResult } from '../../src-main/engine/store/types';
import { handleQuery } from '../../src-main/service/queries';
import { writeIdxDataset } from '../helpers/data-fixtures';
import { evaluationOf } from '../helpers/run-fixtures';

let root: string;
let n = 0;
const dbFile = (): string => {
  const dir = join(root, `h${++n}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'runs.sqlite');
};
const mkfifo = (path: string): void => void execFileSync('mkfifo', [path]);

/** A file outside every history, of exactly the size a 2-D map of 5 images has (5 × 2 float32). */
let secret: string;
const EVAL = 5;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cb-artifact-paths-'));
  secret = join(root, 'secret.f32');
  writeFileSync(secret, Buffer.from(Float32Array.from({ length: EVAL * 2 }, (_, i) => 1000 + i).buffer));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const kmeans = (over: Partial<NewRun> = {}): NewRun => ({
  task: 'kmeans',
  params: { task: 'kmeans', k: 3, seed: 0 },
  seed: 0,
  backend: 'cpu',
  ...over,
});

const result = (artifacts: RunArtifacts = {}): RunResult => ({
  metrics: { accuracy: 0.4, nmi: 0.3, ari: 0.2 },
  evaluation: evaluationOf(0.4),
  assignments: Int32Array.from([0, 1, 2, 0, 1]),
  timings: { totalMs: 10 },
  artifacts,
});

/** A history with one completed run whose artifacts `artifactsOf(its folder)` gives (the folder exists, empty). */
function historyWith(artifactsOf: (runDir: string) => RunArtifacts, dataset?: DatasetInfo): { file: string; id: number } {
  const file = dbFile();
  const s = RunStore.open(file);
  try {
    const id = s.createRun(kmeans({ dataset })).id;
    const dir = runArtifactsDir(file, id);
    mkdirSync(dir, { recursive: true });
    s.completeRun(id, result(artifactsOf(dir)));
    return { file, id };
  } finally {
    s.close();
  }
}

function refusal(dest: string, file: string): string {
  const db = openImportTarget(dest);
  try {
    importRunDatabase(db, dest, file);
  } catch (e) {
    return (e as Error).message;
  } finally {
    db.close();
  }
  throw new Error('expected the import to be refused');
}

const runCount = (file: string): number => {
  const s = RunStore.open(file);
  try {
    return s.listRuns().length;
  } finally {
    s.close();
  }
};

describe.skipIf(process.platform === 'win32')('runs import: recorded paths and files that would leave the history', () => {
  it.each([
    ['a ../ path out of its run folder', (dir: string) => join(dir, '..', '..', '..', 'secret.f32')],
    ['an absolute path outside', () => '/etc/hostname'],
    ['/dev/zero', () => '/dev/zero'],
  ])('refuses %s, naming the file, the run and the path, and imports nothing', (_case, pathIn) => {
    const { file } = historyWith((dir) => ({ map2dEval: pathIn(dir), map2dMethod: 'pca' }));
    const dest = dbFile();
    const message = refusal(dest, file);
    expect(message).toMatch(
      new RegExp(
        `^${file}: its run 1 records "map2dEval" at ".*", which is not in one of its run folders; nothing was imported from this file$`,
      ),
    );
    expect(message.split('\n')).toHaveLength(1);
    expect(runCount(dest)).toBe(0);
  });

  it.each([
    ['a symbolic link to a file outside', (path: string) => symlinkSync(secret, path), 'a symbolic link'],
    ['a symbolic link to /dev/zero', (path: string) => symlinkSync('/dev/zero', path), 'a symbolic link'],
    ['a FIFO', (path: string) => mkfifo(path), 'a FIFO'],
  ])(
    'refuses a run folder holding %s, and leaves no copied files behind',
    (_case, make, kind) => {
      const { file } = historyWith((dir) => {
        mkdirSync(join(dir, 'maps'));
        make(join(dir, 'maps', 'map2d.f32'));
        return { map2dEval: join(dir, 'maps', 'map2d.f32'), map2dMethod: 'pca' };
      });
      const dest = dbFile();
      const message = refusal(dest, file);
      expect(message).toBe(
        `${file}: its run 1's folder holds "maps/map2d.f32", ${kind}: only plain files and folders are imported; nothing was imported from this file`,
      );
      expect(runCount(dest)).toBe(0);
      expect(existsSync(artifactsRoot(dest)) ? readdirSync(artifactsRoot(dest)) : []).toEqual([]);
    },
    10_000,
  );

  it('copies a plain file of the wrong size as it is (the service refuses to read it, see below)', () => {
    const { file } = historyWith((dir) => {
      writeFileSync(join(dir, 'map2d.f32'), 'twelve bytes');
      return { map2dEval: join(dir, 'map2d.f32'), map2dMethod: 'pca' };
    });
    const dest = dbFile();
    const db = openImportTarget(dest);
    try {
      expect(importRunDatabase(db, dest, file).runIds).toEqual([1]);
    } finally {
      db.close();
    }
  });
});

describe.skipIf(process.platform === 'win32')('service: a tampered history answers in one line, fast', () => {
  let dataDir: string;
  let dataset: DatasetInfo;
  const ctx = (dbPath: string, dataDirOption?: string) => ({ dbPath, dataDir: dataDirOption, busy: () => false, emit: () => undefined });
  const embedding = (file: string, id: number) => handleQuery('runs.embedding', { id }, ctx(file));
  const clusterImages = (file: string, id: number, dataDirOption?: string) =>
    handleQuery('runs.clusterImages', { id, cluster: 0, onlyMistakes: false, offset: 0, limit: 10 }, ctx(file, dataDirOption));
  const imageDetail = (file: string, id: number) => handleQuery('runs.imageDetail', { id, index: 0 }, ctx(file));
  const oneLine = async (p: Promise<unknown>, pattern: RegExp): Promise<void> => {
    const e = await p.then(
      () => new Error('expected a refusal'),
      (err: unknown) => err as Error,
    );
    expect(e.message).toMatch(pattern);
    expect(e.message.split('\n')).toHaveLength(1);
  };

  beforeAll(async () => {
    dataDir = join(root, 'data');
    await writeIdxDataset(dataDir, { testCount: EVAL });
    const data = await loadFashionMnist({ dir: dataDir });
    dataset = {
      ...data.info,
      fitSize: data.train.count,
      evalSize: data.test.count,
      pixelStats: { min: 0, max: 1, mean: 0.5 },
    };
  });

  it('runs.embedding does not return the bytes of a file outside the history (absolute path, ../)', async () => {
    const outside = historyWith(() => ({ map2dEval: secret, map2dMethod: 'pca' }), dataset);
    await oneLine(embedding(outside.file, outside.id), /^Run #1's map2dEval .*secret\.f32" is outside this history's artifacts folder/);
    const dotdot = historyWith((dir) => ({ map2dEval: join(dir, '..', '..', '..', 'secret.f32'), map2dMethod: 'pca' }), dataset);
    await oneLine(embedding(dotdot.file, dotdot.id), /is outside this history's artifacts folder/);
  });

  it('runs.embedding refuses a link to /dev/zero and a FIFO inside the artifacts folder, fast', async () => {
    const zero = historyWith((dir) => {
      symlinkSync('/dev/zero', join(dir, 'map2d.f32'));
      return { map2dEval: join(dir, 'map2d.f32'), map2dMethod: 'pca' };
    }, dataset);
    await oneLine(embedding(zero.file, zero.id), /is outside this history's artifacts folder/);
    const fifo = historyWith((dir) => {
      mkfifo(join(dir, 'map2d.f32'));
      return { map2dEval: join(dir, 'map2d.f32'), map2dMethod: 'pca' };
    }, dataset);
    await oneLine(embedding(fifo.file, fifo.id), /^Run #1's map2dEval .*map2d\.f32" is not a plain file$/);
  }, 5_000);

  it('runs.embedding refuses a map of the wrong size, and a huge one without reading it', async () => {
    const wrong = historyWith((dir) => {
      writeFileSync(join(dir, 'map2d.f32'), 'twelve bytes');
      return { map2dEval: join(dir, 'map2d.f32'), map2dMethod: 'pca' };
    }, dataset);
    await oneLine(
      embedding(wrong.file, wrong.id),
      /^Run #1's map2dEval .*map2d\.f32" has 12 bytes, not the 40 its 5 × 2 float32 values take$/,
    );
    const huge = historyWith((dir) => {
      execFileSync('truncate', ['-s', '8G', join(dir, 'map2d.f32')]);
      return { map2dEval: join(dir, 'map2d.f32'), map2dMethod: 'pca' };
    }, dataset);
    await oneLine(embedding(huge.file, huge.id), /has 8589934592 bytes, not the 40/);
  }, 5_000);

  it('runs.imageDetail refuses an autoencoder folder outside, and weights that model.json reads from outside', async () => {
    const outsideModel = join(root, 'model-outside');
    mkdirSync(outsideModel, { recursive: true });
    writeFileSync(join(outsideModel, 'model.json'), '{}');
    const outside = historyWith(() => ({ autoencoder: outsideModel, architecture: 'conv' }), dataset);
    await oneLine(
      imageDetail(outside.file, outside.id),
      /^Run #1's autoencoder .*model-outside" is outside this history's artifacts folder/,
    );
    const escaping = historyWith((dir) => {
      mkdirSync(join(dir, 'autoencoder'));
      const manifest = [{ paths: ['../../../../secret.f32'], weights: [] }];
      writeFileSync(join(dir, 'autoencoder', 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: manifest }));
      return { autoencoder: join(dir, 'autoencoder'), architecture: 'conv' };
    }, dataset);
    await oneLine(
      imageDetail(escaping.file, escaping.id),
      /^Run #1's autoencoder weights .*secret\.f32" is outside this history's artifacts folder/,
    );
  }, 5_000);

  // Issue 20: the reconstruction loads through the autoencoder registry: the recorded architecture id chooses the network.
  it('runs.imageDetail reconstructs with the architecture the run recorded; an id no architecture owns is one line', async () => {
    await initBackend('cpu');
    const model = convArchitecture.build(convArchitecture.configOf({}, { kind: 'images', height: 28, width: 28, channels: 1 }), 0);
    const withModel = async (architecture: string) => {
      const run = historyWith((dir) => ({ autoencoder: join(dir, 'autoencoder'), architecture }), dataset);
      await model.save(join(runArtifactsDir(run.file, run.id), 'autoencoder'));
      return run;
    };
    try {
      const conv = await withModel(CONV_AE_ARCHITECTURE);
      const detail = (await imageDetail(conv.file, conv.id)) as { reconstructionBase64: string | null };
      expect(Buffer.from(detail.reconstructionBase64!, 'base64')).toHaveLength(784);
      const unknown = await withModel('foo-ae-v9');
      await oneLine(imageDetail(unknown.file, unknown.id), /^Run #1's autoencoder has an unknown architecture "foo-ae-v9"$/);
    } finally {
      model.dispose();
    }
  }, 60_000);

  it('runs.clusterImages refuses a recorded data folder of FIFOs, fast, and one inside the artifacts folder', async () => {
    const fifos = join(root, 'fifo-data');
    mkdirSync(fifos);
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
      mkfifo(join(fifos, name));
    const hung = historyWith(() => ({}), { ...dataset, dir: fifos });
    await oneLine(clusterImages(hung.file, hung.id), /^Run #1's data folder .*fifo-data" holds ".*-ubyte", which is not a plain file$/);
    // a run's data folder is never a folder of run files (an import could have planted "data" there)
    const inArtifacts = historyWith(() => ({}), dataset);
    const runDir = runArtifactsDir(inArtifacts.file, inArtifacts.id);
    await writeIdxDataset(runDir, { testCount: EVAL });
    const pointing = RunStore.open(inArtifacts.file);
    const other = pointing.createRun(kmeans({ dataset: { ...dataset, dir: runDir } })).id;
    pointing.completeRun(other, result());
    pointing.close();
    await oneLine(clusterImages(inArtifacts.file, other), /^Run #2's data folder .* is inside this history's artifacts folder/);
  }, 5_000);

  it('runs.clusterImages on a run made elsewhere (its data folder not here): the data folder in use, when its checksums match', async () => {
    const elsewhere = historyWith(() => ({}), { ...dataset, dir: '/cluster/scratch/nobody/data' });
    const page = (await clusterImages(elsewhere.file, elsewhere.id, dataDir)) as { total: number };
    expect(page.total).toBe(2);
    const otherData = join(root, 'other-data');
    await writeIdxDataset(otherData, { testCount: EVAL, seed: 99 });
    await oneLine(
      clusterImages(elsewhere.file, elsewhere.id, otherData),
      /^Run #1 was evaluated on other data than .*other-data \(its files' checksums differ; it was made with "\/cluster\/scratch\/nobody\/data"\)$/,
    );
  });
});
