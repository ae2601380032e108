import { StoreError } from './errors';

/**
 * JSON encoding for the run database's JSON columns.
 *
 * Plain JSON loses some numbers (NaN, ±Infinity become null, -0 becomes 0). Those are written as a tagged
 * object `{"$num": "NaN" | "Infinity" | "-Infinity" | "-0"}` and turned back into numbers on read, so that
 * every number round-trips exactly. Only plain data is accepted: values that JSON would silently mangle
 * (typed arrays, Dates, Maps, functions, bigint, holes or `undefined` inside arrays) are refused with a
 * StoreError naming where they were found. `undefined` object properties are dropped, as JSON does.
 */
const TAG = '$num';
const SPECIAL = new Map<string, number>([
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['-0', -0],
]);

function specialName(n: number): string | null {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

function toPlain(value: unknown, where: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number': {
      const name = specialName(value);
      return name === null ? value : { [TAG]: name };
    }
    case 'object': {
      if (value === null) return null;
      if (seen.has(value)) throw new StoreError('INVALID', `${where}: circular reference cannot be stored`);
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          const out: unknown[] = new Array(value.length);
          for (let i = 0; i < value.length; i++) {
            if (!(i in value) || value[i] === undefined) {
              throw new StoreError('INVALID', `${where}[${i}]: undefined or missing array element cannot be stored`);
            }
            out[i] = toPlain(value[i], `${where}[${i}]`, seen);
          }
          return out;
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new StoreError('INVALID', `${where}: ${describe(value)} is not plain data`);
        }
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === TAG) {
          throw new StoreError('INVALID', `${where}: an object whose only key is "${TAG}" is reserved`);
        }
        const out: Record<string, unknown> = {};
        for (const k of keys) {
          const v = (value as Record<string, unknown>)[k];
          if (v === undefined) continue;
          out[k] = toPlain(v, `${where}.${k}`, seen);
        }
        return out;
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new StoreError('INVALID', `${where}: ${describe(value)} is not plain data`);
  }
}

export function encodeJson(value: unknown, where: string): string {
  return JSON.stringify(toPlain(value, where, new Set()));
}

export function decodeJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === TAG) {
        const n = SPECIAL.get((v as Record<string, unknown>)[TAG] as string);
        if (n !== undefined) return n;
      }
    }
    return v;
  }) as T;
}

export function decodeJsonOrNull<T>(text: string | null): T | null {
  return text === null ? null : decodeJson<T>(text);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Int32 little-endian bytes, whatever the host's byte order. */
export function encodeAssignments(a: Int32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const buf = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) buf.writeInt32LE(a[i], i * 4);
  return buf;
}

export function decodeAssignments(buf: Uint8Array): Int32Array {
  if (buf.byteLength % 4 !== 0) {
    throw new StoreError('NOT_A_DATABASE', `stored assignments are ${buf.byteLength} bytes, not a whole number of Int32 values`);
  }
  const out = new Int32Array(buf.byteLength / 4);
  if (LITTLE_ENDIAN) {
    // Copy: the driver's buffer need not be 4-byte aligned, and must not be shared.
    new Uint8Array(out.buffer).set(buf);
  } else {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  }
  return out;
}

/** REAL columns cannot hold NaN (SQLite turns it into NULL); it is stored as the text 'NaN' instead. */
export function encodeReal(n: number): number | string {
  return Number.isNaN(n) ? 'NaN' : n;
}

export function decodeReal(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (typeof v === 'bigint') return Number(v);
  throw new StoreError('NOT_A_DATABASE', `unexpected value ${String(v)} in a REAL column`);
}
