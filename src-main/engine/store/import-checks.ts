/**
 * What `runs import` reads from the other file and checks before it writes anything: every run and sweep it brings,
 * with the schemas the app writes with (a task and its parameters, the stored JSON columns' shapes, a sweep's plan),
 * sizes bounded, and every recorded path pointing into one of the file's run folders. The first bad row refuses the
 * file, in one line naming the file and the run or sweep.
 */
import type Database from 'better-sqlite3';
import { TASKS, type TaskName } from '../schema/param-table';
import { PARAM_NAMES, paramSchemaFor, taskTakes, type ParamName } from '../schema/params';
import { planOfStored, sweepNameProblem } from '../schema/sweep';
import { shown } from './artifact-files';
import { decodeJson } from './codec';
import { ImportRefused } from './import-source';
import { recordedPathProblem } from './import-artifacts';
import { MAX_SERIES_KEY_CHARS, seriesKeyProblem } from './series';
import type { SweepRow } from './sweep-queries';
import { decodeStored, type StoredColumn } from './stored-shapes';
import type { RunArtifacts } from './types';

/** Sizes past which a file is refused (a longer error text is cut instead): far above anything a run writes. */
export const IMPORT_LIMITS = {
  /** Characters of a run's error text that are kept. */
  errorChars: 64 * 1024,
  /** Characters of one JSON column (parameters, metrics, evaluation…; a sweep's base, grid, seeds). */
  jsonChars: 1024 * 1024,
  /** Characters of a short text column (task, backend, dates, uid, host, status). */
  textChars: 256,
  /** Bytes of one run's assignments (4 per evaluated image). */
  assignmentBytes: 4 * 1_000_000,
  /** Series points of one run (two per epoch for its losses, one per step of any other series). */
  seriesRows: 200_000,
} as const;

const UID = /^[0-9a-f]{16,64}$/;
const ENDED_STATUSES = ['completed', 'failed', 'cancelled'];

/** A run of the file as it will be inserted: its row (the copied columns), series and assignments, all checked. */
export interface SourceRun {
  id: number;
  uid: string;
  sweep_id: number | null;
  row: Record<string, unknown>;
  params: Record<string, unknown>;
  artifacts: RunArtifacts;
  series: SourcePoint[];
  assignments: Buffer | null;
}

/** One point of a run's per-step series (see series.ts), as stored. */
export interface SourcePoint {
  key: string;
  step: number;
  value: unknown;
}

/** A sweep of the file, checked (the stored columns that define it, as the store reads them); `row` holds the copied columns. */
export interface SourceSweep extends Pick<SweepRow, 'id' | 'uid' | 'name' | 'task' | 'base' | 'grid' | 'seeds'> {
  /** How many runs its plan has (a child's index must be below it). */
  planned: number;
  row: Record<string, unknown>;
}

const TEXT_COLUMNS = {
  runs: ['task', 'backend', 'status', 'started_at', 'ended_at', 'uid', 'owner_host'],
  sweeps: ['uid', 'name', 'task', 'status', 'created_at', 'ended_at'],
};
const JSON_COLUMNS = { runs: ['params', 'dataset', 'metrics', 'evaluation', 'timings', 'artifacts'], sweeps: ['base', 'grid', 'seeds'] };

/** The first column of a row that is longer than its limit, found in SQL before any long value reaches JavaScript. */
function refuseOversized(src: Database.Database, table: 'runs' | 'sweeps', refuse: (id: unknown, why: string) => never): void {
  const limits = [
    ...TEXT_COLUMNS[table].map((c) => [c, IMPORT_LIMITS.textChars] as const),
    ...JSON_COLUMNS[table].map((c) => [c, IMPORT_LIMITS.jsonChars] as const),
  ];
  const lengths = limits.map(([c]) => `length(${c}) AS ${c}`).join(', ');
  for (const row of src.prepare(`SELECT CAST(id AS TEXT) AS id, ${lengths} FROM ${table}`).iterate() as Iterable<
    Record<string, number | null>
  >) {
    for (const [column, limit] of limits) {
      const length = row[column];
      if (length !== null && length > limit)
        refuse(row.id, `has a ${column} of ${length} characters, more than the ${limit} an import takes`);
    }
  }
}

/** Whether a value is an id: a positive integer that JavaScript holds exactly (2^63 − 1 is not). */
const isId = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 1;

