/**
 * The data sets of a history (schema 7): what `datasets add` read — its shape, counts, class names, content hash — and
 * where to read it again, by name. A run records its own description of the data it used (DatasetInfo), so removing a
 * data set changes no run. The built-in data set (DEFAULT_DATASET) is no row: it can be neither added nor removed.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import {
  DATASET_FORMATS,
  DATASET_NAME_PATTERN,
  DEFAULT_DATASET,
  MAX_CLASSES,
  MAX_FEATURES,
  MAX_IMAGE_SIDE,
  MAX_ROWS,
  type DatasetRecord,
} from '../data/dataset';
import { decodeJson, encodeJson } from './codec';
import { StoreError } from './errors';
import type { HistoryDb } from './history-db';
import { newUid } from './sweep-queries';

/** The schema that added the datasets table. */
export const DATASETS_SCHEMA = 7;

/** A data set to add: its record but for the uid (a fresh one when absent) and the time it was added (now). */
export type NewDataset = Omit<DatasetRecord, 'uid' | 'createdAt'> & { uid?: string };

/** A row that does not read as a record (damaged by hand): named, with why, so a listing still answers. */
export interface UnreadableDataset {
  name: string;
  problem: string;
}

interface DatasetRow {
  name: string;
  uid: string;
  shape: string;
  source: string;
  sha256: string;
  counts: string;
  class_names: string | null;
  notes: string;
  created_at: string;
}

const side = z.number().int().min(1).max(MAX_IMAGE_SIDE);
const rows = z.number().int().min(0).max(MAX_ROWS);
const channels = z.union([z.literal(1), z.literal(3)]);
const absolute = z.string().min(1).max(4096).refine(isAbsolute, 'must be an absolute path');

const shapeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('images'), height: side, width: side, channels }),
  z.strictObject({ kind: z.literal('features'), dim: z.number().int().min(1).max(MAX_FEATURES) }),
]);

// options added to DatasetSource later are kept as written (an older reader ignores them)
const sourceSchema = z.looseObject({
  format: z.enum(DATASET_FORMATS),
  path: absolute,
  labels: absolute.optional(),
  test: absolute.optional(),
  testLabels: absolute.optional(),
  testFraction: z.number().gt(0).lt(1).optional(),
  size: z.strictObject({ height: side, width: side }).optional(),
  channels: channels.optional(),
  labelColumn: z.enum(['first', 'none']).optional(),
  imageShape: z.strictObject({ height: side, width: side, channels }).optional(),
  imagesOf: z.string().regex(DATASET_NAME_PATTERN).optional(),
});

const countsSchema = z.strictObject({ train: rows, test: rows.nullable() });
const classNamesSchema = z.array(z.string().max(200)).min(1).max(MAX_CLASSES).nullable();
const notesSchema = z.array(z.string().max(2000)).max(1000);
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** Why `name` cannot name a data set to add (one phrase), or null. */
export function datasetNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || !DATASET_NAME_PATTERN.test(name))
    return `${JSON.stringify(String(name).slice(0, 80))} is not a data set name (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit)`;
  if (isBuiltInName(name)) return `'${name}' is the built-in data set's name; it cannot be added or removed`;
  return null;
}

/** The built-in name, whatever its case ('Fashion-MNIST' next to 'fashion-mnist' would only confuse). */
export const isBuiltInName = (name: string): boolean => name.toLowerCase() === DEFAULT_DATASET;

/** The first problem zod finds, as `where.path: message`. */
function problemOf(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  return `${[where, ...issue.path].join('.')}: ${issue.message}`;
}

function checked<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new StoreError('INVALID', `data set ${problemOf(parsed.error, where)}`);
  return parsed.data;
}

/** `2026-12-07 22:59`: when a data set was added, as a message says it. */
const shortTime = (iso: string): string => iso.replace('T', ' ').slice(0, 16);

export class Datasets {
  constructor(private readonly history: HistoryDb) {}

  /** Whether this history has data sets (a read-only history older than schema 7 has none). */
  private get present(): boolean {
    return this.history.schemaVersion >= DATASETS_SCHEMA;
  }

  add(dataset: NewDataset): DatasetRecord {
    const problem = datasetNameProblem(dataset?.name);
    if (problem) throw new StoreError('INVALID', problem);
    const row: DatasetRow = {
      name: dataset.name,
      uid: dataset.uid === undefined ? newUid() : checked(z.string().regex(/^[0-9a-f]{32}$/), dataset.uid, 'uid'),
      shape: encodeJson(checked(shapeSchema, dataset.shape, 'shape'), 'shape'),
      source: encodeJson(checked(sourceSchema, dataset.source, 'source'), 'source'),
      sha256: checked(sha256Schema, dataset.sha256, 'sha256'),
      counts: encodeJson(checked(countsSchema, dataset.counts, 'counts'), 'counts'),
      class_names:
        dataset.classNames === null ? null : encodeJson(checked(classNamesSchema, dataset.classNames, 'classNames'), 'classNames'),
      notes: encodeJson(checked(notesSchema, dataset.notes, 'notes'), 'notes'),
      created_at: new Date().toISOString(),
    };
    this.requirePresent();
    this.history.write(() => {
      const taken = this.history.conn.prepare('SELECT created_at FROM datasets WHERE name = ?').get(row.name) as
        { created_at: string } | undefined;
      if (taken)
        throw new StoreError(
          'INVALID',
          `data set '${row.name}' already exists (added ${shortTime(taken.created_at)}); remove it first or choose another name`,
        );
      this.history.conn
        .prepare(
          `INSERT INTO datasets (name, uid, shape, source, sha256, counts, class_names, notes, created_at)
           VALUES (@name, @uid, @shape, @source, @sha256, @counts, @class_names, @notes, @created_at)`,
        )
        .run(row);
    });
    return this.get(row.name)!;
  }

