/**
 * The download catalog: every entry well-formed (names, hex checksums, sizes, the four IDX files), lookups by name,
 * where a set lands, and the CLI's `data catalog` / `data download --list` / unknown names.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DATASET_CATALOG,
  IDX_ROLES,
  catalogEntry,
  catalogEntryProblem,
  downloadSize,
  downloadedDatasetDir,
  type CatalogEntry,
} from '../../src-main/engine/data/catalog';
import { DATASET_NAME_PATTERN, DEFAULT_DATASET } from '../../src-main/engine/data/dataset';
import { maxGzipSize } from '../../src-main/engine/data/download';
import { DataError } from '../../src-main/engine/data/errors';
import { FASHION_MNIST_BYTES, FASHION_MNIST_CLASSES, FASHION_MNIST_SHA256 } from '../../src-main/engine/data/fashion-mnist';
import { IDX_FILES } from '../../src-main/engine/data/locate';
import { defaultDataDir } from '../../src-main/engine/paths';
import { main } from '../../src-main/cli/index';

/** Size of a set's decompressed IDX file: the header, then one byte per pixel or label. */
function idxContentBytes(entry: CatalogEntry, role: (typeof IDX_ROLES)[number]): number {
  const count = role.startsWith('train') ? entry.counts.train : entry.counts.test;
  const { height, width, channels } = entry.shape;
  return role.endsWith('Images') ? 16 + count * height * width * channels : 8 + count;
}

