/** One CSV cell: quoted when it holds a quote, a comma or a line break; null and undefined are empty. */
export function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
