/**
 * Numbers as people write them, read the same way by the CLI's flags and the New-experiment form. Pure: the
 * renderer bundles it (through @contract/decimal).
 */

/** A decimal number (10, -3, 0.5, .5, 1e-4): not hex, binary or octal, no digit separators, no spaces around it. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The number `text` writes in decimal, or undefined (Number() alone takes "0x10", " 1 " and "" as numbers). */
export function decimalNumber(text: string): number | undefined {
  const n = Number(text);
  return DECIMAL.test(text) && Number.isFinite(n) ? n : undefined;
}
