/**
 * NumPy data sets: `.npy` files (rows, and optionally a labels array, a test array and its labels, each its own file)
 * and `.npz` archives (the arrays found by name: `x` … for the rows, `y` … for the labels, `x_test`/`y_test` for a
 * test split). A labels, test or test-labels file may itself be an `.npy` or an `.npz` (KMNIST ships `arr_0` archives).
 */
import { basename } from 'node:path';
import type { DataSplit, DatasetSource, FormatReader, ReadData, ReadOptions } from '../dataset';
import { DataError } from '../errors';
import { readDataFile } from '../io';
import { labelsOf, rowShapeOf, rowValuesOf, type NamedArray } from './array-rows';
import { ContentHash } from './content-hash';
import { NPY_MAGIC, parseNpy } from './npy-codec';
import { isZip, openNpz, type NpzArchive } from './npz-archive';
import { checkSameLabelling, checkSameShape, defaultClassNamesOf } from './split-checks';

export { encodeNpy, parseNpy, type NpyArray, type NpyData, type NpyDtype } from './npy-codec';

/** The names an `.npz` member may have, by what it holds (the first axis counts rows in each). */
export const NPZ_ROWS_NAMES = ['x', 'X', 'images', 'data', 'features', 'embeddings', 'x_train', 'X_train'] as const;
export const NPZ_LABELS_NAMES = ['y', 'labels', 'targets', 'y_train'] as const;
export const NPZ_TEST_ROWS_NAMES = ['x_test', 'X_test'] as const;
export const NPZ_TEST_LABELS_NAMES = ['y_test'] as const;

type Split = 'train' | 'test';

interface SplitArrays {
  rows: NamedArray;
  labels?: NamedArray;
}

/** One reading: its hash, its notes, and its progress in files. */
class Reading {
  readonly hash = new ContentHash();
  readonly notes: string[] = [];
  private done = 0;

  constructor(
    private readonly options: ReadOptions,
    private readonly total: number,
  ) {}

  async file(path: string): Promise<Uint8Array> {
    this.options.signal?.throwIfAborted();
    const { data } = await readDataFile(path);
    this.options.onProgress?.(++this.done, this.total);
    return data;
  }

  /** Parses an array and records its bytes under its role (and member name) in the hash. */
  array(bytes: Uint8Array, role: string, file: string, member?: string): NamedArray {
    this.hash.add(member === undefined ? role : `${role} ${member}`, bytes);
    const array = parseNpy(bytes, file, member);
    if (array.fortranOrder && array.shape.length > 1)
      this.notes.push(`${basename(file)}${member ? ` (${member})` : ''}: stored in Fortran (column-major) order, transposed to rows`);
    return { array, file, member };
  }
}

/** The one name among `candidates` that the archive holds; undefined when none; a DataError when several. */
function pickName(names: readonly string[], candidates: readonly string[], what: string, file: string): string | undefined {
  const found = candidates.filter((c) => names.includes(c));
  if (found.length > 1)
    throw new DataError(`holds several arrays that could be ${what}: ${found.join(', ')} (its arrays: ${names.join(', ')})`, file);
  return found[0];
}

function openArchive(bytes: Uint8Array, file: string): NpzArchive {
  const archive = openNpz(bytes, file);
  if (archive.names.length === 0) throw new DataError('the .npz archive holds no arrays', file);
  return archive;
}

/** The rows member: a known name, else the archive's only array. */
function rowsMember(archive: NpzArchive, candidates: readonly string[], file: string, notes: string[]): string {
  const name = pickName(archive.names, candidates, 'the rows', file);
  if (name !== undefined) return name;
  if (archive.names.length === 1) {
    notes.push(`${basename(file)}: read its only array, '${archive.names[0]}', as the rows`);
    return archive.names[0];
  }
  throw new DataError(`holds no array named ${candidates.join(', ')} for the rows (its arrays: ${archive.names.join(', ')})`, file);
}

/** A labels file: an `.npy`, or an `.npz` whose labels member has a known name or is its only array. */
async function readLabelsFile(path: string, split: Split, reading: Reading): Promise<NamedArray> {
  const bytes = await reading.file(path);
  if (!isZip(bytes)) return reading.array(bytes, `${split} labels`, path);
  const archive = openArchive(bytes, path);
  const candidates = [...NPZ_LABELS_NAMES, ...NPZ_TEST_LABELS_NAMES];
  const name = pickName(archive.names, candidates, 'the labels', path) ?? (archive.names.length === 1 ? archive.names[0] : undefined);
  if (name === undefined)
    throw new DataError(`holds no array named ${candidates.join(', ')} for the labels (its arrays: ${archive.names.join(', ')})`, path);
  const member = (await archive.read([name])).get(name)!;
  return reading.array(member, `${split} labels`, path, name);
}

/** The main file must be what the source says it is (a labels or test file may be either). */
function checkContainer(bytes: Uint8Array, path: string, expect: 'npy' | 'npz'): void {
  const npy = NPY_MAGIC.every((b, i) => bytes[i] === b);
  if (expect === 'npz' && !isZip(bytes))
    throw new DataError(npy ? 'is an .npy file, not an .npz archive: read it as npy' : 'not an .npz (zip) archive', path);
  if (expect === 'npy' && isZip(bytes)) throw new DataError('is an .npz (zip) archive, not an .npy file: read it as npz', path);
}

/**
 * The arrays of one container file: an `.npy` (rows only) or an `.npz` (rows, labels when it holds them, and for the
 * main file its own test split when it holds `x_test`).
 */