describe('the download catalog', () => {
  it('lists Fashion-MNIST, MNIST and Kuzushiji-MNIST, by unique names a data set may have', () => {
    const names = DATASET_CATALOG.map((e) => e.name);
    expect(names).toEqual(['fashion-mnist', 'mnist', 'kmnist']);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(DATASET_NAME_PATTERN);
    expect(names[0]).toBe(DEFAULT_DATASET);
  });

  it.each(DATASET_CATALOG.map((e) => [e.name, e] as const))('%s is well-formed', (_name, entry) => {
    expect(catalogEntryProblem(entry)).toBeUndefined();
    // the four IDX files, in the order train images, train labels, test images, test labels, each gzipped
    expect(entry.files.map((f) => f.role)).toEqual(IDX_ROLES);
    expect(entry.files.map((f) => f.name)).toEqual(IDX_ROLES.map((role) => `${IDX_FILES[role]}.gz`));
    for (const f of entry.files) {
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(Number.isSafeInteger(f.bytes) && f.bytes > 0).toBe(true);
      const content = idxContentBytes(entry, f.role);
      // decompressed sizes are exactly the IDX header plus the data; a .gz file is smaller than the most its content allows
      if (f.checksumOf === 'decompressed') expect(f.bytes).toBe(content);
      else expect(f.bytes).toBeLessThan(maxGzipSize(content));
    }
    expect(new Set(entry.files.map((f) => f.sha256)).size).toBe(4);
    expect(entry.classNames).toHaveLength(10);
    expect(new Set(entry.classNames).size).toBe(10);
    expect(entry.shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(entry.counts).toEqual({ train: 60_000, test: 10_000 });
    expect(entry.mirrors[0]).toMatch(/^https:\/\//); // HTTPS first
    for (const m of entry.mirrors) expect(m).toMatch(/^https?:\/\/[^/]+\/(.+\/)?$/);
    expect(entry.citation.length).toBeGreaterThan(20);
    expect(entry.licence).not.toBe('');
    expect(downloadSize(entry)).toBeGreaterThan(1_000_000);
  });

  it('no checksum appears twice in the whole catalog (no copy-paste slip)', () => {
    const all = DATASET_CATALOG.flatMap((e) => e.files.map((f) => f.sha256));
    expect(new Set(all).size).toBe(all.length);
  });

  it("keeps Fashion-MNIST's checksums of the decompressed content (Debian's re-compressed copy verifies)", () => {
    const entry = catalogEntry('fashion-mnist');
    expect(entry.classNames).toEqual(FASHION_MNIST_CLASSES);
    for (const f of entry.files) {
      expect(f.checksumOf).toBe('decompressed');
      expect(f.sha256).toBe(FASHION_MNIST_SHA256[IDX_FILES[f.role]]);
      expect(f.bytes).toBe(FASHION_MNIST_BYTES[IDX_FILES[f.role]]);
    }
  });

  it("checks MNIST's and KMNIST's .gz files as served, the sizes their sources give", () => {
    for (const name of ['mnist', 'kmnist']) {
      expect(catalogEntry(name).files.every((f) => f.checksumOf === 'compressed')).toBe(true);
    }
    // yann.lecun.com lists these sizes; TFDS's url_checksums agree
    expect(catalogEntry('mnist').files.map((f) => f.bytes)).toEqual([9_912_422, 28_881, 1_648_877, 4_542]);
    expect(downloadSize(catalogEntry('mnist'))).toBe(11_594_722);
  });

  it('an unknown name is one DataError line listing the known names', () => {
    expect(() => catalogEntry('emnist')).toThrow(DataError);
    expect(() => catalogEntry('emnist')).toThrow(/^no data set named "emnist" can be downloaded; known: fashion-mnist, mnist, kmnist$/);
  });

  it('a set lands in <appData>/data/<name>/; Fashion-MNIST in the folder the locator already looks at', () => {
    const env = { CLUSTERBENCH_HOME: '/x/home' };
    expect(downloadedDatasetDir('mnist', env)).toBe('/x/home/data/mnist');
    expect(downloadedDatasetDir('fashion-mnist', env)).toBe(defaultDataDir(env));
    for (const bad of ['../mnist', 'a/b', '', '.hidden']) expect(() => downloadedDatasetDir(bad, env)).toThrow(DataError);
  });

  it('catalogEntryProblem names what is wrong with a malformed entry', () => {
    const good = catalogEntry('mnist');
    const withFile = (i: number, patch: object): CatalogEntry => ({
      ...good,
      files: good.files.map((f, j) => (j === i ? { ...f, ...patch } : f)),
    });
    expect(catalogEntryProblem(withFile(0, { sha256: 'abc' }))).toMatch(/sha256 is not 64 lowercase hex digits/);
    expect(catalogEntryProblem(withFile(2, { bytes: 0 }))).toMatch(/bytes must be a positive integer/);
    expect(catalogEntryProblem(withFile(1, { name: 'sub/file.gz' }))).toMatch(/bad file name/);
    expect(catalogEntryProblem(withFile(3, { role: 'trainImages' }))).toMatch(/one file of each role/);
    expect(catalogEntryProblem({ ...good, files: good.files.slice(0, 3) })).toMatch(/one file of each role/);
    expect(catalogEntryProblem({ ...good, mirrors: ['ftp://example.org/'] })).toMatch(/not an http\(s\) URL ending in \//);
    expect(catalogEntryProblem({ ...good, mirrors: ['https://example.org/mnist'] })).toMatch(/not an http\(s\) URL/);
    expect(catalogEntryProblem({ ...good, name: '../x' })).toMatch(/bad name/);
  });
});

describe('clusterbench data catalog / data download', () => {
  afterEach(() => vi.restoreAllMocks());

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    const code = await main(args);
    vi.restoreAllMocks();
    return { code, stdout, stderr };
  }

  it('`data catalog` and `data download --list` list every set with its size, licence and citation', async () => {
    const listed = await run(['data', 'catalog']);
    expect(listed.code).toBe(0);
    for (const e of DATASET_CATALOG) {
      expect(listed.stdout).toMatch(new RegExp(`^${e.name} +${e.title}: `, 'm'));
      expect(listed.stdout).toContain(`licence: ${e.licence}`);
    }
    expect(listed.stdout).toContain('28×28×1, 10 classes, 60000 train + 10000 test images; about 11.6 MB to download');
    expect((await run(['data', 'download', '--list'])).stdout).toBe(listed.stdout);
  });

  it('`data catalog --json` gives each file with its checksum, and where the set would land', async () => {
    const { code, stdout } = await run(['data', 'catalog', '--json']);
    expect(code).toBe(0);
    const entries = JSON.parse(stdout) as { name: string; dir: string; downloadBytes: number; files: { sha256: string }[] }[];
    expect(entries.map((e) => e.name)).toEqual(['fashion-mnist', 'mnist', 'kmnist']);
    expect(entries[1].files[0].sha256).toBe(catalogEntry('mnist').files[0].sha256);
    expect(entries[1].dir).toBe(downloadedDatasetDir('mnist'));
    expect(entries[1].downloadBytes).toBe(11_594_722);
  });

  it('`data download NAME` with an unknown name fails in one line naming the known ones, before any download', async () => {
    const { code, stdout, stderr } = await run(['data', 'download', 'cifar10']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('clusterbench: no data set named "cifar10" can be downloaded; known: fashion-mnist, mnist, kmnist\n');
  });
});
