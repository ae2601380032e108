import { extname } from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';
import { writeFileAtomic, type WriteOptions } from '../files';
import { PARAM_NAMES, specOf, type ParamName } from '../schema/param-table';
import type { RunRecord } from '../store/types';
import { figureFont, fontStack, loadPdfKit, loadSvgToPdf, textWidth, useFigureFontMetrics } from './figure-fonts';
import {
  cellFontScale,
  FIGURE_BACKGROUND,
  FIGURE_BLUES,
  FIGURE_FONT,
  FIGURE_HEIGHT,
  FIGURE_MUTED,
  FIGURE_TEXT,
  FIGURE_TEXT_SCALE,
  FIGURE_WIDTH,
  POINTS_PER_UNIT,
  type FigureUnit,
} from './figure-style';

export interface ConfusionChartInput {
  /** confusion[trueLabel][predictedLabel], C × C (see EvaluationReport.confusion). */
  confusion: number[][];
  classNames: string[];
  title: string;
  /** Items separated by " · " (the figure wraps between items to fit its width). */
  subtitle?: string;
  /** Show each row as fractions of its true-label total (per-class recall on the diagonal) instead of counts. */
  normalize?: boolean;
  /** false: no title and subtitle (the paper's caption says it). Default true. */
  showTitle?: boolean;
  /** false: the classes numbered 0 … C−1 on the axes instead of named. Default true. */
  showClassNames?: boolean;
  /** Base text size in canvas px (= pt when the canvas is a physical size); default from the canvas width. */
  fontSize?: number;
}

export interface RenderSize {
  width?: number;
  height?: number;
}

export interface PngOptions {
  /** Pixel density: the PNG is (SVG width × scale) × (SVG height × scale). Default 2 (print quality). */
  scale?: number;
  /** Extra font files to load besides the system fonts (e.g. when the machine has none). */
  fontFiles?: string[];
}

/** A figure's physical size; its canvas is then in points (1 px of the SVG = 1 pt) and the PNG is at `dpi`. */
export interface PhysicalSize {
  width: number;
  height: number;
  unit: FigureUnit;
  dpi?: number;
}

export const DEFAULT_WIDTH = FIGURE_WIDTH;
export const DEFAULT_HEIGHT = FIGURE_HEIGHT;
const DEFAULT_SCALE = 2;
const DEFAULT_DPI = 300;
/** Bounds of a canvas side (px or pt) and of a PNG's pixel count: anything from outside is bounded first. */
export const CANVAS_MIN = 120;
export const CANVAS_MAX = 4000;
const MAX_PNG_PIXELS = 60_000_000;
export const FONT_MIN = 4;
export const FONT_MAX = 48;

/** Font stack written into the SVG (the figure font first: see figure-fonts.ts). */
export const FONT_STACK = fontStack();

function checkInput(input: ConfusionChartInput): void {
  const n = input.classNames.length;
  if (n === 0) throw new RangeError('confusion chart: classNames is empty');
  if (input.confusion.length !== n || input.confusion.some((row) => row.length !== n)) {
    throw new RangeError(`confusion chart: the matrix must be ${n} × ${n} to match classNames`);
  }
  if (input.fontSize !== undefined && !(input.fontSize >= FONT_MIN && input.fontSize <= FONT_MAX)) {
    throw new RangeError(`font size ${input.fontSize} is outside ${FONT_MIN}–${FONT_MAX} (pt with a physical size, else px)`);
  }
}

function cellValues(input: ConfusionChartInput): number[][] {
  if (!input.normalize) return input.confusion.map((row) => [...row]);
  return input.confusion.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total === 0 ? 0 : v / total));
  });
}

/** Width of `text` in the figure font; ECharts' rough estimate when this machine has none. */
function measure(text: string, size: number, bold = false): number {
  return textWidth(text, size, bold) ?? text.length * size * 0.62;
}

