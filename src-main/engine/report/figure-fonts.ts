/**
 * The font a figure is drawn, measured and embedded with: one TrueType family found on this machine, so the SVG
 * names it, resvg draws it (PNG), PDFKit embeds it (PDF) and the layout measures text with its own advance widths
 * (through PDFKit's font engine) — the measured box is the drawn box. Without such a file, text is measured by
 * ECharts' estimate and drawn with whatever sans-serif the renderer finds.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type PDFKitDocument from 'pdfkit';
import type SVGtoPDF from 'svg-to-pdfkit';
import * as echarts from 'echarts';

// Loaded when a figure is made, not with every command that reaches the service (~150 ms together).
const localRequire = createRequire(import.meta.url);
export const loadPdfKit = (): typeof PDFKitDocument => localRequire('pdfkit') as typeof PDFKitDocument;
export const loadSvgToPdf = (): typeof SVGtoPDF => localRequire('svg-to-pdfkit') as typeof SVGtoPDF;

export interface FigureFont {
  family: string;
  regular: string;
  bold: string;
}

/** Candidates in order: Debian/Ubuntu (fonts-dejavu-core, fonts-liberation), Fedora, macOS, Windows. */
const CANDIDATES: FigureFont[] = [
  {
    family: 'DejaVu Sans',
    regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
    bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  },
  {
    family: 'DejaVu Sans',
    regular: '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
    bold: '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf',
  },
  {
    family: 'Liberation Sans',
    regular: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
    bold: '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
  },
  { family: 'Arial', regular: '/System/Library/Fonts/Supplemental/Arial.ttf', bold: '/System/Library/Fonts/Supplemental/Arial Bold.ttf' },
  { family: 'Arial', regular: 'C:\\Windows\\Fonts\\arial.ttf', bold: 'C:\\Windows\\Fonts\\arialbd.ttf' },
];

let found: FigureFont | null | undefined;

/** The figure font of this machine, or null when none of the known files is there. */
export function figureFont(): FigureFont | null {
  if (found === undefined) found = CANDIDATES.find((f) => existsSync(f.regular) && existsSync(f.bold)) ?? null;
  return found;
}

/** Font stack written into the SVG: the figure font first, then families that usually exist elsewhere. */
export function fontStack(): string {
  const first = figureFont()?.family;
  const rest = ["'Liberation Sans'", 'Arial', 'Helvetica', "'Noto Sans'", 'sans-serif'];
  return [first ? `'${first}'` : "'DejaVu Sans'", ...rest.filter((f) => f !== `'${first}'` && f !== first)].join(', ');
}

let measurer: PDFKit.PDFDocument | null = null;

/** Width in px of `text` at `size` px, measured with the figure font (null when there is none). */
export function textWidth(text: string, size: number, bold = false): number | null {
  const font = figureFont();
  if (!font) return null;
  if (!measurer) {
    const PDFDocument = loadPdfKit();
    measurer = new PDFDocument({ autoFirstPage: false });
    measurer.registerFont('figure', font.regular);
    measurer.registerFont('figure-bold', font.bold);
  }
  return measurer
    .font(bold ? 'figure-bold' : 'figure')
    .fontSize(size)
    .widthOfString(text);
}

/** Reads size and weight out of a CSS font shorthand as ECharts writes it ("bold 17px 'DejaVu Sans', …"). */
function parseCssFont(font: string | undefined): { size: number; bold: boolean } {
  const size = /(\d+(?:\.\d+)?)px/.exec(font ?? '');
  return { size: size ? Number(size[1]) : 12, bold: /\b(bold|[6-9]00)\b/.test(font ?? '') };
}

let installed = false;

/**
 * ECharts' server-side renderer has no canvas to measure text with and estimates: it lays axis labels out, and
 * contains them in the grid (outerBoundsContain), by that estimate. Hand it the figure font's widths instead.
 */
export function useFigureFontMetrics(): void {
  if (installed || !figureFont()) return;
  installed = true;
  echarts.setPlatformAPI({
    measureText(text: string, font?: string) {
      const { size, bold } = parseCssFont(font);
      return { width: textWidth(text, size, bold) ?? text.length * size * 0.6 };
    },
  });
}