/** Every sweep of the file, checked: a plan that planSweep accepts (at most MAX_SWEEP_RUNS runs), a printable name. */
export function readSourceSweeps(src: Database.Database, file: string): Map<number, SourceSweep> {
  const refuse = (id: unknown, why: string): never => {
    throw new ImportRefused('INVALID', `${file}: its sweep ${String(id)} ${why}; nothing was imported from this file`);
  };
  refuseOversized(src, 'sweeps', refuse);
  const sweeps = new Map<number, SourceSweep>();
  const rows = src
    .prepare(
      'SELECT id, CAST(id AS TEXT) AS id_text, uid, name, task, base, grid, seeds, status, created_at, ended_at FROM sweeps ORDER BY id',
    )
    .all();
  for (const row of rows as Record<string, unknown>[]) {
    const problem = sweepProblem(row);
    if (problem) refuse(row.id_text, problem);
    let planned = 0;
    try {
      const stored = { base: decodeJson(row.base as string), grid: decodeJson(row.grid as string), seeds: decodeJson(row.seeds as string) };
      planned = planOfStored(stored as Parameters<typeof planOfStored>[0]).runs;
    } catch (e) {
      refuse(row.id_text, `has a plan this Clusterbench refuses (${(e as Error).message})`);
    }
    const sweep = row as unknown as SourceSweep;
    sweeps.set(sweep.id, { ...sweep, planned, row });
  }
  return sweeps;
}

function sweepProblem(row: Record<string, unknown>): string | null {
  if (!isId(row.id)) return 'has an id out of range';
  if (typeof row.uid !== 'string' || !UID.test(row.uid)) return `has the uid ${shown(String(row.uid))}, not a hex uid`;
  if (row.name !== null) {
    const problem = typeof row.name === 'string' ? sweepNameProblem(row.name) : 'is not text';
    if (problem) return `has a name that cannot be used: ${problem}`;
  }
  if (!(TASKS as readonly unknown[]).includes(row.task)) return `has the unknown task ${shown(String(row.task))}`;
  for (const column of JSON_COLUMNS.sweeps) {
    try {
      decodeJson(String(row[column]));
    } catch {
      return `has a ${column} that is not JSON`;
    }
  }
  const base = decodeJson<unknown>(row.base as string);
  if (!base || typeof base !== 'object' || (base as { task?: unknown }).task !== row.task)
    return `has a base that is not one of its task ${String(row.task)}`;
  if (typeof row.created_at !== 'string' || (row.ended_at !== null && typeof row.ended_at !== 'string'))
    return 'has dates that are not text';
  return null;
}

/** Every run of the file with its series and assignments, checked against the file's sweeps. */
export function readSourceRuns(src: Database.Database, file: string, sweeps: Map<number, SourceSweep>): SourceRun[] {
  const refuse = (id: unknown, why: string): never => {
    throw new ImportRefused('INVALID', `${file}: its run ${String(id)} ${why}; nothing was imported from this file`);
  };
  refuseOversized(src, 'runs', refuse);
  refuseOversizedSeries(src, refuse);
  const { errorChars } = IMPORT_LIMITS;
  const rows = src
    .prepare(
      `SELECT id, CAST(id AS TEXT) AS id_text, task, params, seed, dataset, backend, status, substr(error, 1, ${errorChars}) AS error, length(error) AS error_length,
         started_at, ended_at, metrics, evaluation, timings, artifacts, owner_pid, owner_host, heartbeat_at, uid, sweep_id, sweep_child
       FROM runs ORDER BY id`,
    )
    .all() as (Record<string, unknown> & { id: number })[];
  const series = src.prepare('SELECT key, step, value FROM run_series WHERE run_id = ? ORDER BY key, step');
  const assignments = src.prepare('SELECT data FROM run_assignments WHERE run_id = ?');
  return rows.map((row) => {
    const problem = runProblem(row, sweeps) ?? artifactsProblem(row.artifacts as string);
    if (problem) refuse(row.id_text, problem);
    const { error_length: length, id_text: _text, ...copied } = row;
    if (typeof length === 'number' && length > errorChars)
      copied.error = `${row.error as string}… (cut at ${errorChars} of ${length} characters on import)`;
    const points = series.all(row.id) as SourcePoint[];
    const badPoint = points.find(
      (p) => seriesKeyProblem(p.key) !== null || !Number.isSafeInteger(p.step) || p.step < 0 || !isStoredValue(p.value),
    );
    if (badPoint)
      refuse(
        row.id,
        `has a series point (${shown(String(badPoint.key))} at step ${String(badPoint.step)}) that is not a name, a step and a number`,
      );
    const blob = (assignments.get(row.id) as { data: unknown } | undefined)?.data ?? null;
    const blobProblem = assignmentsProblem(blob);
    if (blobProblem) refuse(row.id, blobProblem);
    return {
      id: row.id,
      uid: row.uid as string,
      sweep_id: row.sweep_id as number | null,
      row: copied,
      params: decodeJson(row.params as string),
      artifacts: decodeJson(row.artifacts as string),
      series: points,
      assignments: blob as Buffer | null,
    };
  });
}