/**
 * Greedy wrap of `text` between its `sep`-separated items into lines no wider than `maxWidth`; an item wider than a
 * line on its own is broken between characters. Measured with the font the figure is drawn with.
 */
export function wrapText(text: string, sep: string, size: number, bold: boolean, maxWidth: number): string[] {
  const fits = (s: string) => measure(s, size, bold) <= maxWidth;
  const pieces: string[] = [];
  for (const item of text.split(sep)) {
    if (fits(item)) {
      pieces.push(item);
      continue;
    }
    let part = '';
    for (const ch of item) {
      if (part && !fits(part + ch)) {
        pieces.push(part);
        part = '';
      }
      part += ch;
    }
    if (part) pieces.push(part);
  }
  const lines: string[] = [];
  let line = '';
  for (const piece of pieces) {
    const joined = line ? line + sep + piece : piece;
    if (line && !fits(joined)) {
      lines.push(line);
      line = piece;
    } else line = joined;
  }
  if (line) lines.push(line);
  return lines;
}

/** Font sizes and margins of one figure, all from its canvas and base font size. */
interface Layout {
  n: number;
  normalize: boolean;
  /** Largest cell value (1 when normalised): the top of the colour scale. */
  max: number;
  font: number;
  cellFont: number;
  axisFont: number;
  nameFont: number;
  labels: string[];
  longest: number;
}

/** The base font size a canvas gets when none is asked: 13 px on the default canvas, 8 pt one column wide. */
function defaultFont(width: number): number {
  return Math.min(FIGURE_FONT, Math.max(8, Math.round(width / 63)));
}

/**
 * ECharts option for a confusion-matrix heatmap: predicted label on x, true label on y (first class at the top),
 * the value written in every cell, a colour scale legend, white background, no animation. Every text is measured
 * with the figure font and kept inside the canvas: the title and subtitle wrap to its width. The option is plain
 * data (no formatter functions), so it can also be sent to the renderer over IPC.
 */
export function confusionChartOption(input: ConfusionChartInput, size: RenderSize = {}): EChartsOption {
  checkInput(input);
  useFigureFontMetrics();
  const width = size.width ?? DEFAULT_WIDTH;
  const height = size.height ?? DEFAULT_HEIGHT;
  const { classNames, normalize = false } = input;
  const n = classNames.length;
  const values = cellValues(input);
  const font = input.fontSize ?? defaultFont(width);
  const labels = input.showClassNames === false ? classNames.map((_, i) => String(i)) : classNames;
  const axisFont = font * FIGURE_TEXT_SCALE.axisLabel * (n <= 15 ? 1 : 0.8);
  const layout: Layout = {
    n,
    normalize,
    max: normalize ? 1 : Math.max(1, ...values.flat()),
    font,
    cellFont: font * cellFontScale(n),
    axisFont,
    nameFont: font * FIGURE_TEXT_SCALE.axisName,
    labels,
    longest: Math.max(...labels.map((c) => measure(c, axisFont))),
  };
  const head = titleBlock(input, width, height, font);
  const gridTop = head.height + font * 1.2;
  const space = legendSpace(layout);
  const { xLabelHeight, ...xAxes } = axes(layout, width - space);
  // the plot ends above the x labels and the axis name: the colour bar spans at most that
  const plotBottom = height - font * 0.8 - xLabelHeight - LABEL_MARGIN - layout.nameFont * 1.4;
  const legend = colourScale(layout, gridTop, plotBottom);
  layout.cellFont = cellFont(layout, values, width - space);
  return {
    animation: false,
    backgroundColor: FIGURE_BACKGROUND,
    textStyle: { fontFamily: FONT_STACK, color: FIGURE_TEXT },
    ...(head.title ? { title: head.title } : {}),
    grid: {
      left: font * 0.8,
      right: space,
      top: gridTop,
      bottom: font * 0.8,
      outerBoundsMode: 'same',
      outerBoundsContain: 'all',
    },
    ...xAxes,
    visualMap: legend,
    series: [
      {
        type: 'heatmap',
        data: cells(values, layout),
        label: { show: layout.cellFont > 0, fontSize: layout.cellFont },
        itemStyle: { borderColor: FIGURE_BACKGROUND, borderWidth: 1 },
        emphasis: { disabled: true },
      },
    ],
  };
}

