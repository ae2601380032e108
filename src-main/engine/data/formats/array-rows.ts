/**
 * NumPy arrays (from `.npy` files or `.npz` members) as a data set's rows: what their shape says the rows are
 * (feature rows N×d, images N×H×W or N×H×W×C, or flat rows read as images of a given shape), their values as float32,
 * and a labels array as one class per row.
 */
import {
  MAX_CLASSES,
  MAX_FEATURES,
  MAX_IMAGE_SIDE,
  MAX_ROWS,
  describeShape,
  rowSize,
  type DatasetShape,
  type DatasetSource,
} from '../dataset';
import { DataError } from '../errors';
import { normalisePixels } from '../fashion-mnist';
import type { NpyArray } from './npy-codec';
import { firstNonFinite } from './split-checks';

/** An array and where it came from: the file, and the member's name inside an `.npz`. */
export interface NamedArray {
  array: NpyArray;
  file: string;
  member?: string;
}

const shapeText = (shape: readonly number[]): string => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

function fail(x: NamedArray, problem: string): never {
  throw new DataError(x.member === undefined ? problem : `array '${x.member}': ${problem}`, x.file);
}

const isInteger = (x: NpyArray): boolean => x.dtype !== 'float16' && x.dtype !== 'float32' && x.dtype !== 'float64';

/** What the rows of `x` are: its first axis counts them, the other axes make up a row. */
export function rowShapeOf(x: NamedArray, imageShape?: DatasetSource['imageShape']): DatasetShape {
  const { shape } = x.array;
  if (shape.length < 2) {
    fail(
      x,
      `shape ${shapeText(shape)} is not rows: expected feature rows (N, d) or images (N, H, W) or (N, H, W, C); reshape one value per row to (N, 1)`,
    );
  }
  if (shape.length > 4) fail(x, `shape ${shapeText(shape)} has ${shape.length} axes: expected (N, d), (N, H, W) or (N, H, W, C)`);
  const [count, ...row] = shape;
  if (count < 1) fail(x, `holds no rows (shape ${shapeText(shape)})`);
  if (count > MAX_ROWS) fail(x, `${count} rows, more than the ${MAX_ROWS} a data set may have`);
  const perRow = row.reduce((a, b) => a * b, 1);

  let result: DatasetShape;
  if (imageShape) {
    const { height, width, channels } = imageShape;
    if (perRow !== height * width * channels)
      fail(x, `rows of ${perRow} values cannot be ${height}×${width}×${channels} images (${height * width * channels} values each)`);
    result = { kind: 'images', height, width, channels };
  } else if (row.length === 1) {
    result = { kind: 'features', dim: row[0] };
  } else {
    const [height, width, channels = 1] = row;
    if (channels !== 1 && channels !== 3) {
      const hint = (height === 1 || height === 3) && channels > 3 ? ' (channels first? transpose to (N, H, W, C))' : '';
      fail(x, `images of shape ${shapeText(shape)} have ${channels} channels: expected 1 (grayscale) or 3 (RGB)${hint}`);
    }
    result = { kind: 'images', height, width, channels };
  }
  if (result.kind === 'features' && (result.dim < 1 || result.dim > MAX_FEATURES))
    fail(x, `rows of ${result.dim} features: expected 1..${MAX_FEATURES}`);
  if (result.kind === 'images' && [result.height, result.width].some((side) => side < 1 || side > MAX_IMAGE_SIDE))
    fail(x, `images of ${describeShape(result)}: each side must be 1..${MAX_IMAGE_SIDE} pixels`);
  return result;
}

/** Any numeric array's values as float64 numbers, one at a time (int64/uint64 come as BigInt). */
const numberAt = (x: NpyArray, i: number): number => Number(x.data[i]);

const where = (i: number, size: number): string => `row ${Math.floor(i / size)}, column ${i % size} (0-based)`;

/** The values of `x`'s rows as float32, checked: images in [0, 1] (bytes divided by 255), features finite. */
export function rowValuesOf(x: NamedArray, shape: DatasetShape): Float32Array {
  const a = x.array;
  const size = rowSize(shape);
  if (shape.kind === 'images') {
    if (a.dtype === 'uint8') return normalisePixels(a.data as Uint8Array);
    if (a.dtype === 'bool') return Float32Array.from(a.data as Uint8Array);
    const out = new Float32Array(a.data.length);
    if (isInteger(a)) {
      for (let i = 0; i < out.length; i++) {
        const v = numberAt(a, i);
        if (v < 0 || v > 255) fail(x, `pixel value ${v} at ${where(i, size)} is outside 0..255 (integer images are bytes)`);
        out[i] = v / 255;
      }
      return out;
    }
    for (let i = 0; i < out.length; i++) {
      const v = a.data[i] as number;
      if (!(v >= 0 && v <= 1)) {
        if (v !== v) fail(x, `NaN at ${where(i, size)}`);
        fail(x, `value ${v} at ${where(i, size)} is outside [0, 1]: float images must be scaled to [0, 1] (divide them by 255)`);
      }
      out[i] = v;
    }
    return out;
  }

  const out =
    a.data instanceof BigInt64Array || a.data instanceof BigUint64Array ? Float32Array.from(a.data, Number) : new Float32Array(a.data);
  const bad = firstNonFinite(out, size);
  if (bad) {
    const original = numberAt(a, bad.row * size + bad.column);
    const what = Number.isNaN(original) ? 'NaN' : Number.isFinite(original) ? `value ${original} (beyond float32's range)` : `${original}`;
    fail(x, `${what} at ${where(bad.row * size + bad.column, size)}: features must be finite numbers`);
  }
  return out;
}

/** A labels array as one class 0..MAX_CLASSES-1 per row of `rows`'s `count` rows. */
export function labelsOf(y: NamedArray, count: number, rows: NamedArray): Uint8Array {
  const a = y.array;
  const { shape } = a;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1)))
    fail(y, `labels of shape ${shapeText(shape)}: expected one label per row, shape (N,)`);
  if (!isInteger(a)) fail(y, `labels are ${a.dtype}: expected integers (cast them with y.astype(int))`);
  const rowsName = rows.member === undefined ? rows.file : `'${rows.member}'`;
  if (shape[0] !== count) fail(y, `${shape[0]} labels but ${rowsName} has ${count} rows`);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = numberAt(a, i);
    if (v < 0 || v >= MAX_CLASSES) fail(y, `label ${v} at row ${i} (0-based) is out of range 0..${MAX_CLASSES - 1}`);
    out[i] = v;
  }
  return out;
}
