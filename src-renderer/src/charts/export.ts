// Chart export: renders the chart's option, with a title, on an offscreen ECharts instance (canvas for PNG,
// svg renderer for SVG) in the light theme, and saves the bytes through the api.
import type { ExportedFile } from '@contract';
import { saveExportedFile } from '../api';
import { echarts, type EChartsOption } from './echarts';
import type { ChartCtx } from './theme';

export type ExportFormat = 'png' | 'svg';
/** Formats of a server-rendered figure (export.confusion): the renderer's own export has no PDF. */
export type FigureExportFormat = ExportFormat | 'pdf';

export interface ExportRequest {
  build: (ctx: ChartCtx) => EChartsOption;
  format: ExportFormat;
  title: string;
  subtitle?: string;
  /** File name without extension. */
  fileBase: string;
  width?: number;
  height?: number;
}

export function renderExport(req: ExportRequest): ExportedFile {
  const width = req.width ?? 1000;
  const height = req.height ?? 620;
  const host = document.createElement('div');
  host.style.cssText = `position:fixed;left:-20000px;top:0;width:${width}px;height:${height}px;`;
  document.body.appendChild(host);
  const chart = echarts.init(host, undefined, { renderer: req.format === 'svg' ? 'svg' : 'canvas', width, height });
  try {
    chart.setOption(req.build({ dark: false, exporting: true, title: req.title, subtitle: req.subtitle }));
    const name = `${req.fileBase}.${req.format}`;
    if (req.format === 'svg') {
      const svg = chart.renderToSVGString();
      return { suggestedName: name, mime: 'image/svg+xml', encoding: 'utf8', data: svg };
    }
    const url = chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#ffffff' });
    return { suggestedName: name, mime: 'image/png', encoding: 'base64', data: url.slice(url.indexOf(',') + 1) };
  } finally {
    chart.dispose();
    host.remove();
  }
}

export async function exportChart(req: ExportRequest): Promise<void> {
  await saveExportedFile(renderExport(req));
}

/** What one page's figures are exported under: its subject (a run, a comparison) and a file-name stem. */
export interface FigureSubject {
  title: string;
  subtitle?: string;
  fileBase: string;
}

/** A chart card's export props for one figure of a subject: titled "<figure> — <subject>", saved as <stem>-<key>. */
export function figureExport(
  subject: FigureSubject,
  figure: string,
  key: string,
): { exportTitle: string; exportSubtitle?: string; fileBase: string } {
  return { exportTitle: `${figure} — ${subject.title}`, exportSubtitle: subject.subtitle, fileBase: `${subject.fileBase}-${key}` };
}

/** Safe file-name fragment. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
}