async function readContainer(
  path: string,
  split: Split,
  reading: Reading,
  expect?: 'npy' | 'npz',
): Promise<{ own: SplitArrays; ownTest?: SplitArrays }> {
  const bytes = await reading.file(path);
  if (expect) checkContainer(bytes, path, expect);
  if (!isZip(bytes)) return { own: { rows: reading.array(bytes, `${split} rows`, path) } };

  const archive = openArchive(bytes, path);
  const names = archive.names;
  const rowsCandidates = split === 'train' ? NPZ_ROWS_NAMES : [...NPZ_TEST_ROWS_NAMES, ...NPZ_ROWS_NAMES];
  const labelsCandidates = split === 'train' ? NPZ_LABELS_NAMES : [...NPZ_TEST_LABELS_NAMES, ...NPZ_LABELS_NAMES];
  const rows = rowsMember(archive, rowsCandidates, path, reading.notes);
  const labels = pickName(names, labelsCandidates, 'the labels', path);
  const testRows = split === 'train' ? pickName(names, NPZ_TEST_ROWS_NAMES, 'the test rows', path) : undefined;
  const testLabels = split === 'train' ? pickName(names, NPZ_TEST_LABELS_NAMES, 'the test labels', path) : undefined;
  if (testLabels !== undefined && testRows === undefined) throw new DataError(`holds '${testLabels}' but no test rows (x_test)`, path);

  const wanted = [rows, labels, testRows, testLabels].filter((n): n is string => n !== undefined);
  const members = await archive.read(wanted);
  const array = (name: string | undefined, role: string): NamedArray | undefined =>
    name === undefined ? undefined : reading.array(members.get(name)!, role, path, name);
  const own: SplitArrays = { rows: array(rows, `${split} rows`)!, labels: array(labels, `${split} labels`) };
  const ownTest = testRows === undefined ? undefined : { rows: array(testRows, 'test rows')!, labels: array(testLabels, 'test labels') };
  return { own, ownTest };
}

/** A split's rows file and its labels: inside the container, or the separate labels file (not both). */
async function readSplit(rowsPath: string, labelsPath: string | undefined, split: Split, reading: Reading, expect?: 'npy' | 'npz') {
  const { own, ownTest } = await readContainer(rowsPath, split, reading, expect);
  if (labelsPath !== undefined) {
    if (own.labels) throw new DataError(`holds its labels ('${own.labels.member}'), and a labels file was given too: give one`, rowsPath);
    own.labels = await readLabelsFile(labelsPath, split, reading);
  }
  return { own, ownTest };
}

function toSplit(arrays: SplitArrays, source: DatasetSource, notes: string[]) {
  const shape = rowShapeOf(arrays.rows, source.imageShape);
  const { rows } = arrays;
  if (shape.kind === 'features' && rows.array.dtype === 'uint8') {
    notes.push(`${basename(rows.file)}: rows of bytes read as features 0..255 as they are; give an image shape to read them as images`);
  }
  const count = rows.array.shape[0];
  const split: DataSplit = { values: rowValuesOf(rows, shape), count };
  if (arrays.labels) split.labels = labelsOf(arrays.labels, count, rows);
  return { shape, split };
}

async function readNumpy(source: DatasetSource, options: ReadOptions, expect: 'npy' | 'npz'): Promise<ReadData> {
  const files = [source.path, source.labels, source.test, source.testLabels].filter((f) => f !== undefined);
  const reading = new Reading(options, files.length);
  const train = await readSplit(source.path, source.labels, 'train', reading, expect);
  let test = train.ownTest;
  let testFile = source.path;
  if (source.test !== undefined) {
    if (test)
      throw new DataError(`holds its own test split ('${test.rows.member}'): a separate test file cannot be given too`, source.path);
    test = (await readSplit(source.test, source.testLabels, 'test', reading)).own;
    testFile = source.test;
  } else if (source.testLabels !== undefined) {
    throw new DataError('test labels were given without test rows', source.testLabels);
  }

  const { shape, split: trainSplit } = toSplit(train.own, source, reading.notes);
  const result: ReadData = { shape, train: trainSplit, sha256: reading.hash.digest(), notes: reading.notes };
  if (test) {
    const { shape: testShape, split: testSplit } = toSplit(test, source, reading.notes);
    checkSameShape(shape, testShape, testFile);
    checkSameLabelling(trainSplit, testSplit, source.path, testFile);
    result.test = testSplit;
  }
  const classNames = defaultClassNamesOf(trainSplit, result.test);
  if (classNames) result.classNames = classNames;
  return result;
}

/**
 * `.npy` rows: N×d features (any integer or float dtype, as they are), N×H×W or N×H×W×C images (C 1 or 3; bytes are
 * divided by 255, float images must lie in [0, 1]), or flat rows with `source.imageShape`. `labels`: N integers
 * 0..255; `test`/`testLabels`: a second split of the same shape. Either may also be an `.npz`.
 */
export const readNpy: FormatReader = (source, options = {}) => readNumpy(source, options, 'npy');

/**
 * An `.npz` archive: rows from the member named x, X, images, data, features, embeddings, x_train or X_train (or the
 * only member), labels from y, labels, targets or y_train, a test split from x_test and y_test, or from
 * `source.test`. The rows and labels read as {@link readNpy} reads them.
 */
export const readNpz: FormatReader = (source, options = {}) => readNumpy(source, options, 'npz');
