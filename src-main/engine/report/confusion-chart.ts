import { extname } from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';
import { writeFileAtomic, type WriteOptions } from '../files';
import type { RunRecord } from '../store/types';

export interface ConfusionChartInput {
  /** confusion[trueLabel][predictedLabel], C × C (see EvaluationReport.confusion). */
  confusion: number[][];
  classNames: string[];
  title: string;
  subtitle?: string;
  /** Show each row as fractions of its true-label total (per-class recall on the diagonal) instead of counts. */
  normalize?: boolean;
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

export const DEFAULT_WIDTH = 820;
export const DEFAULT_HEIGHT = 760;
const DEFAULT_SCALE = 2;

/**
 * Font stack written into the SVG. resvg picks the first family it finds; the list covers Linux
 * (fonts-dejavu-core / fonts-liberation), macOS and Windows.
 */
export const FONT_STACK = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, 'Noto Sans', sans-serif";

/** Sequential blue palette (ColorBrewer "Blues"): light → dark, also legible in greyscale print. */
const BLUES = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];

function checkInput(input: ConfusionChartInput): void {
  const n = input.classNames.length;
  if (n === 0) throw new RangeError('confusion chart: classNames is empty');
  if (input.confusion.length !== n || input.confusion.some((row) => row.length !== n)) {
    throw new RangeError(`confusion chart: the matrix must be ${n} × ${n} to match classNames`);
  }
}

function cellValues(input: ConfusionChartInput): number[][] {
  if (!input.normalize) return input.confusion.map((row) => [...row]);
  return input.confusion.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total === 0 ? 0 : v / total));
  });
}

/** Font sizes and label widths that depend on the number of classes and the longest class name. */
interface Layout {
  n: number;
  normalize: boolean;
  /** Largest cell value (1 when normalised): the top of the colour scale. */
  max: number;
  cellFont: number;
  axisFont: number;
  longest: number;
}

/**
 * ECharts option for a confusion-matrix heatmap: predicted label on x, true label on y (first class at the top),
 * the value written in every cell, a colour scale legend, white background, no animation. The option is plain
 * data (no formatter functions), so it can also be sent to the renderer over IPC.
 */
export function confusionChartOption(input: ConfusionChartInput): EChartsOption {
  checkInput(input);
  const { classNames, normalize = false } = input;
  const n = classNames.length;
  const values = cellValues(input);
  const layout: Layout = {
    n,
    normalize,
    max: normalize ? 1 : Math.max(1, ...values.flat()),
    cellFont: n <= 10 ? 13 : n <= 15 ? 11 : n <= 25 ? 9 : 7,
    axisFont: n <= 15 ? 13 : 10,
    longest: Math.max(...classNames.map((c) => c.length)),
  };
  return {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: FONT_STACK, color: '#1a1a1a' },
    title: {
      text: input.title,
      subtext: input.subtitle,
      left: 'center',
      top: 10,
      textStyle: { fontFamily: FONT_STACK, fontSize: 17, fontWeight: 'bold', color: '#1a1a1a' },
      subtextStyle: { fontFamily: FONT_STACK, fontSize: 12, color: '#4a4a4a' },
    },
    grid: {
      left: 40,
      right: 110,
      top: input.subtitle ? 78 : 58,
      bottom: 24,
      outerBoundsMode: 'same',
      outerBoundsContain: 'all',
    },
    ...axes(classNames, layout),
    visualMap: colourScale(layout),
    series: [
      {
        type: 'heatmap',
        data: cells(values, layout),
        label: { show: true, fontSize: layout.cellFont },
        itemStyle: { borderColor: '#ffffff', borderWidth: 1 },
        emphasis: { disabled: true },
      },
    ],
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
        label: { formatter: text, color: v > max * 0.45 ? '#ffffff' : '#1a1a1a' },
      });
    }
  }
  return data;
}

/** Predicted labels along x (rotated when long), true labels down y; the name gaps leave room for the labels. */
function axes(classNames: string[], { normalize, axisFont, longest }: Layout): Pick<EChartsOption, 'xAxis' | 'yAxis'> {
  return {
    xAxis: {
      type: 'category',
      data: classNames,
      name: normalize ? 'Predicted label (fraction of each true label)' : 'Predicted label',
      nameLocation: 'middle',
      nameGap: longest > 6 ? 18 + Math.min(longest, 14) * 5 : 30,
      nameTextStyle: { fontSize: 14, fontWeight: 'bold', color: '#1a1a1a' },
      axisLabel: { interval: 0, rotate: longest > 6 ? 35 : 0, fontSize: axisFont, color: '#1a1a1a' },
      axisTick: { alignWithLabel: true },
      axisLine: { show: false },
      splitArea: { show: false },
    },
    yAxis: {
      type: 'category',
      data: classNames,
      inverse: true,
      name: 'True label',
      nameLocation: 'middle',
      nameRotate: 90,
      nameGap: 16 + Math.min(longest, 14) * 7.5,
      nameTextStyle: { fontSize: 14, fontWeight: 'bold', color: '#1a1a1a' },
      axisLabel: { interval: 0, fontSize: axisFont, color: '#1a1a1a' },
      axisTick: { alignWithLabel: true },
      axisLine: { show: false },
      splitArea: { show: false },
    },
  };
}

