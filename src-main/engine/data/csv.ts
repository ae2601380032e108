import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DataError } from './errors';
import { IMAGE_HEIGHT, IMAGE_WIDTH, NUM_CLASSES, type RawImages } from './idx';

const PIXELS = IMAGE_HEIGHT * IMAGE_WIDTH;
/** label + 784 pixels */
export const CSV_COLUMNS = 1 + PIXELS;

export interface RawLabelledImages extends RawImages {
  labels: Uint8Array;
  /** Whether the first line was a header row (e.g. Kaggle's `label,pixel1,…,pixel784`). */
  hasHeader: boolean;
}

const enum Cell {
  Empty, // nothing but white space yet
  Digits,
  After, // white space / closing quote after the digits
  Bad, // an invalid character was seen: collecting the cell's text for the message
  Extra, // past the last expected column: only counting columns
}

const enum Line {
  First, // first non-blank line: header or data is not known yet
  Header,
  Data,
}

const COMMA = 44;
const LF = 10;
const MAX_VALUE = 99_999_999;

function isBlank(c: number): boolean {
  // space, tab, CR, double quote; the UTF-8 BOM bytes are tolerated at the start of a line
  return c === 32 || c === 9 || c === 13 || c === 34 || c === 0xef || c === 0xbb || c === 0xbf;
}

/**
 * A streaming parser for Fashion-MNIST CSV (label first, then 784 pixel columns, optional header row).
 * Feed it chunks with {@link push} and call {@link end}. Every cell must be an integer: labels 0..9,
 * pixels 0..255; every row must have 785 columns. Any problem throws a {@link DataError} with the line and
 * column; nothing is ever silently skipped except blank lines.
 */
export class CsvImageParser {
  private pixels: Uint8Array;
  private labels: Uint8Array;
  private rows = 0;
  private lineNo = 1;
  private line: Line = Line.First;
  private hasHeader = false;
  private col = 0;
  private cell: Cell = Cell.Empty;
  private value = 0;
  private badText = '';
  private lineHasContent = false;

  constructor(
    private readonly file: string,
    capacityHint = 1024,
  ) {
    const cap = Math.max(1, capacityHint);
    this.pixels = new Uint8Array(cap * PIXELS);
    this.labels = new Uint8Array(cap);
  }

  private fail(problem: string): never {
    throw new DataError(problem, this.file);
  }

  private where(): string {
    const column = this.col + 1;
    return `line ${this.lineNo}, column ${column} (${this.col === 0 ? 'label' : `pixel ${this.col}`})`;
  }

  private ensureRow(): void {
    if (this.rows < this.labels.length) return;
    const cap = this.labels.length * 2;
    const pixels = new Uint8Array(cap * PIXELS);
    pixels.set(this.pixels);
    const labels = new Uint8Array(cap);
    labels.set(this.labels);
    this.pixels = pixels;
    this.labels = labels;
  }

  /** Ends the current cell of a data row: validates and stores it. */
  private endCell(): void {
    if (this.cell === Cell.Extra) return;
    if (this.cell === Cell.Empty) this.fail(`${this.where()}: empty cell`);
    if (this.cell === Cell.Bad) {
      this.fail(
        `${this.where()}: ${JSON.stringify(this.badText.trim())} is not an integer in 0..${this.col === 0 ? NUM_CLASSES - 1 : 255}`,
      );
    }
    const v = this.value;
    if (this.col === 0) {
      if (v >= NUM_CLASSES) this.fail(`${this.where()}: label ${v} is out of range (expected 0..${NUM_CLASSES - 1})`);
      this.ensureRow();
      this.labels[this.rows] = v;
    } else {
      if (v > 255) this.fail(`${this.where()}: pixel value ${v === MAX_VALUE ? `${v}+` : v} is out of range (expected 0..255)`);
      this.pixels[this.rows * PIXELS + this.col - 1] = v;
    }
  }

