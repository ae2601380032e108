/**
 * What a researcher chooses of an exported confusion figure: the UI's export.confusion request and the flags of
 * `export confusion` (the CLI builds this same request). Bounds match the renderer's (engine/report).
 */
import { z } from 'zod';

export const FIGURE_FORMATS = ['svg', 'png', 'pdf'] as const;
export type FigureFormat = (typeof FIGURE_FORMATS)[number];

/** A physical size: one journal column is about 3.5 in (8.9 cm); the PNG is drawn at `dpi`. */
export const figureSizeSchema = z.object({
  width: z.number().positive().max(150),
  height: z.number().positive().max(150),
  unit: z.enum(['in', 'cm']),
  dpi: z.number().int().min(72).max(1200).default(300),
});

export const confusionExportRequest = z.object({
  id: z.number().int().positive(),
  format: z.enum(FIGURE_FORMATS),
  /** Row % (each true label's row as fractions) instead of counts. */
  normalize: z.boolean().default(false),
  /** The title and subtitle (task, k, accuracy, parameters); off when the paper's caption says it. */
  title: z.boolean().default(true),
  /** Class names on the axes; off: the classes numbered 0 … C−1. */
  classNames: z.boolean().default(true),
  /** Physical size; absent: the default 820 × 760 px canvas. */
  size: figureSizeSchema.optional(),
  /** Base text size in pt (with a size) or px; absent: from the width (8 pt one column wide, 13 px by default). */
  fontSize: z.number().min(4).max(48).optional(),
});
export type ConfusionExportRequest = z.output<typeof confusionExportRequest>;
