/**
 * Exported confusion figures fit their canvas: every export of an autoencoder run with long parameter values (SVG,
 * PNG, PDF; default canvas, one column in inches and in cm, larger type, no title, numbered classes, row %) is
 * rendered with the figure font and no text or mark may leave the canvas. Checked by drawing the SVG on a wider
 * sheet (the canvas in its middle) and finding no ink outside the canvas; the PNG's and the PDF page's outermost
 * rows and columns are background; the PDF page has the asked size in points and ink where the matrix is.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../../src-main/engine/metrics/types';
import {
  confusionTitleForRun,
  figureCanvas,
  figureFont,
  runConfusionFigure,
  svgToPng,
  type FigureOptions,
} from '../../src-main/engine/report/index';
import type { RunRecord } from '../../src-main/engine/store/types';

const NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const CONFUSION = NAMES.map((_, t) => NAMES.map((__, p) => (t === p ? 5000 + t : 100 * t + p)));

/** An ae-gmm run with every parameter set, some long: the title that was cut on both sides. */
function aeRun(): RunRecord {
  const total = CONFUSION.flat().reduce((a, b) => a + b, 0);
  const avg = { precision: 0.5, recall: 0.5, f1: 0.5, support: total };
  const evaluation: EvaluationReport = {
    accuracy: 0.502,
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
  const params = {
    task: 'ae-gmm',
    k: 10,
    seed: 123456789,
    trainLimit: 60000,
    testLimit: 10000,
    backend: 'auto',
    layers: [500, 500, 2000, 1000, 500, 250],
    codeSize: 10,
    epochs: 200,
    batchSize: 256,
    learningRate: 0.00012345,
    valSplit: 0.1,
    patience: null,
    covariance: 'full',
    regCovar: 0.000001,
    gmmMaxIter: 1000,
    gmmTol: 0.00001,
    gmmNInit: 10,
  };
  return {
    id: 123,
    task: 'ae-gmm',
    params,
    seed: 123456789,
    backend: 'tensorflow-wasm',
    dataset: null,
    status: 'completed',
    error: null,
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:01:00.000Z',
    metrics: { accuracy: 0.502, nmi: 0.512, ari: 0.368 },
    evaluation,
    timings: {},
    artifacts: {},
    losses: [],
    uid: null,
    sweepId: null,
    sweepChild: null,
  } as RunRecord;
}

const dir = mkdtempSync(join(tmpdir(), 'clusterbench-figure-fit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Raster {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}
async function raster(png: Buffer): Promise<Raster> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}
/** Not background (white, with a little antialiasing slack). */
const ink = (r: Raster, x: number, y: number): boolean => {
  const i = (y * r.width + x) * r.channels;
  return r.data[i] < 250 || r.data[i + 1] < 250 || r.data[i + 2] < 250;
};
/** Inked pixels in the rows/columns within `band` of the edge. */
function inkAtEdges(r: Raster, band: number): number {
  let count = 0;
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const edge = x < band || y < band || x >= r.width - band || y >= r.height - band;
      if (edge && ink(r, x, y)) count++;
    }
  }
  return count;
}

/** The SVG drawn on a sheet `pad` px wider on every side: ink outside the canvas is what the canvas cut off. */
async function inkOutsideCanvas(svg: string, pad: number): Promise<number> {
  const size = /<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"/.exec(svg)!;
  const [w, h] = [Number(size[1]), Number(size[2])];
  const sheet = svg
    .replace(/(<svg[^>]*?)width="[\d.]+"/, `$1width="${w + 2 * pad}"`)
    .replace(/(<svg[^>]*?)height="[\d.]+"/, `$1height="${h + 2 * pad}"`)
    .replace(/viewBox="[^"]*"/, `viewBox="${-pad} ${-pad} ${w + 2 * pad} ${h + 2 * pad}"`);
  const r = await raster(svgToPng(sheet, { scale: 1 }));
  let count = 0;
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const inside = x >= pad && x < pad + w && y >= pad && y < pad + h;
      if (!inside && ink(r, x, y)) count++;
    }
  }
  return count;
}

const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