/** Too many points for one run, or a key longer than a series name, found in SQL before any reaches JavaScript. */
function refuseOversizedSeries(src: Database.Database, refuse: (id: unknown, why: string) => never): void {
  const most = src
    .prepare('SELECT CAST(run_id AS TEXT) AS id, count(*) AS n FROM run_series GROUP BY run_id HAVING n > ? LIMIT 1')
    .get(IMPORT_LIMITS.seriesRows) as { id: string; n: number } | undefined;
  if (most) refuse(most.id, `has ${most.n} series points, more than the ${IMPORT_LIMITS.seriesRows} an import takes`);
  const long = src
    .prepare("SELECT CAST(run_id AS TEXT) AS id FROM run_series WHERE typeof(key) != 'text' OR length(key) > ? LIMIT 1")
    .get(MAX_SERIES_KEY_CHARS) as { id: string } | undefined;
  if (long) refuse(long.id, `has a series whose key is not a name of at most ${MAX_SERIES_KEY_CHARS} characters`);
}

/** A stored series value: a number, 'NaN' (see codec.ts's encodeReal), or null (an older version's missing loss). */
const isStoredValue = (v: unknown): boolean => v === null || typeof v === 'number' || v === 'NaN';

function assignmentsProblem(blob: unknown): string | null {
  if (blob === null) return null;
  if (!Buffer.isBuffer(blob)) return 'has assignments that are not bytes';
  if (blob.length % 4 !== 0) return `has ${blob.length} bytes of assignments, not a whole number of Int32 values`;
  return blob.length > IMPORT_LIMITS.assignmentBytes
    ? `has ${blob.length} bytes of assignments, more than the ${IMPORT_LIMITS.assignmentBytes} an import takes`
    : null;
}

/** The JSON columns of a run and whether each may be NULL. */
const RUN_JSON: [StoredColumn, boolean][] = [
  ['params', false],
  ['dataset', true],
  ['metrics', true],
  ['evaluation', true],
  ['timings', true],
  ['artifacts', false],
];

/** Why a run row is not one the app could have written (one phrase), or null. */
function runProblem(row: Record<string, unknown>, sweeps: Map<number, SourceSweep>): string | null {
  if (!isId(row.id)) return 'has an id out of range';
  if (typeof row.uid !== 'string' || !UID.test(row.uid)) return `has the uid ${shown(String(row.uid))}, not a hex uid`;
  if (!(TASKS as readonly unknown[]).includes(row.task)) return `has the unknown task ${shown(String(row.task))}`;
  if (!ENDED_STATUSES.includes(row.status as string)) return `has the status ${shown(String(row.status))}`;
  if (!Number.isSafeInteger(row.seed)) return `has the seed ${String(row.seed)}, not an integer`;
  if (typeof row.backend !== 'string' || typeof row.started_at !== 'string') return 'has a backend or start time that is not text';
  if (row.ended_at !== null && typeof row.ended_at !== 'string') return 'has an end time that is not text';
  if (row.error !== null && typeof row.error !== 'string') return 'has an error that is not text';
  for (const [column, nullable] of RUN_JSON) {
    const decoded = decodeStored(column, row[column], nullable);
    if ('problem' in decoded) return `has ${decoded.problem}`;
  }
  return paramsProblem(row.task as TaskName, decodeJson(row.params as string)) ?? sweepLinkProblem(row, sweeps);
}

/** The parameters the app knows are checked with the schema it writes them with; others (an older version's) are kept. */
function paramsProblem(task: TaskName, params: Record<string, unknown>): string | null {
  if (params.task !== undefined && params.task !== task) return `has params of the task ${shown(String(params.task))}, not ${task}`;
  for (const name of PARAM_NAMES) {
    if (params[name] === undefined || !taskTakes(task, name)) continue;
    const parsed = paramSchemaFor(name as ParamName, task).safeParse(params[name]);
    if (!parsed.success) return `has params.${name} = ${JSON.stringify(params[name]).slice(0, 100)}: ${parsed.error.issues[0].message}`;
  }
  return null;
}

function sweepLinkProblem(row: Record<string, unknown>, sweeps: Map<number, SourceSweep>): string | null {
  if (row.sweep_id === null && row.sweep_child === null) return null;
  const sweep = sweeps.get(row.sweep_id as number);
  if (!sweep) return `belongs to the sweep ${String(row.sweep_id)}, which the file does not have`;
  const child = row.sweep_child;
  if (!Number.isSafeInteger(child) || (child as number) < 0 || (child as number) >= sweep.planned)
    return `is the child ${String(child)} of sweep ${sweep.id}, whose plan has ${sweep.planned} runs`;
  return null;
}

/** Artifacts are names → text; those that are paths must point into one of the file's run folders. */
function artifactsProblem(text: string): string | null {
  for (const [key, value] of Object.entries(decodeJson<Record<string, string>>(text))) {
    const problem = recordedPathProblem(key, value);
    if (problem) return problem;
  }
  return null;
}