  private endLine(): void {
    if (this.line === Line.Header) {
      const columns = this.col + 1;
      if (columns !== CSV_COLUMNS) {
        this.fail(`line ${this.lineNo}: header row has ${columns} columns, expected ${CSV_COLUMNS} (label + ${PIXELS} pixels)`);
      }
      this.hasHeader = true;
      this.line = Line.Data;
    } else if (this.lineHasContent) {
      this.endCell();
      const columns = this.col + 1;
      if (columns !== CSV_COLUMNS) {
        this.fail(`line ${this.lineNo}: wrong column count: ${columns} columns, expected ${CSV_COLUMNS} (label + ${PIXELS} pixels)`);
      }
      this.rows++;
      this.line = Line.Data;
    }
    // blank lines are skipped
    this.lineNo++;
    this.col = 0;
    this.cell = Cell.Empty;
    this.value = 0;
    this.lineHasContent = false;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i];
      if (c === LF) {
        this.endLine();
        continue;
      }
      if (this.line === Line.Header) {
        if (c === COMMA) this.col++;
        continue;
      }
      if (c === COMMA) {
        this.lineHasContent = true;
        if (this.line === Line.First) this.line = Line.Data;
        this.endCell();
        this.col++;
        this.value = 0;
        this.cell = this.col >= CSV_COLUMNS ? Cell.Extra : Cell.Empty;
        continue;
      }
      switch (this.cell) {
        case Cell.Empty:
          if (c >= 48 && c <= 57) {
            this.cell = Cell.Digits;
            this.value = c - 48;
            this.lineHasContent = true;
            if (this.line === Line.First) this.line = Line.Data;
          } else if (!isBlank(c)) {
            this.lineHasContent = true;
            if (this.line === Line.First && this.col === 0 && (c | 32) >= 97 && (c | 32) <= 122) {
              // a first line starting with a letter is a header (e.g. "label,pixel1,…"): only its column count matters
              this.line = Line.Header;
            } else {
              this.cell = Cell.Bad;
              this.badText = String.fromCharCode(c);
            }
          }
          break;
        case Cell.Digits:
          if (c >= 48 && c <= 57) {
            this.value = Math.min(MAX_VALUE, this.value * 10 + (c - 48));
          } else if (isBlank(c)) {
            this.cell = Cell.After;
          } else {
            this.cell = Cell.Bad;
            this.badText = String(this.value) + String.fromCharCode(c);
          }
          break;
        case Cell.After:
          if (!isBlank(c)) {
            this.cell = Cell.Bad;
            this.badText = `${this.value} ${String.fromCharCode(c)}`;
          }
          break;
        case Cell.Bad:
          if (this.badText.length < 40) this.badText += String.fromCharCode(c);
          break;
        case Cell.Extra:
          break;
      }
    }
  }

  end(): RawLabelledImages {
    if (this.lineHasContent || this.line === Line.Header) this.endLine();
    if (this.rows === 0) {
      this.fail(this.hasHeader ? 'CSV file has a header row but no data rows' : 'CSV file has no data rows (it is empty)');
    }
    const count = this.rows;
    const pixels = this.pixels.length === count * PIXELS ? this.pixels : this.pixels.slice(0, count * PIXELS);
    const labels = this.labels.length === count ? this.labels : this.labels.slice(0, count);
    return { pixels, labels, count, height: IMAGE_HEIGHT, width: IMAGE_WIDTH, hasHeader: this.hasHeader };
  }
}

function estimateRows(buf: Uint8Array): number {
  // one image row is at least 785 cells ≈ 1570 bytes; Kaggle's rows average ~2.2 kB
  return Math.max(16, Math.ceil(buf.length / 1500));
}

/** Parses a whole (decompressed) Fashion-MNIST CSV file synchronously. */
export function parseCsvImages(buf: Uint8Array, file: string): RawLabelledImages {
  const parser = new CsvImageParser(file, estimateRows(buf));
  parser.push(buf);
  return parser.end();
}

/** Like {@link parseCsvImages}, but gives the event loop a turn every few megabytes. */
export async function parseCsvImagesAsync(buf: Uint8Array, file: string, sliceBytes = 8 << 20): Promise<RawLabelledImages> {
  const parser = new CsvImageParser(file, estimateRows(buf));
  for (let off = 0; off < buf.length; off += sliceBytes) {
    parser.push(buf.subarray(off, Math.min(buf.length, off + sliceBytes)));
    if (off + sliceBytes < buf.length) await yieldToEventLoop();
  }
  return parser.end();
}