/**
 * The title and subtitle wrapped to the canvas width, and the height they take from the top. The block takes at
 * most a quarter of the canvas: a long subtitle is set smaller (down to 70 % of its size), then ends with "…" where
 * it would take more (a one-column figure keeps its title; the paper's caption carries the parameters).
 */
function titleBlock(
  input: ConfusionChartInput,
  width: number,
  height: number,
  font: number,
): { title?: EChartsOption['title']; height: number } {
  if (input.showTitle === false) return { height: 0 };
  const titleFont = font * FIGURE_TEXT_SCALE.title;
  const room = width - 2 * font;
  const titleLines = wrapText(input.title, ' — ', titleFont, true, room);
  const titleLh = Math.ceil(titleFont * 1.25);
  const top = Math.round(font * 0.8);
  const budget = height * 0.25 - top - titleLines.length * titleLh;
  let subFont = font * FIGURE_TEXT_SCALE.subtitle;
  let subLines = input.subtitle ? wrapText(input.subtitle, ' · ', subFont, false, room) : [];
  const lineHeight = (size: number) => Math.ceil(size * 1.4);
  while (subLines.length * lineHeight(subFont) > budget && subFont > font * FIGURE_TEXT_SCALE.subtitle * 0.7) {
    subFont *= 0.92;
    subLines = wrapText(input.subtitle!, ' · ', subFont, false, room);
  }
  const keep = Math.max(0, Math.floor(budget / lineHeight(subFont)));
  if (subLines.length > keep) {
    subLines = subLines.slice(0, keep);
    if (keep > 0) {
      const last = subLines[keep - 1].split(' · ');
      while (last.length > 1 && measure(`${last.join(' · ')} · …`, subFont) > room) last.pop();
      subLines[keep - 1] = `${last.join(' · ')} · …`;
    }
  }
  const subLh = lineHeight(subFont);
  const gap = subLines.length ? Math.round(font * 0.4) : 0;
  return {
    title: {
      text: titleLines.join('\n'),
      subtext: subLines.join('\n') || undefined,
      left: 'center',
      top,
      itemGap: gap,
      textStyle: { fontFamily: FONT_STACK, fontSize: titleFont, lineHeight: titleLh, fontWeight: 'bold', color: FIGURE_TEXT },
      subtextStyle: { fontFamily: FONT_STACK, fontSize: subFont, lineHeight: subLh, color: FIGURE_MUTED },
    },
    height: top + titleLines.length * titleLh + gap + subLines.length * subLh,
  };
}

/** One heatmap item per cell, its value written in white on dark cells, in near-black on light ones. */
function cells(values: number[][], { n, normalize, max }: Layout) {
  const data = [];
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      const v = values[t][p];
      const text = normalize ? v.toFixed(2) : String(v);
      data.push({
        value: [p, t, v],
        label: { formatter: text, color: v > max * 0.45 ? '#ffffff' : FIGURE_TEXT },
      });
    }
  }
  return data;
}

/**
 * The cell values' size: the style's size for n classes, smaller where the widest value would not fit its cell
 * (measured); 0 (no values written) where it would be under 4.5 px.
 */
function cellFont(layout: Layout, values: number[][], plotRight: number): number {
  const { n, normalize, font, longest, nameFont, cellFont: wanted } = layout;
  const cell = (plotRight - font * 0.8 - longest - LABEL_MARGIN - nameFont * 1.3) / n;
  const widest = values.flat().reduce((w, v) => Math.max(w, measure(normalize ? v.toFixed(2) : String(v), wanted)), 0);
  const size = widest > cell * 0.88 ? (wanted * cell * 0.88) / widest : wanted;
  return size < 4.5 ? 0 : size;
}

