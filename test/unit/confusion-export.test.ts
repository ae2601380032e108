import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../../src-main/engine/metrics/types';
import {
  confusionChartOption,
  confusionTitleForRun,
  DEFAULT_HEIGHT,
  DEFAULT_WIDTH,
  exportConfusion,
  renderConfusionSvg,
  svgToPng,
} from '../../src-main/engine/report/index';
import type { RunRecord } from '../../src-main/engine/store/types';

const NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** A 10-class confusion matrix with distinct, recognisable values: diagonal 500 + i, off-diagonal 10·i + j. */
const CONFUSION = NAMES.map((_, t) => NAMES.map((__, p) => (t === p ? 500 + t : 10 * t + p)));

function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  const total = CONFUSION.flat().reduce((a, b) => a + b, 0);
  const correct = CONFUSION.reduce((s, row, i) => s + row[i], 0);
  const avg = { precision: 0.5, recall: 0.5, f1: 0.5, support: total };
  const evaluation: EvaluationReport = {
    accuracy: correct / total,
    nmi: 0.512,
    ari: 0.368,
    mapping: NAMES.map((_, i) => i),
    clusterSizes: NAMES.map((_, i) => CONFUSION.reduce((s, row) => s + row[i], 0)),
    confusion: CONFUSION,
    classNames: NAMES,
    perClass: NAMES.map((name, label) => ({ label, name, precision: 0.5, recall: 0.5, f1: 0.5, support: 1 })),
    macroAvg: avg,
    weightedAvg: avg,
  };
  return {
    id: 3,
    task: 'kmeans',
    params: { task: 'kmeans', k: 10, seed: 0, backend: 'auto', nInit: 10, maxIter: 300, tol: 1e-4 },
    seed: 0,
    backend: 'wasm',
    dataset: null,
    status: 'completed',
    error: null,
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:01:00.000Z',
    metrics: { accuracy: 0.546, nmi: 0.512, ari: 0.368 },
    evaluation,
    timings: {},
    artifacts: {},
    losses: [],
    uid: null,
    sweepId: null,
    sweepChild: null,
    ...overrides,
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.toString('latin1', 12, 16)).toBe('IHDR'); // first chunk
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const dir = mkdtempSync(join(tmpdir(), 'clusterbench-confusion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The parts of the ECharts option these tests read. */
interface Cell {
  value: [number, number, number];
  label: { formatter: string };
}
interface ChartOption {
  xAxis: { data: string[] };
  yAxis: { data: string[]; inverse: boolean };
  visualMap: { max: number };
  series: { type: string; label: { show: boolean }; data: Cell[] }[];
}

describe('confusionChartOption', () => {
  it('is a heatmap with class names on both axes, values in cells and a visualMap', () => {
    const option = confusionChartOption({ confusion: CONFUSION, classNames: NAMES, title: 'T' }) as ChartOption;
    expect(option.xAxis.data).toEqual(NAMES); // predicted
    expect(option.yAxis.data).toEqual(NAMES); // true
    expect(option.yAxis.inverse).toBe(true); // first class at the top
    expect(option.visualMap.max).toBe(509);
    const series = option.series[0];
    expect(series.type).toBe('heatmap');
    expect(series.label.show).toBe(true);
    expect(series.data).toHaveLength(100);
    const cell = series.data.find((d: Cell) => d.value[0] === 3 && d.value[1] === 7); // predicted 3, true 7
    expect(cell!.value[2]).toBe(73);
    expect(cell!.label.formatter).toBe('73');
    // plain data: survives JSON (IPC) unchanged
    expect(JSON.parse(JSON.stringify(option))).toEqual(option);
  });

  it('normalises rows to fractions', () => {
    const option = confusionChartOption({
      confusion: [
        [3, 1],
        [0, 0],
      ],
      classNames: ['a', 'b'],
      title: 'T',
      normalize: true,
    }) as ChartOption;
    const labels = option.series[0].data.map((d: Cell) => d.label.formatter);
    expect(labels).toEqual(['0.75', '0.25', '0.00', '0.00']);
    expect(option.visualMap.max).toBe(1);
  });

  it('rejects a matrix that does not match the class names', () => {
    expect(() => confusionChartOption({ confusion: [[1, 2]], classNames: ['a', 'b'], title: 'T' })).toThrow(/2 × 2/);
  });
});

describe('renderConfusionSvg', () => {
  const svg = renderConfusionSvg({ confusion: CONFUSION, classNames: NAMES, title: 'My title', subtitle: 'sub' });

  it('is a well-formed SVG with class names and cell values', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain(`width="${DEFAULT_WIDTH}"`);
    expect(svg).toContain(`height="${DEFAULT_HEIGHT}"`);
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const name of NAMES) expect(texts.filter((t) => t === name).length).toBeGreaterThanOrEqual(2); // x and y axes
    for (const v of [500, 509, 73, 98, 1]) expect(texts).toContain(String(v));
    expect(texts).toContain('My title');
    expect(texts).toContain('True label');
    expect(texts).toContain('Predicted label');
    // resvg's XML parser accepts it
    const parsed = new Resvg(svg);
    expect(parsed.width).toBe(DEFAULT_WIDTH);
    expect(parsed.height).toBe(DEFAULT_HEIGHT);
    // a figure has no hover rules (the renderer wrote `fill:[object Object]` for the colour bar's gradient)
    expect(svg).not.toContain('[object Object]');
    expect(svg).not.toContain(':hover');
  });

  it('escapes XML special characters in names and titles', () => {
    const odd = renderConfusionSvg({
      confusion: [
        [1, 2],
        [3, 4],
      ],
      classNames: ['A & B', '<c>'],
      title: 'x "q" & <y>',
    });
    expect(odd).toContain('A &amp; B');
    expect(odd).toContain('&lt;c&gt;');
    expect(() => new Resvg(odd)).not.toThrow();
  });

  it('honours the requested size', () => {
    const small = renderConfusionSvg(
      {
        confusion: [
          [1, 0],
          [0, 1],
        ],
        classNames: ['a', 'b'],
        title: 'T',
      },
      { width: 300, height: 240 },
    );
    expect(small).toMatch(/^<svg[^>]*width="300"[^>]*height="240"/);
  });
});

