/**
 * A numeric CSV table: one row per line, comma-separated, an optional header row, an optional label column first,
 * the other columns features (any decimal number) or, with `source.imageShape`, pixels 0..255. Gzipped or not.
 * Every cell is checked; every problem is one line naming the file, the line and the column.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  MAX_CLASSES,
  MAX_FEATURES,
  MAX_ROWS,
  type DataSplit,
  type DatasetShape,
  type DatasetSource,
  type FormatReader,
  type ReadData,
  type ReadOptions,
} from '../dataset';
import { DataError } from '../errors';
import { readDataFile } from '../io';
import { ContentHash } from './content-hash';
import { checkSameLabelling, defaultClassNamesOf } from './split-checks';

/** A header whose first cell is one of these (any case) has its labels in the first column. */
export const LABEL_HEADER_NAMES: readonly string[] = ['label', 'class', 'target', 'y'];

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NOT_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const FLOAT32_MAX = 3.4028234663852886e38;
/** Bytes parsed between two turns given to the event loop. */
const SLICE_BYTES = 4 << 20;

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const isSpace = (c: number): boolean => c === 32 || c === 9;

const utf8 = new TextDecoder('utf-8');
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact in float64 up to 1e22

/**
 * A decimal cell (`-12`, `0.5`, `.5`, `+1.5e-3`) read straight from its bytes, when that gives exactly what Number()
 * gives: at most 15 significant digits and a power of ten within ±22, so one IEEE multiplication or division rounds
 * it correctly (Clinger's fast path). NaN for anything else, which the caller reads the slow way.
 */
function decimalCell(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = bytes[i] === 45;
  if (negative || bytes[i] === 43) i++;
  let mantissa = 0;
  let significant = 0;
  let scale = 0;
  let digits = 0;
  for (let fraction = false; i < end; i++) {
    const c = bytes[i];
    if (c === 46 && !fraction) {
      fraction = true;
      continue;
    }
    const digit = c - 48;
    if (digit < 0 || digit > 9) break;
    digits++;
    if (significant > 0 || digit !== 0) significant++;
    mantissa = mantissa * 10 + digit;
    if (fraction) scale--;
  }
  if (digits === 0 || significant > 15) return NaN;
  if (i < end && (bytes[i] | 32) === 101) {
    i++;
    const negativeExponent = bytes[i] === 45;
    if (negativeExponent || bytes[i] === 43) i++;
    let exponent = 0;
    const first = i;
    for (; i < end && bytes[i] >= 48 && bytes[i] <= 57 && exponent < 1000; i++) exponent = exponent * 10 + (bytes[i] - 48);
    if (i === first) return NaN;
    scale += negativeExponent ? -exponent : exponent;
  }
  if (i !== end || scale > 22 || scale < -22) return NaN;
  const value = scale >= 0 ? mantissa * POWERS_OF_TEN[scale] : mantissa / POWERS_OF_TEN[-scale];
  return negative ? -value : value;
}

/** A short cell's text (numbers are ASCII). */
const asciiText = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, Math.min(end, start + 200)));

/**
 * The labels of a table's first column, across its files: numbers 0..MAX_CLASSES-1 as they are, or names mapped to
 * classes in sorted order; not both.
 */
class LabelColumn {
  /** Names in the order first seen → their provisional class; at most MAX_CLASSES. */
  readonly names = new Map<string, number>();
  private firstNumber: string | undefined;
  private firstName: string | undefined;

  /** The provisional class of a label cell, or a problem. */
  classOf(text: string, at: string): number | string {
    if (NUMBER.test(text)) {
      const value = Number(text);
      if (!Number.isInteger(value) || value < 0 || value >= MAX_CLASSES) return `label ${text} is not an integer in 0..${MAX_CLASSES - 1}`;
      if (this.firstName !== undefined)
        return `label ${text} is a number but the label ${this.firstName} is a name: the label column must hold numbers only or names only`;
      this.firstNumber ??= `${text} (${at})`;
      return value;
    }
    if (NOT_FINITE.test(text) || text === '') return text === '' ? 'empty label' : `label ${text} is not a class`;
    if (this.firstNumber !== undefined)
      return `label ${JSON.stringify(text)} is a name but the label ${this.firstNumber} is a number: the label column must hold numbers only or names only`;
    this.firstName ??= `${JSON.stringify(text)} (${at})`;
    let id = this.names.get(text);
    if (id === undefined) {
      if (this.names.size >= MAX_CLASSES)
        return `label ${JSON.stringify(text)} is the ${MAX_CLASSES + 1}th distinct name: at most ${MAX_CLASSES} classes`;
      id = this.names.size;
      this.names.set(text, id);
    }
    return id;
  }

  get hasNames(): boolean {
    return this.names.size > 0;
  }
}

/** What the first file decides for the ones after it. */
interface TableLayout {
  labelColumn?: 'first' | 'none';
  /** Columns per line (header included), fixed by the first file's first line. */
  columns?: number;
}

