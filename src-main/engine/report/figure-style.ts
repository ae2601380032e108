/**
 * One style for every exported confusion-matrix figure, run or sweep, server-rendered (CLI, UI export) or drawn by
 * the renderer: the palette, the text colours, the aspect of the default canvas and the sizes of its text relative
 * to one base font size. Pure data: the renderer bundles it.
 */

/** Sequential blue palette (ColorBrewer "Blues"): light → dark, also legible in greyscale print. */
export const FIGURE_BLUES = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];
export const FIGURE_TEXT = '#1a1a1a';
export const FIGURE_MUTED = '#4a4a4a';
export const FIGURE_BACKGROUND = '#ffffff';
/**
 * Font families of a figure drawn where the figure font cannot be looked up (the renderer's own export): the
 * families the server side finds first (figure-fonts.ts), in the same order.
 */
export const FIGURE_FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

/** Default canvas (px): a little taller than wide, the matrix square with the colour bar beside it. */
export const FIGURE_WIDTH = 820;
export const FIGURE_HEIGHT = 760;
/** Base text size (px) on the default canvas. */
export const FIGURE_FONT = 13;

/** Sizes of the figure's texts as multiples of the base font size. */
export const FIGURE_TEXT_SCALE = { title: 1.3, subtitle: 0.92, axisName: 1.08, axisLabel: 1, legend: 0.92 } as const;

/** Cell value size for `n` classes, as a multiple of the base font size (the cells shrink as n grows). */
export function cellFontScale(n: number): number {
  return n <= 10 ? 1 : n <= 15 ? 0.85 : n <= 25 ? 0.7 : 0.55;
}

/** A figure's physical size: what a journal asks for (one column ≈ 3.5 in / 8.9 cm). */
export type FigureUnit = 'in' | 'cm';
export const POINTS_PER_UNIT: Record<FigureUnit, number> = { in: 72, cm: 72 / 2.54 };