const LABEL_MARGIN = 8;
const ROTATE = 35;

/**
 * Predicted labels along x (rotated when wider than a cell), true labels down y; the name gaps are the measured
 * extent of the labels, so the names sit clear of them (the grid then shrinks to keep all inside the canvas).
 */
function axes(layout: Layout, plotRight: number): Pick<EChartsOption, 'xAxis' | 'yAxis'> & { xLabelHeight: number } {
  const { n, normalize, axisFont, nameFont, longest, labels } = layout;
  const cell = (plotRight - longest - nameFont * 3) / n;
  const rotate = longest > cell * 0.92 ? ROTATE : 0;
  const rad = (ROTATE * Math.PI) / 180;
  const xLabelHeight = rotate ? longest * Math.sin(rad) + axisFont * Math.cos(rad) : axisFont;
  const nameStyle = { fontSize: nameFont, fontWeight: 'bold' as const, color: FIGURE_TEXT };
  return {
    xLabelHeight,
    xAxis: {
      type: 'category',
      data: labels,
      name: normalize ? 'Predicted label (fraction of each true label)' : 'Predicted label',
      nameLocation: 'middle',
      nameGap: xLabelHeight + LABEL_MARGIN + nameFont,
      nameTextStyle: nameStyle,
      axisLabel: { interval: 0, rotate, margin: LABEL_MARGIN, fontSize: axisFont, color: FIGURE_TEXT },
      axisTick: { alignWithLabel: true },
      axisLine: { show: false },
      splitArea: { show: false },
    },
    yAxis: {
      type: 'category',
      data: labels,
      inverse: true,
      name: 'True label',
      nameLocation: 'middle',
      nameRotate: 90,
      nameGap: longest + LABEL_MARGIN + nameFont * 0.9,
      nameTextStyle: nameStyle,
      axisLabel: { interval: 0, margin: LABEL_MARGIN, fontSize: axisFont, color: FIGURE_TEXT },
      axisTick: { alignWithLabel: true },
      axisLine: { show: false },
      splitArea: { show: false },
    },
  };
}

/** The room the colour legend takes at the right: its inset, the bar or its widest end value, a gap. */
function legendSpace({ normalize, max, font }: Layout): number {
  const legendFont = font * FIGURE_TEXT_SCALE.legend;
  const ends = Math.max(measure(normalize ? '1' : String(max), legendFont), measure('0', legendFont));
  return Math.round(font * 1.4) + Math.max(Math.round(font * 1.2), ends) + font * 1.6;
}

/** The colour legend: 0 … max in the Blues palette, its end values written above and below, between `top` and `bottom`. */
function colourScale({ normalize, max, font }: Layout, top: number, bottom: number): EChartsOption['visualMap'] {
  const legendFont = font * FIGURE_TEXT_SCALE.legend;
  // the end values above and below the bar; 15 % slack for ECharts shrinking the grid to contain its labels
  const room = (bottom - top - legendFont * 3.2) * 0.85;
  return {
    type: 'continuous',
    min: 0,
    max,
    precision: normalize ? 2 : 0,
    calculable: false,
    orient: 'vertical',
    right: Math.round(font * 1.4),
    top: top + legendFont * 1.6 + Math.max(0, room - Math.min(260, room)) / 2,
    itemHeight: Math.round(Math.max(legendFont * 3, Math.min(260, room))),
    itemWidth: Math.round(font * 1.2),
    text: [normalize ? '1' : String(max), '0'],
    showLabel: false,
    textStyle: { fontSize: legendFont, color: FIGURE_TEXT },
    inRange: { color: FIGURE_BLUES },
  };
}

