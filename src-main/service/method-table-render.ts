/**
 * The methods × data sets table (engine/schema/method-table.ts) as files: CSV (raw numbers), Markdown and a LaTeX
 * `tabular` in booktabs style (the best mean of each data set in bold). Every name in a table comes from a run's
 * stored parameters or data set, which an imported history may have crafted: each renderer escapes it for its format.
 */
import type { MethodCell, MethodTable, MethodTableFormat, MethodTableMetric } from '../engine/schema/method-table';
import { csvCell } from './csv';

const METRIC_TITLES: Record<MethodTableMetric, string> = {
  accuracy: 'Accuracy (%)',
  nmi: 'NMI',
  ari: 'ARI',
  silhouette: 'Silhouette',
};

/** A value as the table prints it: accuracy in percent with 2 decimals, the others with 3. */
export function metricText(metric: MethodTableMetric, value: number): string {
  return metric === 'accuracy' ? (value * 100).toFixed(2) : value.toFixed(3);
}

/** "48.19 ± 0.52"; the sd is left out below two values; null when the cell has no value. */
function cellNumbers(metric: MethodTableMetric, cell: MethodCell, plusMinus: string): string | null {
  if (cell.mean === null) return null;
  const mean = metricText(metric, cell.mean);
  return cell.sd === null ? mean : `${mean}${plusMinus}${metricText(metric, cell.sd)}`;
}

/** The sentence under a table: what its cells are. */
export function methodTableLegend(table: MethodTable): string {
  return `${METRIC_TITLES[table.metric]}: mean ± sample sd over the n completed runs of each method on each data set; bold: the best mean of each data set; —: no value.`;
}

// ---- CSV: one row per method; per data set its mean, sd and n as plain numbers (accuracy as a fraction, like the metrics).

export function methodTableCsv(table: MethodTable): string {
  const header = ['method', 'task', ...table.datasets.flatMap((name) => [`${name}_mean`, `${name}_sd`, `${name}_n`])];
  const lines = table.rows.map((row) => [row.method, row.task, ...row.cells.flatMap((cell) => [cell.mean, cell.sd, cell.n])]);
  return [header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\n') + '\n';
}

// ---- Markdown

/** Text in a Markdown table cell: one line, its markup characters escaped, HTML's too. */
export function markdownText(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/[\\`*_[\]|#~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function markdownCell(metric: MethodTableMetric, cell: MethodCell): string {
  const numbers = cellNumbers(metric, cell, ' ± ');
  if (numbers === null) return '—';
  return `${cell.best ? `**${numbers}**` : numbers} (n=${cell.n})`;
}

export function methodTableMarkdown(table: MethodTable): string {
  const header = `| Method | ${table.datasets.map(markdownText).join(' | ')} |`;
  const rule = `|:---|${table.datasets.map(() => '---:|').join('')}`;
  const rows = table.rows.map(
    (row) => `| ${markdownText(row.method)} | ${row.cells.map((cell) => markdownCell(table.metric, cell)).join(' | ')} |`,
  );
  const notes = table.notes.map((note) => `- ${markdownText(note)}`);
  return [header, rule, ...rows, '', markdownText(methodTableLegend(table)), ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}

// ---- LaTeX

const TEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  $: '\\$',
  '&': '\\&',
  '#': '\\#',
  '%': '\\%',
  _: '\\_',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  // in the default OT1 font encoding these print as other characters
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
  '"': "''",
};

/**
 * Text as LaTeX typesets it literally, whatever it holds: its special characters escaped, control characters a space,
 * and characters beyond printable ASCII a '?' (pdflatex stops at a Unicode character its fonts do not cover).
 */
export function texText(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/[^\u0020-\u007e]/gu, '?')
    .replace(/[\\{}$&#%_~^<>|"]/g, (c) => TEX_SPECIALS[c]);
}

function texCell(metric: MethodTableMetric, cell: MethodCell): string {
  const numbers = cellNumbers(metric, cell, ' \\pm ');
  if (numbers === null) return '---';
  return `${cell.best ? `$\\mathbf{${numbers}}$` : `$${numbers}$`}~{\\scriptsize(${cell.n})}`;
}

/**
 * A booktabs `tabular` (needs \usepackage{booktabs}) to \input into a paper: the metric over the data set columns,
 * one row per method, each cell mean ± sd with its n in small type. Comments above it say what it holds.
 */
export function methodTableTex(table: MethodTable): string {
  const columns = table.datasets.length;
  const ascii = (text: string) => texText(text.replace(/±/g, '+/-').replace(/—/g, '---'));
  return (
    [
      `% ${ascii(methodTableLegend(table))}`,
      ...table.notes.map((note) => `% ${ascii(note)}`),
      `\\begin{tabular}{l${'r'.repeat(columns)}}`,
      '\\toprule',
      ` & \\multicolumn{${columns}}{c}{${texText(METRIC_TITLES[table.metric])}} \\\\`,
      `\\cmidrule(lr){2-${columns + 1}}`,
      `Method & ${table.datasets.map(texText).join(' & ')} \\\\`,
      '\\midrule',
      ...table.rows.map((row) => `${texText(row.method)} & ${row.cells.map((cell) => texCell(table.metric, cell)).join(' & ')} \\\\`),
      '\\bottomrule',
      '\\end{tabular}',
    ].join('\n') + '\n'
  );
}

export function renderMethodTable(table: MethodTable, format: MethodTableFormat): string {
  if (format === 'csv') return methodTableCsv(table);
  if (format === 'md') return methodTableMarkdown(table);
  return methodTableTex(table);
}
