/**
 * The files of an emitted sweep: DIR/sweep.json (the sweep) and DIR/children/child-<i>.json (one child: the sweep it
 * belongs to, its index in the sweep's plan, its grid values and seed, and its full parameters), which
 * `sweeps run-child` reads on a cluster node.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { sweepNameSchema } from '../../engine/schema/sweep';
import { CliError } from '../args';

export const SWEEP_FORMAT = 'clusterbench-sweep/1';
export const CHILD_FORMAT = 'clusterbench-sweep-child/1';

const record = z.record(z.string(), z.unknown());

const sweepDefinition = z.object({
  uid: z.string().regex(/^[0-9a-f]{16,64}$/, 'must be a hex uid'),
  name: sweepNameSchema.nullable(),
  task: z.string(),
  base: record,
  grid: z.array(z.tuple([z.string(), z.array(z.unknown())])),
  seeds: z.array(z.number().int().min(0)).min(1),
});

const childFile = z.object({
  format: z.literal(CHILD_FORMAT, { error: `is not ${CHILD_FORMAT}` }),
  sweep: sweepDefinition,
  description: z.string(),
  index: z.number().int().min(0),
  values: record,
  params: record,
});

/** The sweep as an emit folder records it (what `createSweep` needs, with its uid). */
export type SweepDefinition = z.infer<typeof sweepDefinition>;
export type ChildFile = z.infer<typeof childFile>;

/** Reads and checks a child file; anything wrong is one line naming the file. */
export function readChildFile(path: string): ChildFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(
      `${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code ? `cannot be read (${err.code})` : `not JSON (${err.message})`}`,
    );
  }
  const parsed = childFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${path}: not a sweep child file: ${issue.path.join('.') || 'the file'} ${issue.message}`);
  }
  return parsed.data;
}