const VARIANTS: Record<string, FigureOptions> = {
  default: {},
  'one column, inches, 300 dpi': { physical: { width: 3.5, height: 3.3, unit: 'in', dpi: 300 } },
  'one column, cm, 9 pt': { physical: { width: 8.9, height: 8.5, unit: 'cm', dpi: 150 }, fontSize: 9 },
  'two columns, 10 pt, row %': { physical: { width: 7, height: 5.5, unit: 'in', dpi: 150 }, fontSize: 10, normalize: true },
  'no title, numbered classes': { showTitle: false, showClassNames: false },
  'small px canvas': { width: 420, height: 400 },
};

describe('confusion figure of a run with long parameter values', () => {
  it('is drawn with a font this machine has (measured = drawn)', () => {
    expect(figureFont(), 'install fonts-dejavu-core (or Liberation Sans)').not.toBeNull();
  });

  it('names the parameters as the parameter table does, not by their internal names', () => {
    const { title, subtitle } = confusionTitleForRun(aeRun());
    expect(title).toBe('ae-gmm — k=10 — accuracy 50.2%');
    for (const label of ['Batch size 256', 'Learning rate 0.00012345', 'Fit subset 60000', 'Encoder layers 500-500-2000-1000-500-250']) {
      expect(subtitle).toContain(label);
    }
    for (const internal of ['batchSize', 'learningRate', 'regCovar', 'trainLimit', 'gmmMaxIter']) expect(subtitle).not.toContain(internal);
  });

  for (const [name, opts] of Object.entries(VARIANTS)) {
    it(`keeps every text inside the canvas: ${name} (SVG, PNG)`, async () => {
      const run = aeRun();
      const svg = (await runConfusionFigure(run, 'svg', opts)).toString('utf8');
      const canvas = figureCanvas(opts);
      expect(Number(/^<svg[^>]*?width="([\d.]+)"/.exec(svg)![1])).toBeCloseTo(canvas.width, 6);
      expect(await inkOutsideCanvas(svg, 60)).toBe(0);
      const all = texts(svg).join(' ');
      if (opts.showTitle === false) expect(all).not.toContain('accuracy');
      else expect(all).toContain('Batch size 256');
      if (opts.showClassNames === false) expect(all).not.toContain('Ankle boot');
      else expect(all).toContain('Ankle boot');

      const png = await raster(await runConfusionFigure(run, 'png', opts));
      expect(png.width).toBe(Math.round(canvas.width * canvas.pngScale));
      expect(inkAtEdges(png, 2)).toBe(0);
    });
  }

  for (const name of ['default', 'one column, inches, 300 dpi', 'one column, cm, 9 pt']) {
    it(`is a one-page vector PDF of the asked size, the matrix drawn, nothing at the edges: ${name}`, async () => {
      const opts = VARIANTS[name];
      const pdf = await runConfusionFigure(aeRun(), 'pdf', opts);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const file = join(dir, 'figure.pdf');
      writeFileSync(file, pdf);
      const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
      expect(info).toMatch(/Pages:\s+1\b/);
      const { pageWidthPt, pageHeightPt } = figureCanvas(opts);
      const [, w, h] = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info)!;
      expect(Number(w)).toBeCloseTo(pageWidthPt, 1);
      expect(Number(h)).toBeCloseTo(pageHeightPt, 1);
      // text is text (vector), in the embedded figure font
      expect(execFileSync('pdffonts', [file], { encoding: 'utf8' })).toMatch(/DejaVu|Liberation|Arial/);

      execFileSync('pdftoppm', ['-r', '144', '-png', '-singlefile', file, join(dir, 'page')]);
      const page = await raster(readFileSync(join(dir, 'page.png')));
      expect(page.width).toBe(Math.round((pageWidthPt * 144) / 72));
      expect(inkAtEdges(page, 2)).toBe(0);
      // the matrix: its diagonal cells are the darkest blue — some pixels near the page centre are dark
      let dark = 0;
      for (let y = Math.floor(page.height * 0.35); y < page.height * 0.75; y++) {
        for (let x = Math.floor(page.width * 0.25); x < page.width * 0.7; x++) {
          const i = (y * page.width + x) * page.channels;
          if (page.data[i] < 60 && page.data[i + 2] > 60) dark++;
        }
      }
      expect(dark).toBeGreaterThan(50);
    });
  }
});
