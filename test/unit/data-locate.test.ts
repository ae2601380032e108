import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataNotFoundError,
  DEBIAN_DATA_DIR,
  dataDirCandidates,
  inspectDataDir,
  loadFashionMnist,
  locateFashionMnist,
} from '../../src-main/engine/data';
import { defaultDataDir } from '../../src-main/engine/paths';
import { CSV_NAMES, IDX_NAMES, cleanupTmpDirs, makeTmpDir, writeCsvDataset, writeFixture, writeIdxDataset } from '../helpers/data-fixtures';
import { skipUnless } from '../helpers/prereqs';

afterAll(cleanupTmpDirs);

/** Four places, each holding a tiny dataset with a distinct number of training images. */
async function setup() {
  const root = await makeTmpDir('cb-locate-');
  const optionDir = join(root, 'option');
  const envDir = join(root, 'env');
  const home = join(root, 'home');
  const appDir = defaultDataDir({ CLUSTERBENCH_HOME: home });
  const systemDir = join(root, 'system');
  await writeIdxDataset(optionDir, { trainCount: 1 });
  await writeIdxDataset(envDir, { trainCount: 2, gzip: true });
  await writeCsvDataset(appDir, { trainCount: 3 });
  await writeIdxDataset(systemDir, { trainCount: 4, gzip: true });
  const env = { CLUSTERBENCH_HOME: home, CLUSTERBENCH_DATA: envDir };
  return { root, optionDir, envDir, home, appDir, systemDir, env };
}

async function notFound(p: Promise<unknown>): Promise<DataNotFoundError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataNotFoundError);
  return err as DataNotFoundError;
}

describe('locating the data', () => {
  it('looks at --data, $CLUSTERBENCH_DATA, the app data folder, then the system folder, in that order', async () => {
    const s = await setup();
    const systemDirs = [s.systemDir];

    const a = await loadFashionMnist({ dir: s.optionDir, env: s.env, systemDirs });
    expect([a.info.dir, a.train.count]).toEqual([s.optionDir, 1]);

    const b = await loadFashionMnist({ env: s.env, systemDirs });
    expect([b.info.dir, b.train.count, b.info.format]).toEqual([s.envDir, 2, 'idx']);

    const c = await loadFashionMnist({ env: { CLUSTERBENCH_HOME: s.home }, systemDirs });
    expect([c.info.dir, c.train.count, c.info.format]).toEqual([s.appDir, 3, 'csv']);

    await rm(s.appDir, { recursive: true });
    const d = await loadFashionMnist({ env: { CLUSTERBENCH_HOME: s.home }, systemDirs });
    expect([d.info.dir, d.train.count]).toEqual([s.systemDir, 4]);

    expect(dataDirCandidates({ dir: s.optionDir, env: s.env, systemDirs }).map((c) => [c.source, c.dir])).toEqual([
      ['option', s.optionDir],
      ['env', s.envDir],
      ['app', s.appDir],
      ['system', s.systemDir],
    ]);
  });

  it('an empty $CLUSTERBENCH_DATA counts as not set', async () => {
    const s = await setup();
    const r = await locateFashionMnist({ env: { CLUSTERBENCH_HOME: s.home, CLUSTERBENCH_DATA: '' }, systemDirs: [] });
    expect(r.dir).toBe(s.appDir);
  });

  it('skips incomplete folders that were not given explicitly', async () => {
    const s = await setup();
    await rm(join(s.appDir, CSV_NAMES.test));
    const r = await locateFashionMnist({ env: { CLUSTERBENCH_HOME: s.home }, systemDirs: [s.systemDir] });
    expect(r.dir).toBe(s.systemDir);
  });

  it('an explicit --data that does not exist is an error naming it (no fall-through)', async () => {
    const s = await setup();
    const missing = join(s.root, 'nope');
    const err = await notFound(locateFashionMnist({ dir: missing, env: s.env, systemDirs: [s.systemDir] }));
    expect(err.message).toContain(`Fashion-MNIST data folder given by --data does not exist: ${missing}`);
    expect(err.file).toBe(missing);
    expect(err.message).toContain('clusterbench data download');
  });

  it('an explicit folder that is incomplete is an error listing the missing files', async () => {
    const s = await setup();
    await rm(join(s.envDir, `${IDX_NAMES.testLabels}.gz`));
    const err = await notFound(locateFashionMnist({ env: s.env, systemDirs: [s.systemDir] }));
    expect(err.message).toContain('given by $CLUSTERBENCH_DATA is not usable');
    expect(err.message).toContain(s.envDir);
    expect(err.message).toContain(`missing ${IDX_NAMES.testLabels}[.gz]`);

    const empty = await makeTmpDir();
    const err2 = await notFound(locateFashionMnist({ dir: empty, env: {}, systemDirs: [] }));
    expect(err2.message).toContain('holds no Fashion-MNIST files');

    const file = await writeFixture(empty, 'a-file', 'x');
    const err3 = await notFound(locateFashionMnist({ dir: file, env: {}, systemDirs: [] }));
    expect(err3.message).toContain('is not a folder');
  });

  it('when nothing is found, the error names every place looked at and how to get the data', async () => {
    const root = await makeTmpDir();
    const home = join(root, 'home');
    const sys1 = join(root, 'sys1');
    const sys2 = join(root, 'sys2');
    await mkdir(sys2);
    await writeFile(join(sys2, `${IDX_NAMES.trainImages}.gz`), '');
    const err = await notFound(loadFashionMnist({ env: { CLUSTERBENCH_HOME: home }, systemDirs: [sys1, sys2] }));
    const appDir = defaultDataDir({ CLUSTERBENCH_HOME: home });
    expect(err.message).toContain('Fashion-MNIST data not found');
    expect(err.message).toContain('$CLUSTERBENCH_DATA: not set');
    expect(err.message).toContain(`${appDir} (the app's data folder): does not exist`);
    expect(err.message).toContain(`${sys1} (system folder): does not exist`);
    expect(err.message).toMatch(
      new RegExp(
        `${sys2.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(system folder\\): incomplete: missing train-labels-idx1-ubyte\\[\\.gz\\]`,
      ),
    );
    expect(err.message).toContain('clusterbench data download');
    expect(err.message).toContain('apt-get install dataset-fashion-mnist');
    expect(err.message).toContain('--data DIR');
    expect(err.places.map((p) => p.dir)).toEqual([undefined, appDir, sys1, sys2]);
  });

  it('prefers IDX over CSV, and uncompressed over .gz, in the same folder', async () => {
    const dir = await makeTmpDir();
    await writeCsvDataset(dir);
    await writeIdxDataset(dir, { gzip: true });
    await writeIdxDataset(dir, { gzip: false });
    const r = await inspectDataDir(dir);
    expect(r.found?.format).toBe('idx');
    expect(r.found?.format === 'idx' && r.found.files.trainImages).toBe(join(dir, IDX_NAMES.trainImages));
  });

  it.skipIf(skipUnless('fashionMnist'))("finds Debian's dataset-fashion-mnist by default", async () => {
    const home = await makeTmpDir();
    const r = await locateFashionMnist({ env: { CLUSTERBENCH_HOME: home } });
    expect(r).toMatchObject({ dir: DEBIAN_DATA_DIR, format: 'idx' });
    expect(r.format === 'idx' && r.files.trainImages).toBe(join(DEBIAN_DATA_DIR, `${IDX_NAMES.trainImages}.gz`));
  });
});
