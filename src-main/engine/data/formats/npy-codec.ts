/**
 * NumPy's `.npy` format (versions 1.0, 2.0 and 3.0, numpy/lib/format.py): the magic `\x93NUMPY`, a version, the
 * header's length, a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (N, d), }` padded with
 * spaces to a multiple of 64 bytes, then the array's bytes. Pure: no file access.
 */
import { MAX_ROWS } from '../dataset';
import { DataError } from '../errors';

export type NpyDtype =
  'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float16' | 'float32' | 'float64';

/** The values of an array, in C (row-major) order; float16 comes out as a Float32Array. */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
  /** The file stored it in Fortran (column-major) order: `data` has been transposed to C order. */
  fortranOrder: boolean;
}

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY

type TypedArrayOf = (buffer: ArrayBuffer, length: number) => NpyData;

/** descr's kind and item size → the dtype and the typed array that holds it. */
const DTYPES: Record<string, { dtype: NpyDtype; view: TypedArrayOf }> = {
  b1: { dtype: 'bool', view: (b, n) => new Uint8Array(b, 0, n) },
  i1: { dtype: 'int8', view: (b, n) => new Int8Array(b, 0, n) },
  u1: { dtype: 'uint8', view: (b, n) => new Uint8Array(b, 0, n) },
  i2: { dtype: 'int16', view: (b, n) => new Int16Array(b, 0, n) },
  u2: { dtype: 'uint16', view: (b, n) => new Uint16Array(b, 0, n) },
  i4: { dtype: 'int32', view: (b, n) => new Int32Array(b, 0, n) },
  u4: { dtype: 'uint32', view: (b, n) => new Uint32Array(b, 0, n) },
  i8: { dtype: 'int64', view: (b, n) => new BigInt64Array(b, 0, n) },
  u8: { dtype: 'uint64', view: (b, n) => new BigUint64Array(b, 0, n) },
  f2: { dtype: 'float16', view: (b, n) => halfToFloat(new Uint16Array(b, 0, n)) },
  f4: { dtype: 'float32', view: (b, n) => new Float32Array(b, 0, n) },
  f8: { dtype: 'float64', view: (b, n) => new Float64Array(b, 0, n) },
};

const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const shapeText = (shape: readonly number[]): string => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

