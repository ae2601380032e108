/** The store's checks of its arguments: each refuses a value it could not store faithfully, in one line (INVALID). */
import { StoreError } from './errors';

export function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new StoreError('INVALID', `invalid run id: ${String(id)}`);
  return id;
}

export function checkFiniteInt(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new StoreError('INVALID', `${what} must be an integer, got ${String(n)}`);
  return n;
}

export function checkStep(n: unknown, what: string): number {
  const step = checkFiniteInt(n, what);
  if (step < 0) throw new StoreError('INVALID', `${what} must be >= 0, got ${step}`);
  return step;
}

export function checkString(s: unknown, what: string): string {
  if (typeof s !== 'string' || s.length === 0) throw new StoreError('INVALID', `${what} must be a non-empty string`);
  return s;
}

export function checkRecordOfStrings(r: unknown, what: string): Record<string, string> {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new StoreError('INVALID', `${what} must be an object of strings`);
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== 'string') throw new StoreError('INVALID', `${what}.${k} must be a string`);
  }
  return r as Record<string, string>;
}