/** One file's rows, parsed line by line. */
class TableParser {
  private values: Float32Array;
  private labels: Uint8Array;
  private capacity = 0;
  count = 0;
  private columns = 0;
  private header: string[] | undefined;
  private hasFirstLine = false;
  private features = 0;

  constructor(
    private readonly file: string,
    private readonly layout: TableLayout,
    private readonly labelColumn: LabelColumn,
    private readonly imageShape: DatasetSource['imageShape'],
  ) {
    this.values = new Float32Array(0);
    this.labels = new Uint8Array(0);
  }

  private fail(problem: string): never {
    throw new DataError(problem, this.file);
  }

  private columnName(column: number): string {
    const name = this.header?.[column];
    return name ? `column ${column + 1} (${name})` : `column ${column + 1}`;
  }

  /** The first line: a header (a label name first, or any other cell not a number), or the first data line. */
  private firstLine(cells: string[], lineNo: number): boolean {
    const numberLike = (t: string): boolean => t === '' || NUMBER.test(t) || NOT_FINITE.test(t);
    const namesLabel = LABEL_HEADER_NAMES.includes(cells[0].toLowerCase());
    const isHeader = namesLabel || cells.slice(cells.length > 1 ? 1 : 0).some((t) => !numberLike(t));
    this.columns = cells.length;
    if (this.layout.columns !== undefined && this.layout.columns !== this.columns)
      this.fail(`line ${lineNo} has ${this.columns} columns, the training file ${this.layout.columns}`);
    this.layout.columns = this.columns;
    if (this.layout.labelColumn === undefined) {
      this.layout.labelColumn = isHeader && namesLabel ? 'first' : 'none';
    }
    this.features = this.columns - (this.layout.labelColumn === 'first' ? 1 : 0);
    if (this.features < 1) this.fail(`line ${lineNo} has only the label column: no features`);
    if (this.features > MAX_FEATURES) this.fail(`line ${lineNo} has ${this.features} feature columns, more than ${MAX_FEATURES}`);
    if (this.imageShape) {
      const { height, width, channels } = this.imageShape;
      if (this.features !== height * width * channels)
        this.fail(
          `${this.features} pixel columns cannot be ${height}×${width}×${channels} images (${height * width * channels} pixels each)`,
        );
    }
    if (isHeader) this.header = cells;
    return isHeader;
  }

  private growTo(rows: number): void {
    if (rows <= this.capacity) return;
    if (rows > MAX_ROWS) this.fail(`more than ${MAX_ROWS} rows`);
    const capacity = Math.min(MAX_ROWS, Math.max(rows, this.capacity * 2, 64));
    const values = new Float32Array(capacity * this.features);
    values.set(this.values);
    const labels = new Uint8Array(capacity);
    labels.set(this.labels);
    this.values = values;
    this.labels = labels;
    this.capacity = capacity;
  }

  private cellProblem(text: string, column: number): string {
    if (text === '') return 'empty cell';
    if (NOT_FINITE.test(text)) return `${text} is not a finite number`;
    const hint = /[;\t]/.test(text)
      ? ' (the separator must be a comma)'
      : column === 0
        ? ' (if the first column holds the labels, set the label column to first)'
        : '';
    return `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is not a number${hint}`;
  }

  /** One line, `bytes[start..end)` without its newline. */
  line(bytes: Uint8Array, start: number, end: number, lineNo: number): void {
    if (end > start && bytes[end - 1] === CR) end--;
    let blank = true;
    for (let i = start; i < end && blank; i++) blank = isSpace(bytes[i]);
    if (blank) return;

    if (!this.hasFirstLine) {
      this.hasFirstLine = true;
      const cells = utf8
        .decode(bytes.subarray(start, end))
        .split(',')
        .map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      if (this.firstLine(cells, lineNo)) return;
    }

    let columns = 1;
    for (let i = start; i < end; i++) if (bytes[i] === COMMA) columns++;
    if (columns !== this.columns) {
      const expected = this.header ? `the header has ${this.columns}` : `expected ${this.columns} as on the first line`;
      this.fail(`line ${lineNo} has ${columns} columns, ${expected}`);
    }

    this.growTo(this.count + 1);
    // in locals: this loop runs once per cell
    const values = this.values;
    const pixels = this.imageShape !== undefined;
    const firstFeature = this.layout.labelColumn === 'first' ? 1 : 0;
    const row = this.count * this.features - firstFeature;
    let column = 0;
    for (let cellStart = start; cellStart <= end; column++) {
      let cellEnd = cellStart;
      while (cellEnd < end && bytes[cellEnd] !== COMMA) cellEnd++;
      // the cell without surrounding blanks and double quotes
      let s = cellStart;
      let e = cellEnd;
      while (s < e && isSpace(bytes[s])) s++;
      while (e > s && isSpace(bytes[e - 1])) e--;
      if (e - s >= 2 && bytes[s] === QUOTE && bytes[e - 1] === QUOTE) {
        s++;
        e--;
      }
      cellStart = cellEnd + 1;

      if (column < firstFeature) {
        const cls = this.labelColumn.classOf(utf8.decode(bytes.subarray(s, e)), `line ${lineNo}`);
        if (typeof cls === 'string') this.fail(`line ${lineNo}, ${this.columnName(column)}: ${cls}`);
        this.labels[this.count] = cls;
        continue;
      }
      let value = decimalCell(bytes, s, e);
      if (value !== value) {
        const text = asciiText(bytes, s, e);
        if (!NUMBER.test(text)) this.fail(`line ${lineNo}, ${this.columnName(column)}: ${this.cellProblem(text, column)}`);
        value = Number(text);
        if (!pixels && Math.abs(value) > FLOAT32_MAX)
          this.fail(`line ${lineNo}, ${this.columnName(column)}: ${text} is beyond float32's range`);
      }
      if (pixels) {
        if (!(value >= 0 && value <= 255)) this.fail(`line ${lineNo}, ${this.columnName(column)}: pixel value ${value} is outside 0..255`);
        value /= 255;
      }
      values[row + column] = value;
    }
    this.count++;
  }