function halfToFloat(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

function swapBytes(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** `data` stored column-major (Fortran order) with `shape`, copied into row-major (C) order. */
function fortranToC<T extends NpyData>(data: T, shape: readonly number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const ndim = shape.length;
  if (data.length === 0) return out;
  // source strides in Fortran order: the first axis varies fastest
  const stride = new Array<number>(ndim);
  for (let k = 0, s = 1; k < ndim; k++) {
    stride[k] = s;
    s *= shape[k];
  }
  const index = new Array<number>(ndim).fill(0);
  let src = 0;
  const last = ndim - 1;
  for (let dst = 0; dst < data.length; dst++) {
    out[dst] = data[src];
    // advance the C-order index (last axis fastest), moving `src` along
    let k = last;
    while (k >= 0) {
      index[k]++;
      src += stride[k];
      if (index[k] < shape[k]) break;
      src -= stride[k] * shape[k];
      index[k] = 0;
      k--;
    }
  }
  return out;
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataStart: number;
}

function parseHeader(bytes: Uint8Array, fail: (problem: string) => never): NpyHeader {
  if (bytes.length < 10) fail(`truncated .npy file: ${bytes.length} bytes, shorter than the smallest header`);
  if (NPY_MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file: it does not start with the magic \\x93NUMPY');
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) fail(`unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) fail(`truncated .npy file: ${bytes.length} bytes, shorter than the version ${major}.0 header`);
  const lengthSize = major === 1 ? 2 : 4;
  const headerLength = lengthSize === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthSize;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length)
    fail(`truncated .npy file: the header announces ${headerLength} bytes but the file ends after ${bytes.length - headerStart}`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart)).trim();
  const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text;
  if (!text.startsWith('{') || !text.endsWith('}')) fail(`malformed .npy header (not a dict): ${shown}`);

  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text))
      fail(`unsupported dtype: structured arrays (records with named fields) are not read: ${shown}`);
    fail(`malformed .npy header (no 'descr'): ${shown}`);
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)\b/.exec(text);
  if (!fortran) fail(`malformed .npy header (no 'fortran_order'): ${shown}`);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shape) fail(`malformed .npy header (no 'shape'): ${shown}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (dims.some((d) => !/^\d{1,15}L?$/.test(d))) fail(`malformed .npy header (shape is not a tuple of sizes): ${shown}`);
  return { descr: descr[2], fortranOrder: fortran[1] === 'True', shape: dims.map((d) => parseInt(d, 10)), dataStart };
}

/**
 * Reads a `.npy` file's bytes: its dtype (integers and floats of any width, either byte order), its shape and its
 * values in C order (an array stored in Fortran order is transposed). The shape is checked against the bytes the
 * file holds before anything is allocated, and must account for them exactly. `member` names the array inside an
 * `.npz` archive in messages. Throws a {@link DataError} naming `file` for anything else.
 */
export function parseNpy(bytes: Uint8Array, file: string, member?: string): NpyArray {
  const fail: (problem: string) => never = (problem) => {
    throw new DataError(member === undefined ? problem : `array '${member}': ${problem}`, file);
  };
  const { descr, fortranOrder, shape, dataStart } = parseHeader(bytes, fail);

  const typeMatch = /^([<>|=]?)([biuf])(\d+)$/.exec(descr);
  const type = typeMatch ? DTYPES[typeMatch[2] + typeMatch[3]] : undefined;
  if (!typeMatch || !type) fail(`unsupported dtype '${descr}': expected integers (b1, i1…i8, u1…u8) or floats (f2, f4, f8)`);
  const itemSize = Number(typeMatch[3]);
  const littleEndian = typeMatch[1] !== '>' && (typeMatch[1] !== '=' || HOST_LITTLE_ENDIAN);

  // bound the shape by the bytes the file holds before trusting it with an allocation
  const available = bytes.length - dataStart;
  if (shape.length > 0 && shape[0] > MAX_ROWS) fail(`shape ${shapeText(shape)} has more than ${MAX_ROWS} rows`);
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * itemSize > available) {
      fail(`truncated .npy file: shape ${shapeText(shape)} of '${descr}' needs more than the ${available} bytes of data the file holds`);
    }
  }
  const needed = count * itemSize;
  if (available > needed) fail(`${available - needed} unexpected bytes after the ${shapeText(shape)} array of '${descr}'`);

  // an aligned copy (the file's bytes may sit at any offset), in the host's byte order
  const copy = new Uint8Array(needed);
  copy.set(bytes.subarray(dataStart, dataStart + needed));
  if (itemSize > 1 && littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(copy, itemSize);
  let data = type.view(copy.buffer, count);
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return { dtype: type.dtype, shape, data, fortranOrder };
}

/** The `descr` of the arrays {@link encodeNpy} writes (little-endian, as numpy writes on every common machine). */
function descrOf(data: Float32Array | Float64Array | Int32Array | Uint8Array): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  return '|u1';
}

/**
 * A `.npy` file (version 1.0) of `data` in C order with `shape`, as `numpy.save` writes it: the header dict padded
 * with spaces and a newline so that the data starts at a multiple of 64 bytes. `numpy.load` reads it back.
 */
export function encodeNpy(data: Float32Array | Float64Array | Int32Array | Uint8Array, shape: number[]): Uint8Array {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new RangeError(`encodeNpy: invalid shape ${shapeText(shape)}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`encodeNpy: shape ${shapeText(shape)} holds ${count} values, the data ${data.length}`);
  const dict = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' ≡ 0 (mod 64)
  const unpadded = 10 + dict.length + 1;
  const headerText = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  if (headerText.length > 0xffff) throw new RangeError('encodeNpy: the shape is too long for a version 1.0 header');

  const out = new Uint8Array(10 + headerText.length + data.byteLength);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerText.length, true);
  for (let i = 0; i < headerText.length; i++) out[10 + i] = headerText.charCodeAt(i);
  const body = out.subarray(10 + headerText.length);
  body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (!HOST_LITTLE_ENDIAN && data.BYTES_PER_ELEMENT > 1) swapBytes(body, data.BYTES_PER_ELEMENT);
  return out;
}
