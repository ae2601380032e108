import { InvalidArgumentError } from 'commander';
import { parseWasmThreads } from '../engine/backend/wasm-threads';
import { decimalNumber } from '../engine/schema/decimal';

// param-options.ts reads --grid values with it too.
export { decimalNumber };

export class CliError extends Error {
  override name = 'CliError';
}

/** Parses a numeric flag strictly: "10" → 10, "1e-4" → 0.0001, "ten", "0x10" or "" → a clear error. */
export function numberArg(value: string): number {
  const n = decimalNumber(value);
  if (n === undefined) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

/** A flag's parser for a whole number from `min` to `max`, written in decimal. */
export function wholeNumberArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = decimalNumber(value);
    if (n === undefined || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
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
  const n = decimalNumber(value);
  if (n === undefined || !Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a run id (a positive integer), got "${value}"`);
  return n;
}