  finish(): DataSplit {
    if (this.count === 0) this.fail(this.header ? 'the CSV file has a header row but no data rows' : 'the CSV file holds no rows');
    const size = this.count * this.features;
    const split: DataSplit = { values: this.values.length === size ? this.values : this.values.slice(0, size), count: this.count };
    if (this.layout.labelColumn === 'first') split.labels = this.labels.slice(0, this.count);
    return split;
  }

  get dim(): number {
    return this.features;
  }
}

/** Parses one file's bytes, a slice at a time, giving the event loop a turn between slices. */
async function parseFile(
  bytes: Uint8Array,
  parser: TableParser,
  options: ReadOptions,
  progress: (bytesDone: number) => void,
): Promise<DataSplit> {
  let start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  let lineNo = 1;
  let sliceEnd = start + SLICE_BYTES;
  while (start < bytes.length) {
    const newline = bytes.indexOf(LF, start);
    const end = newline < 0 ? bytes.length : newline;
    parser.line(bytes, start, end, lineNo++);
    start = end + 1;
    if (start >= sliceEnd && start < bytes.length) {
      progress(start);
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
      sliceEnd = start + SLICE_BYTES;
    }
  }
  progress(bytes.length);
  return parser.finish();
}

/** Label names mapped to classes in sorted order: the provisional classes renumbered in place. */
function sortNames(column: LabelColumn, splits: DataSplit[]): string[] {
  const sorted = [...column.names.keys()].sort();
  const rank = new Uint8Array(column.names.size);
  sorted.forEach((name, cls) => (rank[column.names.get(name)!] = cls));
  for (const split of splits) if (split.labels) for (let i = 0; i < split.labels.length; i++) split.labels[i] = rank[split.labels[i]];
  return sorted;
}

/**
 * A numeric CSV table (see the module comment). `source.labelColumn` says whether the first column holds the labels
 * (default: when the header's first cell is label, class, target or y); `source.imageShape` reads the other columns
 * as pixels 0..255 of images of that shape; `source.test` is a second table laid out like the first.
 */
export const readCsvTable: FormatReader = async (source, options = {}) => {
  if (source.labels !== undefined || source.testLabels !== undefined)
    throw new DataError(
      "a CSV table's labels are its first column: no separate labels file may be given",
      source.labels ?? source.testLabels,
    );
  const layout: TableLayout = { labelColumn: source.labelColumn };
  const labelColumn = new LabelColumn();
  const hash = new ContentHash();
  const notes: string[] = [];
  const paths = source.test === undefined ? [source.path] : [source.path, source.test];

  let before = 0;
  const splits: DataSplit[] = [];
  let dim = 0;
  for (const [i, path] of paths.entries()) {
    options.signal?.throwIfAborted();
    const { data } = await readDataFile(path);
    hash.add(i === 0 ? 'train table' : 'test table', data);
    // progress in bytes; a file not read yet counts as large as this one
    const offset = before;
    const total = offset + data.length * (paths.length - i);
    const parser = new TableParser(path, layout, labelColumn, source.imageShape);
    splits.push(await parseFile(data, parser, options, (done) => options.onProgress?.(offset + done, total)));
    dim = parser.dim;
    before += data.length;
  }

  const shape: DatasetShape = source.imageShape ? { kind: 'images', ...source.imageShape } : { kind: 'features', dim };
  const [train, test] = splits;
  if (test) checkSameLabelling(train, test, source.path, source.test!);
  const result: ReadData = { shape, train, sha256: hash.digest(), notes };
  if (test) result.test = test;
  if (labelColumn.hasNames) {
    result.classNames = sortNames(labelColumn, splits);
    const shown = result.classNames.slice(0, 8).map((name, cls) => `${name} = ${cls}`);
    notes.push(
      `the label column holds names: ${result.classNames.length} classes in sorted order (${shown.join(', ')}${result.classNames.length > 8 ? ', …' : ''})`,
    );
  } else {
    const classNames = defaultClassNamesOf(train, test);
    if (classNames) result.classNames = classNames;
  }
  if (layout.labelColumn === 'first' && source.labelColumn === undefined) notes.push('the header names the first column as the label');
  return result;
};
