/**
 * The shapes of the run table's JSON columns, as the store writes them (types.ts): `runs import` refuses a row that
 * does not have them, and reading a history turns a column without them into "none" with a note (toRecord), so one
 * damaged row never makes a whole listing fail.
 */
import { z } from 'zod';
import { DATASET_FORMATS, MAX_FEATURES, MAX_IMAGE_SIDE } from '../data/dataset';
import { decodeJson } from './codec';

/** Any number, NaN and ±Infinity included (the codec stores them tagged; a failed loss is NaN). */
const num = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const count = z.number().int().min(0);
const side = z.number().int().min(1).max(MAX_IMAGE_SIDE);
const datasetShape = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('images'), height: side, width: side, channels: z.union([z.literal(1), z.literal(3)]) }),
  z.object({ kind: z.literal('features'), dim: z.number().int().min(1).max(MAX_FEATURES) }),
]);

const average = z.object({ precision: num, recall: num, f1: num, support: num });

export const STORED_SHAPES = {
  params: z.record(z.string(), z.unknown()),
  // accuracy, nmi and ari only on labelled data (an unlabelled run has silhouette & co.)
  metrics: z.object({}).catchall(num),
  evaluation: z.object({
    accuracy: num,
    nmi: num,
    ari: num,
    mapping: z.array(z.number().int().min(-1)),
    clusterSizes: z.array(count),
    confusion: z.array(z.array(num)),
    classNames: z.array(z.string()),
    perClass: z.array(z.object({ label: z.number().int(), name: z.string(), precision: num, recall: num, f1: num, support: num })),
    macroAvg: average,
    weightedAvg: average,
  }),
  timings: z.record(z.string(), num),
  dataset: z.object({
    name: z.string(),
    dir: z.string(),
    format: z.enum(DATASET_FORMATS), // a run on an added data set records its container (data/dataset.ts)
    checksums: z.record(z.string(), z.string()),
    fitSize: count,
    evalSize: count,
    pixelStats: z.object({ min: num, max: num, mean: num }).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    shape: datasetShape.optional(),
    labelled: z.boolean().optional(),
    imagesOf: z.object({ name: z.string().max(64), shape: datasetShape }).optional(),
    singleSplit: z.boolean().optional(),
  }),
  artifacts: z.record(z.string(), z.string()),
} as const;

export type StoredColumn = keyof typeof STORED_SHAPES;

/** A stored JSON column decoded and checked: its value, or why it is not of its shape (one phrase). */
export function decodeStored(column: StoredColumn, text: unknown, nullable: boolean): { value: unknown } | { problem: string } {
  if (text === null && nullable) return { value: null };
  if (typeof text !== 'string') return { problem: `${column} is not JSON text` };
  let value: unknown;
  try {
    value = decodeJson(text);
  } catch {
    return { problem: `${column} is not JSON` };
  }
  const parsed = STORED_SHAPES[column].safeParse(value);
  if (parsed.success) return { value };
  const issue = parsed.error.issues[0];
  return { problem: `${[column, ...issue.path].join('.')}: ${issue.message}` };
}
