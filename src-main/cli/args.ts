import { InvalidArgumentError } from 'commander';
import { parseWasmThreads } from '../engine/backend/wasmThreads';

export class CliError extends Error {
  override name = 'CliError';
}

/** A decimal number as people write it (10, -3, 0.5, .5, 1e-4): not hex, binary or octal, no spaces around it. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The number `text` writes in decimal, or undefined (Number() alone takes "0x10", " 1 " and "" as numbers). */
export function decimalNumber(text: string): number | undefined {
  const n = Number(text);
  return DECIMAL.test(text) && Number.isFinite(n) ? n : undefined;
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
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a run id (a positive integer), got "${value}"`);
  return n;
}