/** The colour legend: 0 … max in the Blues palette, its end values written above and below. */
function colourScale({ normalize, max }: Layout): EChartsOption['visualMap'] {
  return {
    type: 'continuous',
    min: 0,
    max,
    precision: normalize ? 2 : 0,
    calculable: false,
    orient: 'vertical',
    right: 24,
    top: 'middle',
    itemHeight: 260,
    itemWidth: 16,
    text: [normalize ? '1' : String(max), '0'],
    showLabel: false,
    textStyle: { fontSize: 12, color: '#1a1a1a' },
    inRange: { color: BLUES },
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

/** Renders the confusion heatmap to an SVG string with ECharts' server-side renderer (no DOM needed). */
export function renderConfusionSvg(input: ConfusionChartInput, size: RenderSize = {}): string {
  const width = size.width ?? DEFAULT_WIDTH;
  const height = size.height ?? DEFAULT_HEIGHT;
  if (!(width > 0 && height > 0)) throw new RangeError(`invalid chart size ${width} × ${height}`);
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(confusionChartOption(input));
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
 * Rasterises an SVG with resvg. System fonts are loaded (resvg draws no text without fonts: on a bare Linux
 * machine install `fonts-dejavu-core`), generic `sans-serif` and unknown families fall back to a
 * platform family. The background is white.
 */
export function svgToPng(svg: string, opts: PngOptions = {}): Buffer {
  const scale = opts.scale ?? DEFAULT_SCALE;
  if (!(scale > 0)) throw new RangeError(`invalid PNG scale ${scale}`);
  const family = platformSansFamily();
  const options: ResvgRenderOptions = {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: {
      loadSystemFonts: true,
      fontFiles: opts.fontFiles,
      defaultFontFamily: family,
      sansSerifFamily: family,
    },
    logLevel: 'off',
  };
  return new Resvg(svg, options).render().asPng();
}

const pct1 = (x: number): string => `${(x * 100).toFixed(1)}%`;
const fmt3 = (x: number): string => x.toFixed(3);

/** Parameters that go into the subtitle rather than the title. */
const MINOR_PARAMS = new Set(['maxIter', 'tol', 'trainLimit', 'testLimit']);
/** Shown elsewhere: the task and k in the title, the backend actually used (run.backend) in the subtitle. */
const SKIPPED_PARAMS = new Set(['task', 'k', 'backend']);

function paramText(key: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return `${key}=${value}`;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number' || typeof v === 'string')) return `${key}=[${value.join(',')}]`;
  return null;
}

/**
 * Title and subtitle of a run's confusion chart, e.g.
 * "kmeans — k=10, nInit=10, seed=0 — accuracy 54.6%" and "Run #3 · NMI 0.512 · ARI 0.368 · 10000 images · …".
 */
export function confusionTitleForRun(run: RunRecord): { title: string; subtitle: string } {
  const ev = run.evaluation;
  if (!ev) throw new Error(`Run #${run.id} has no evaluation`);
  const params = run.params ?? {};
  const k = typeof params.k === 'number' ? params.k : ev.mapping.length;
  const key: string[] = [];
  const minor: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (SKIPPED_PARAMS.has(name)) continue;
    const text = paramText(name, value);
    if (!text) continue;
    (MINOR_PARAMS.has(name) ? minor : key).push(text);
  }
  // Seed last among the key parameters; keep the title to one line.
  key.sort((a, b) => Number(a.startsWith('seed=')) - Number(b.startsWith('seed=')));
  const shown = key.length > 4 ? [...key.slice(0, 3), key[key.length - 1]] : key;
  const hidden = key.length > 4 ? key.slice(3, key.length - 1) : [];
  const acc = run.metrics?.accuracy ?? ev.accuracy;
  const nmi = run.metrics?.nmi ?? ev.nmi;
  const ari = run.metrics?.ari ?? ev.ari;
  const evalSize = ev.clusterSizes.reduce((a, b) => a + b, 0);
  const title = `${run.task} — ${[`k=${k}`, ...shown].join(', ')} — accuracy ${pct1(acc)}`;
  const subtitle = [
    `Run #${run.id}`,
    `NMI ${fmt3(nmi)}`,
    `ARI ${fmt3(ari)}`,
    `${evalSize} evaluated images`,
    [...hidden, ...minor, `backend ${run.backend}`].join(' '),
  ].join(' · ');
  return { title, subtitle };
}

export interface ExportOptions extends RenderSize, PngOptions, WriteOptions {
  normalize?: boolean;
}

/**
 * Writes the confusion matrix of a run as a figure: SVG or PNG, chosen by the extension of `outFile`
 * (.svg / .png; anything else is an error). Fails when the run has no evaluation (e.g. a failed run).
 * The file is written to a temporary name in the same folder and renamed into place, so a reader never
 * sees a partial figure (`overwrite: false` refuses a file already there; see writeFileAtomic).
 */
export async function exportConfusion(run: RunRecord, outFile: string, opts: ExportOptions = {}): Promise<void> {
  const ext = extname(outFile).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') {
    throw new Error(`Cannot export a confusion matrix to "${outFile}": unsupported extension "${ext || '(none)'}" — use .svg or .png`);
  }
  const ev = run.evaluation;
  if (!ev) {
    const why = run.error ? `: ${run.error}` : '';
    throw new Error(`Run #${run.id} (${run.status}${why}) has no evaluation, so there is no confusion matrix to export`);
  }
  const { title, subtitle } = confusionTitleForRun(run);
  const svg = renderConfusionSvg(
    { confusion: ev.confusion, classNames: ev.classNames, title, subtitle, normalize: opts.normalize },
    { width: opts.width, height: opts.height },
  );
  const content = ext === '.svg' ? svg : svgToPng(svg, { scale: opts.scale, fontFiles: opts.fontFiles });
  await writeFileAtomic(outFile, content, { overwrite: opts.overwrite });
}
