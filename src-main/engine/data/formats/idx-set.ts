/**
 * The MNIST family in IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST …): images of any N×H×W (or N×H×W×C, C 1 or
 * 3) unsigned bytes, labels as N unsigned bytes, each file gzipped or not. `source.path` is a folder holding the
 * files under their usual names, or one images file (with `labels`, `test`, `testLabels` as separate files).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MAX_IMAGE_SIDE, MAX_ROWS, type DataSplit, type DatasetShape, type FormatReader, type ReadData } from '../dataset';
import { DataError } from '../errors';
import { normalisePixels } from '../fashion-mnist';
import { readDataFile } from '../io';
import { ContentHash } from './content-hash';
import { checkSameLabelling, checkSameShape, defaultClassNamesOf } from './split-checks';

/** The element types an IDX header may name (its third byte); this reader takes unsigned bytes only. */
const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned bytes',
  0x09: 'signed bytes',
  0x0b: '16-bit integers',
  0x0c: '32-bit integers',
  0x0d: 'float32 values',
  0x0e: 'float64 values',
};

export interface IdxArray {
  /** The sizes the header announces: [N, H, W] or [N, H, W, C] for images, [N] for labels. */
  dims: number[];
  /** The values, a view into the file's bytes (no copy). */
  values: Uint8Array;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');

/**
 * Parses an IDX file of unsigned bytes (already decompressed): images (3 dimensions N×H×W, or 4 with C 1 or 3 last)
 * or labels (1 dimension). Checks the magic, the sizes (bounded before they are trusted) and that the file holds
 * exactly the bytes they announce. Throws a {@link DataError} naming `file`.
 */
export function parseIdx(buf: Uint8Array, file: string, what: 'images' | 'labels'): IdxArray {
  const fail: (problem: string) => never = (problem) => {
    throw new DataError(problem, file);
  };
  const expectedMagic = what === 'images' ? '00 00 08 03' : '00 00 08 01';
  if (buf.length < 4) fail(`truncated IDX ${what} file: ${buf.length} bytes, shorter than its magic number`);
  const type = buf[2];
  const ndim = buf[3];
  if (buf[0] !== 0 || buf[1] !== 0 || !(type in IDX_TYPES))
    fail(`not an IDX file: wrong magic number ${hex(buf)}, expected ${expectedMagic} for ${what}`);
  if (type !== 0x08) fail(`the IDX file holds ${IDX_TYPES[type]}: only unsigned bytes (type 0x08, as in MNIST) are read`);
  if (what === 'images' && ndim === 1) fail('this is an IDX labels file (1 dimension), expected images (3 dimensions: N×H×W)');
  if (what === 'labels' && ndim === 3) fail('this is an IDX images file (3 dimensions), expected labels (1 dimension)');
  if (what === 'images' ? ndim !== 3 && ndim !== 4 : ndim !== 1)
    fail(`IDX ${what} file with ${ndim} dimensions, expected ${what === 'images' ? '3 (N×H×W) or 4 (N×H×W×C)' : '1'}`);

  const headerBytes = 4 + 4 * ndim;
  if (buf.length < headerBytes) fail(`truncated IDX ${what} file: ${buf.length} bytes, shorter than the ${headerBytes}-byte header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: ndim }, (_, k) => view.getUint32(4 + 4 * k, false));
  const [count, height, width, channels = 1] = dims;
  if (count > MAX_ROWS) fail(`the header announces ${count} ${what}, more than the ${MAX_ROWS} a data set may have`);
  if (what === 'images') {
    if ([height, width].some((side) => side < 1 || side > MAX_IMAGE_SIDE))
      fail(`images of ${height}×${width} pixels: each side must be 1..${MAX_IMAGE_SIDE}`);
    if (channels !== 1 && channels !== 3) fail(`images with ${channels} channels: expected 1 (grayscale) or 3 (RGB)`);
  }
  const perItem = dims.slice(1).reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * perItem;
  if (buf.length < expected) {
    const whole = Math.floor((buf.length - headerBytes) / perItem);
    fail(
      `truncated IDX ${what} file: the header announces ${count} ${what} (${expected} bytes) but the file has ${buf.length} bytes (${whole} whole ${what})`,
    );
  }
  if (buf.length > expected)
    fail(`IDX ${what} file has ${buf.length - expected} unexpected bytes after the ${count} ${what} the header announces`);
  return { dims, values: buf.subarray(headerBytes, expected) };
}

/** A file's role in a folder, from its name. */
interface IdxRole {
  split: 'train' | 'test';
  kind: 'images' | 'labels';
}

/**
 * The folder rule: a file is a split's images or labels when its name, lower-cased and without `.gz`, ends in
 * `<split>-<kind>-idx<n>-ubyte` where split is `train`, `t10k` or `test` and kind `images` or `labels`, after the
 * start of the name or a separator (`-`, `_` or `.` stand for each `-`). So MNIST's `train-images-idx3-ubyte.gz`,
 * Kaggle's `t10k-images.idx3-ubyte` and EMNIST's `emnist-letters-test-labels-idx1-ubyte.gz` are found; a folder
 * holding several candidates for one role (EMNIST's six splits side by side) is ambiguous: give one images file.
 */
export const IDX_FILE_NAME = /(?:^|[-_.])(train|t10k|test)[-_.](images|labels)[-_.]idx\d[-_.]ubyte$/;

export function idxRoleOf(name: string): IdxRole | undefined {
  const m = IDX_FILE_NAME.exec(name.toLowerCase().replace(/\.gz$/, ''));
  return m ? { split: m[1] === 'train' ? 'train' : 'test', kind: m[2] as IdxRole['kind'] } : undefined;
}

const ROLE_WORDS = {
  train: { images: 'training images', labels: 'training labels' },
  test: { images: 'test images', labels: 'test labels' },
};

/** The IDX files of a folder, by role; for `name` and `name.gz` both there, the uncompressed one (as locate.ts). */
async function findIdxFiles(dir: string): Promise<{ trainImages: string; trainLabels?: string; testImages?: string; testLabels?: string }> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch (err) {
    throw new DataError(`cannot list the folder (${(err as Error).message})`, dir, { cause: err });
  }
  const pick = (split: IdxRole['split'], kind: IdxRole['kind']): string | undefined => {
    const matching = names.filter((n) => {
      const role = idxRoleOf(n);
      return role?.split === split && role.kind === kind;
    });
    const bases = [...new Set(matching.map((n) => n.replace(/\.gz$/i, '')))].sort();
    if (bases.length > 1) {
      throw new DataError(
        `several files could be the ${ROLE_WORDS[split][kind]}: ${bases.join(', ')}: give one images file as the path (with its labels and test files)`,
        dir,
      );
    }
    if (bases.length === 0) return undefined;
    return join(dir, matching.includes(bases[0]) ? bases[0] : matching[0]);
  };
  const trainImages = pick('train', 'images');
  if (!trainImages) {
    const shown = names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ') || 'none';
    throw new DataError(`holds no IDX training images (a file named like train-images-idx3-ubyte[.gz]); its files: ${shown}`, dir);
  }
  const found = {
    trainImages,
    trainLabels: pick('train', 'labels'),
    testImages: pick('test', 'images'),
    testLabels: pick('test', 'labels'),
  };
  if (found.testLabels && !found.testImages)
    throw new DataError(`holds test labels (${basename(found.testLabels)}) but no test images`, dir);
  return found;
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // readDataFile words a missing or unreadable file
  }
}

/**
 * MNIST-family IDX data: a folder (see {@link IDX_FILE_NAME}) or one images file with optional `labels`, `test`
 * and `testLabels` files. Unlabelled images are fine; pixels are divided by 255.
 */
export const readIdxSet: FormatReader = async (source, options = {}) => {
  let files: { trainImages: string; trainLabels?: string; testImages?: string; testLabels?: string };
  if (await isFolder(source.path)) {
    const extra = [source.labels, source.test, source.testLabels].find((f) => f !== undefined);
    if (extra !== undefined)
      throw new DataError(
        `a folder's IDX files are found by their names: no separate labels or test file (${extra}) may be given with it`,
        source.path,
      );
    files = await findIdxFiles(source.path);
  } else {
    if (source.testLabels !== undefined && source.test === undefined)
      throw new DataError('test labels were given without test images', source.testLabels);
    files = { trainImages: source.path, trainLabels: source.labels, testImages: source.test, testLabels: source.testLabels };
  }

