/** What makes a spreadsheet read a text cell as a formula (OWASP, "CSV injection"): its first character. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell. Numbers (and booleans) are written as they are: -0.5 stays a number. Text that a spreadsheet would take
 * for a formula (starting with =, +, -, @, a tab or a carriage return) gets a leading single quote, as OWASP
 * recommends. A cell holding a quote, a comma or a line break is quoted; null and undefined are empty.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const typed = typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean';
  const text = typed || !FORMULA_START.test(String(value)) ? String(value) : `'${String(value)}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