  /** The data set of that name (case-sensitive), undefined when there is none; a damaged row throws one line. */
  get(name: string): DatasetRecord | undefined {
    if (!this.present || typeof name !== 'string') return undefined;
    const row = this.history.read(() => this.history.conn.prepare('SELECT * FROM datasets WHERE name = ?').get(name)) as
      DatasetRow | undefined;
    if (!row) return undefined;
    const record = toRecord(row);
    if ('problem' in record)
      throw new StoreError('INVALID', `data set '${record.name}' in ${this.history.path} cannot be read (${record.problem})`);
    return record;
  }

  /** Every data set, by name; rows that cannot be read are listed apart with why. */
  list(): { records: DatasetRecord[]; unreadable: UnreadableDataset[] } {
    const out = { records: [] as DatasetRecord[], unreadable: [] as UnreadableDataset[] };
    if (!this.present) return out;
    const rows = this.history.read(() => this.history.conn.prepare('SELECT * FROM datasets ORDER BY name').all()) as DatasetRow[];
    for (const row of rows) {
      const record = toRecord(row);
      if ('problem' in record) out.unreadable.push(record);
      else out.records.push(record);
    }
    return out;
  }

  /**
   * How many runs recorded the data set: those naming it whose recorded content hash is its own (or who recorded none,
   * as older runs did). A data set removed and added again under the same name with other rows is not theirs.
   */
  runCount(name: string, sha256?: string): number {
    return this.history.read(() => this.countRuns(name, sha256 ?? null));
  }

  private countRuns(name: string, sha256: string | null): number {
    const row = this.history.conn
      .prepare(
        `SELECT count(*) AS n FROM runs WHERE json_valid(dataset) AND json_extract(dataset, '$.name') = @name
           AND (@sha256 IS NULL OR json_extract(dataset, '$.sha256') IS NULL OR json_extract(dataset, '$.sha256') = @sha256)`,
      )
      .get({ name, sha256 }) as { n: number };
    return row.n;
  }

  /**
   * Removes a data set (its row only: the files it was read from are the user's). Returns how many runs recorded it
   * (they keep what they recorded), or null when there is no such data set. The built-in one is refused.
   */
  remove(name: string): { runs: number } | null {
    if (typeof name === 'string' && isBuiltInName(name))
      throw new StoreError('INVALID', `'${name}' is the built-in data set's name; it cannot be added or removed`);
    if (!this.present) {
      this.history.assertWritable();
      return null;
    }
    return this.history.write(() => {
      const row = this.history.conn.prepare('SELECT sha256 FROM datasets WHERE name = ?').get(name) as { sha256: string } | undefined;
      if (!row) return null;
      const runs = this.countRuns(name, row.sha256);
      this.history.conn.prepare('DELETE FROM datasets WHERE name = ?').run(name);
      return { runs };
    });
  }

  private requirePresent(): void {
    this.history.assertWritable(); // a writable history is always migrated to the current schema
    if (!this.present)
      throw new StoreError('INVALID', `the run history ${this.history.path} is older than data sets (schema ${DATASETS_SCHEMA})`);
  }
}

/** A row as a record, or why it is not one (a value the store would not have written). */
function toRecord(row: DatasetRow): DatasetRecord | UnreadableDataset {
  const valid = <T>(schema: z.ZodType<T>, value: unknown, where: string): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new Error(problemOf(parsed.error, where));
    return parsed.data;
  };
  const column = <T>(schema: z.ZodType<T>, text: string | null, where: string): T => {
    let value: unknown;
    try {
      value = text === null ? null : decodeJson(text);
    } catch {
      throw new Error(`${where} is not JSON`);
    }
    return valid(schema, value, where);
  };
  try {
    return {
      name: row.name,
      uid: row.uid,
      shape: column(shapeSchema, row.shape, 'shape'),
      source: column(sourceSchema, row.source, 'source'),
      sha256: valid(sha256Schema, row.sha256, 'sha256'),
      counts: column(countsSchema, row.counts, 'counts'),
      classNames: column(classNamesSchema, row.class_names, 'classNames'),
      notes: column(notesSchema, row.notes, 'notes'),
      createdAt: row.created_at,
    };
  } catch (e) {
    return { name: row.name, problem: (e as Error).message };
  }
}