  const hash = new ContentHash();
  const notes: string[] = [];
  const paths = [files.trainImages, files.trainLabels, files.testImages, files.testLabels];
  const total = paths.filter((p) => p !== undefined).length;
  let done = 0;
  const read = async (path: string, role: string, what: 'images' | 'labels'): Promise<IdxArray> => {
    options.signal?.throwIfAborted();
    const { data } = await readDataFile(path);
    hash.add(role, data);
    const parsed = parseIdx(data, path, what);
    options.onProgress?.(++done, total);
    return parsed;
  };
  const readSplit = async (imagesPath: string, labelsPath: string | undefined, split: 'train' | 'test') => {
    const images = await read(imagesPath, `${split} images`, 'images');
    const [count, height, width, channels = 1] = images.dims;
    if (count < 1) throw new DataError('holds no images', imagesPath);
    const shape: DatasetShape = { kind: 'images', height, width, channels: channels as 1 | 3 };
    const out: DataSplit = { values: normalisePixels(images.values), count };
    if (labelsPath !== undefined) {
      const labels = await read(labelsPath, `${split} labels`, 'labels');
      if (labels.dims[0] !== count)
        throw new DataError(`${labels.dims[0]} labels but ${basename(imagesPath)} holds ${count} images`, labelsPath);
      out.labels = new Uint8Array(labels.values); // a copy, so that the file's buffer can be freed
    }
    return { shape, split: out };
  };

  const train = await readSplit(files.trainImages, files.trainLabels, 'train');
  const result: ReadData = { shape: train.shape, train: train.split, sha256: '', notes };
  if (files.testImages !== undefined) {
    const test = await readSplit(files.testImages, files.testLabels, 'test');
    checkSameShape(train.shape, test.shape, files.testImages);
    checkSameLabelling(train.split, test.split, files.trainImages, files.testImages);
    result.test = test.split;
  }
  result.sha256 = hash.digest();
  const classNames = defaultClassNamesOf(result.train, result.test);
  if (classNames) result.classNames = classNames;
  if (paths.some((p) => p !== undefined && /emnist/i.test(basename(p)))) {
    notes.push(
      "EMNIST's IDX files store each image transposed (column by column): they are read as stored, so they show mirrored along the diagonal",
    );
  }
  return result;
};
