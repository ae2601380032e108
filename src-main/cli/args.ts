import { InvalidArgumentError } from 'commander';
import { parseWasmThreads } from '../engine/backend/wasmThreads';

export class CliError extends Error {
  override name = 'CliError';
}

/** Parses a numeric flag strictly: "10" → 10, "1e-4" → 0.0001, "ten" or "" → a clear error. */
export function numberArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

/** --wasm-threads: a whole number from 1 to 8. */
export function wasmThreadsArg(value: string): number {
  try {
    return parseWasmThreads(value, '--wasm-threads');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function idArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a run id (a positive integer), got "${value}"`);
  return n;
}