/**
 * A figure has no pointer: the server-side renderer's `:hover` rules are dropped (for the colour bar's gradient it
 * writes `fill:[object Object]`, which is not CSS). A style block holding anything else is kept.
 */
function withoutHoverStyles(svg: string): string {
  return svg.replace(/<style\b[^>]*>\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*<\/style>/g, (block, css: string) =>
    css.replace(/[^{}]*:hover\s*\{[^}]*\}/g, '').trim() === '' ? '' : block,
  );
}

function checkCanvas(width: number, height: number): void {
  if (!(width >= CANVAS_MIN && width <= CANVAS_MAX && height >= CANVAS_MIN && height <= CANVAS_MAX)) {
    throw new RangeError(`invalid chart size ${width} × ${height}: each side must be ${CANVAS_MIN}–${CANVAS_MAX} px (or pt)`);
  }
}

/** Renders the confusion heatmap to an SVG string with ECharts' server-side renderer (no DOM needed). */
export function renderConfusionSvg(input: ConfusionChartInput, size: RenderSize = {}): string {
  const width = size.width ?? DEFAULT_WIDTH;
  const height = size.height ?? DEFAULT_HEIGHT;
  checkCanvas(width, height);
  const option = confusionChartOption(input, { width, height });
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option);
    return withoutHoverStyles(chart.renderToSVGString());
  } finally {
    chart.dispose();
  }
}

/** The family resvg should fall back to, per platform (a family that usually exists there). */
function platformSansFamily(): string {
  if (process.platform === 'darwin') return 'Helvetica';
  if (process.platform === 'win32') return 'Arial';
  return 'DejaVu Sans'; // Debian/Ubuntu: fonts-dejavu-core
}

/**
 * Rasterises an SVG with resvg. The figure font's files and the system fonts are loaded (resvg draws no text
 * without fonts: on a bare Linux machine install `fonts-dejavu-core`), generic `sans-serif` and unknown families
 * fall back to the figure font. The background is white.
 */
export function svgToPng(svg: string, opts: PngOptions = {}): Buffer {
  const scale = opts.scale ?? DEFAULT_SCALE;
  if (!(scale > 0)) throw new RangeError(`invalid PNG scale ${scale}`);
  const font = figureFont();
  const family = font?.family ?? platformSansFamily();
  const options: ResvgRenderOptions = {
    fitTo: { mode: 'zoom', value: scale },
    background: FIGURE_BACKGROUND,
    font: {
      loadSystemFonts: true,
      fontFiles: [...(font ? [font.regular, font.bold] : []), ...(opts.fontFiles ?? [])],
      defaultFontFamily: family,
      sansSerifFamily: family,
    },
    logLevel: 'off',
  };
  return new Resvg(svg, options).render().asPng();
}

/**
 * A vector PDF of an SVG, one page `widthPt` × `heightPt` points, the SVG scaled to fill it (svg-to-pdfkit). Text
 * stays text, in the figure font embedded (the SVG's width-based layout was measured with it).
 */
export function svgToPdf(svg: string, widthPt: number, heightPt: number): Promise<Buffer> {
  const PDFDocument = loadPdfKit();
  const SVGtoPDF = loadSvgToPdf();
  const doc = new PDFDocument({ size: [widthPt, heightPt], margin: 0, info: { Title: 'Confusion matrix', Creator: 'Clusterbench' } });
  const font = figureFont();
  if (font) {
    doc.registerFont('figure', font.regular);
    doc.registerFont('figure-bold', font.bold);
  }
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  SVGtoPDF(doc, svg, 0, 0, {
    width: widthPt,
    height: heightPt,
    preserveAspectRatio: 'xMidYMid meet',
    fontCallback: (_family, bold) => (font ? (bold ? 'figure-bold' : 'figure') : bold ? 'Helvetica-Bold' : 'Helvetica'),
  });
  doc.end();
  return done;
}