describe('svgToPng', () => {
  it('has the PNG signature and the SVG size × scale', () => {
    const svg = renderConfusionSvg({ confusion: CONFUSION, classNames: NAMES, title: 'T' }, { width: 400, height: 300 });
    expect(pngSize(svgToPng(svg, { scale: 1 }))).toEqual({ width: 400, height: 300 });
    expect(pngSize(svgToPng(svg, { scale: 2 }))).toEqual({ width: 800, height: 600 });
  });

  it('draws text (fonts are available to resvg)', () => {
    // Without a usable font resvg silently draws no text: the PNG would then equal that of an empty SVG.
    const blank = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"></svg>`;
    const text = blank.replace(
      '></svg>',
      '><text x="10" y="40" style="font-size:32px;font-family:sans-serif" fill="#000">Ag 123</text></svg>',
    );
    const drewText = !svgToPng(text, { scale: 1 }).equals(svgToPng(blank, { scale: 1 }));
    expect(drewText, 'no text was drawn: install a font package (Debian: fonts-dejavu-core)').toBe(true);
  });
});

describe('exportConfusion', () => {
  it('builds the title from the task, k and accuracy, the subtitle with the parameters as the parameter table names them', () => {
    const { title, subtitle } = confusionTitleForRun(makeRun());
    expect(title).toBe('kmeans — k=10 — accuracy 54.6%');
    expect(subtitle).toContain('Seed 0 · n_init 10 · Max iterations 300 · Tolerance 0.0001');
    expect(subtitle).toContain('Run #3');
    expect(subtitle).toContain('NMI 0.512');
    expect(subtitle).toContain('ARI 0.368');
    expect(subtitle).toContain('backend wasm');
  });

  it('writes an SVG for .svg', async () => {
    const file = join(dir, 'run3.svg');
    await exportConfusion(makeRun(), file);
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('kmeans — k=10 — accuracy 54.6%');
    expect(svg).toContain('Ankle boot');
  });

  it('writes a PNG for .png (into a new folder), leaving no temp file', async () => {
    const file = join(dir, 'figures', 'run3.PNG');
    await exportConfusion(makeRun(), file, { scale: 1 });
    expect(pngSize(readFileSync(file))).toEqual({ width: DEFAULT_WIDTH, height: DEFAULT_HEIGHT });
    expect(readdirSync(join(dir, 'figures'))).toEqual(['run3.PNG']);
  });

  it('fails clearly on an unknown extension, writing nothing', async () => {
    const file = join(dir, 'run3.eps');
    await expect(exportConfusion(makeRun(), file)).rejects.toThrow(/unsupported extension "\.eps" — use \.svg, \.png or \.pdf/);
    await expect(exportConfusion(makeRun(), join(dir, 'noext'))).rejects.toThrow(/unsupported extension "\(none\)"/);
    expect(readdirSync(dir).filter((f) => f.startsWith('run3.eps') || f.includes('noext'))).toEqual([]);
  });

  // The timeout guards the hang (a recursive mkdir under /proc never returned); the answer itself is immediate.
  it(
    'refuses a folder that cannot hold files in one line, at once (recursive mkdir under /proc never returns)',
    { timeout: 10_000 },
    async () => {
      await expect(exportConfusion(makeRun(), '/proc/nonexistent/x.svg')).rejects.toThrow(
        'cannot write /proc/nonexistent/x.svg: /proc is not a normal filesystem',
      );
      const file = join(dir, 'run3.svg');
      writeFileSync(file, 'a file, not a folder');
      await expect(exportConfusion(makeRun(), join(file, 'x.svg'))).rejects.toThrow(
        `cannot write ${join(file, 'x.svg')}: ${file} is not a folder`,
      );
    },
  );

  it('fails for a run without evaluation', async () => {
    const failed = makeRun({ status: 'failed', error: 'out of memory', evaluation: null, metrics: null });
    await expect(exportConfusion(failed, join(dir, 'failed.svg'))).rejects.toThrow(/Run #3 \(failed: out of memory\) has no evaluation/);
  });
});