const pct1 = (x: number): string => `${(x * 100).toFixed(1)}%`;
const fmt3 = (x: number): string => x.toFixed(3);

/** Shown elsewhere: the task and k in the title, the backend actually used (run.backend) in the subtitle. */
const SKIPPED_PARAMS = new Set(['task', 'k', 'backend']);

/** "Batch size 256", "Encoder layers 500-500-2000", "Early-stopping patience off": the parameter table's names. */
function paramText(key: string, value: unknown): string | null {
  const spec = PARAM_NAMES.includes(key as ParamName) ? specOf(key as ParamName) : null;
  const label = spec?.label ?? key;
  if (value === undefined) return null;
  if (value === null) return spec?.unset ? `${label} ${spec.unset}` : null;
  if (typeof value === 'boolean') return `${label} ${value ? 'on' : 'off'}`;
  if (typeof value === 'number' || typeof value === 'string') return `${label} ${value}`;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number' || typeof v === 'string')) return `${label} ${value.join('-')}`;
  return null;
}

/**
 * Title and subtitle of a run's confusion chart, e.g. "kmeans — k=10 — accuracy 54.6%" and
 * "Run #3 · NMI 0.512 · ARI 0.368 · 10000 evaluated images · backend wasm · n_init 10 · Seed 0 · …": every
 * parameter, named as in the parameter table. The figure wraps the subtitle between its " · " items.
 */
export function confusionTitleForRun(run: RunRecord): { title: string; subtitle: string } {
  const ev = run.evaluation;
  if (!ev) throw new Error(`Run #${run.id} has no evaluation`);
  const params = run.params ?? {};
  const k = typeof params.k === 'number' ? params.k : ev.mapping.length;
  const shown = Object.entries(params).flatMap(([name, value]) => (SKIPPED_PARAMS.has(name) ? [] : [paramText(name, value) ?? []].flat()));
  const acc = run.metrics?.accuracy ?? ev.accuracy;
  const nmi = run.metrics?.nmi ?? ev.nmi;
  const ari = run.metrics?.ari ?? ev.ari;
  const evalSize = ev.clusterSizes.reduce((a, b) => a + b, 0);
  const title = `${run.task} — k=${k} — accuracy ${pct1(acc)}`;
  const subtitle = [
    `Run #${run.id}`,
    `NMI ${fmt3(nmi)}`,
    `ARI ${fmt3(ari)}`,
    `${evalSize} evaluated images`,
    `backend ${run.backend}`,
    ...shown,
  ].join(' · ');
  return { title, subtitle };
}

export type FigureFormat = 'svg' | 'png' | 'pdf';

/** What a researcher chooses of a confusion figure (the export.confusion request and `export confusion` flags). */
export interface FigureOptions extends RenderSize {
  normalize?: boolean;
  showTitle?: boolean;
  showClassNames?: boolean;
  /** Base text size: pt with a physical size, else canvas px. */
  fontSize?: number;
  /** A physical size (and the PNG's dpi); `width`/`height` (px) are then ignored. */
  physical?: PhysicalSize;
  /** PNG pixel density over the canvas (ignored with a physical size, which uses its dpi). Default 2. */
  scale?: number;
  fontFiles?: string[];
}

/** The canvas (px, = pt with a physical size), the PNG's scale over it and the PDF page in points. */
export function figureCanvas(opts: FigureOptions): {
  width: number;
  height: number;
  pngScale: number;
  pageWidthPt: number;
  pageHeightPt: number;
} {
  if (opts.physical) {
    const { width, height, unit, dpi = DEFAULT_DPI } = opts.physical;
    const w = width * POINTS_PER_UNIT[unit];
    const h = height * POINTS_PER_UNIT[unit];
    const [lo, hi] = [CANVAS_MIN / POINTS_PER_UNIT[unit], CANVAS_MAX / POINTS_PER_UNIT[unit]];
    if (!(w >= CANVAS_MIN && w <= CANVAS_MAX && h >= CANVAS_MIN && h <= CANVAS_MAX)) {
      throw new RangeError(`figure size ${width} × ${height} ${unit}: each side must be ${+lo.toFixed(2)}–${+hi.toFixed(1)} ${unit}`);
    }
    if (!(dpi >= 72 && dpi <= 1200)) throw new RangeError(`invalid dpi ${dpi}: must be 72–1200`);
    const scale = dpi / 72;
    if (w * scale * h * scale > MAX_PNG_PIXELS)
      throw new RangeError(
        `a ${width} × ${height} ${unit} figure at ${dpi} dpi is too many pixels (over ${MAX_PNG_PIXELS / 1e6} million): lower the dpi or the size`,
      );
    return { width: w, height: h, pngScale: scale, pageWidthPt: w, pageHeightPt: h };
  }
  const width = opts.width ?? DEFAULT_WIDTH;
  const height = opts.height ?? DEFAULT_HEIGHT;
  checkCanvas(width, height);
  // A px canvas is CSS px: 96 per inch, so its PDF page is ¾ of it in points.
  return { width, height, pngScale: opts.scale ?? DEFAULT_SCALE, pageWidthPt: width * 0.75, pageHeightPt: height * 0.75 };
}

/** A confusion figure's bytes in one format: the SVG, the PNG of that SVG, or the PDF of that SVG. */
export async function renderConfusionFigure(input: ConfusionChartInput, format: FigureFormat, opts: FigureOptions = {}): Promise<Buffer> {
  const canvas = figureCanvas(opts);
  const svg = renderConfusionSvg(
    {
      ...input,
      normalize: opts.normalize ?? input.normalize,
      showTitle: opts.showTitle,
      showClassNames: opts.showClassNames,
      fontSize: opts.fontSize,
    },
    { width: canvas.width, height: canvas.height },
  );
  if (format === 'svg') return Buffer.from(svg, 'utf8');
  if (format === 'png') return svgToPng(svg, { scale: canvas.pngScale, fontFiles: opts.fontFiles });
  return svgToPdf(svg, canvas.pageWidthPt, canvas.pageHeightPt);
}

/** A run's confusion matrix as a figure (fails for a run without evaluation, e.g. a failed run). */
export function runConfusionFigure(run: RunRecord, format: FigureFormat, opts: FigureOptions = {}): Promise<Buffer> {
  const ev = run.evaluation;
  if (!ev) {
    const why = run.error ? `: ${run.error}` : '';
    throw new Error(`Run #${run.id} (${run.status}${why}) has no evaluation, so there is no confusion matrix to export`);
  }
  const { title, subtitle } = confusionTitleForRun(run);
  return renderConfusionFigure({ confusion: ev.confusion, classNames: ev.classNames, title, subtitle }, format, opts);
}

export interface ExportOptions extends FigureOptions, WriteOptions {}

/**
 * Writes the confusion matrix of a run as a figure: SVG, PNG or PDF, chosen by the extension of `outFile`
 * (anything else is an error). Fails when the run has no evaluation (e.g. a failed run).
 * The file is written to a temporary name in the same folder and renamed into place, so a reader never
 * sees a partial figure (`overwrite: false` refuses a file already there; see writeFileAtomic).
 */
export async function exportConfusion(run: RunRecord, outFile: string, opts: ExportOptions = {}): Promise<void> {
  const ext = extname(outFile).toLowerCase();
  if (ext !== '.svg' && ext !== '.png' && ext !== '.pdf') {
    throw new Error(
      `Cannot export a confusion matrix to "${outFile}": unsupported extension "${ext || '(none)'}" — use .svg, .png or .pdf`,
    );
  }
  const content = await runConfusionFigure(run, ext.slice(1) as FigureFormat, opts);
  await writeFileAtomic(outFile, content, { overwrite: opts.overwrite });
}
