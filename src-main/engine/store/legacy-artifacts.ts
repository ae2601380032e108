import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { artifactsRoot, checksumsOf, filesUnder, legacyRunArtifactsDir, runArtifactsDir } from './artifact-files';
import { openSqlite } from './driver';
import { APPLICATION_ID } from './migrations';
import type { RunArtifacts } from './types';

/** An ended run whose recorded files are in the old layout, `<folder of the db>/artifacts/run-<id>`. */
export interface LegacyRun {
  id: number;
  startedAt: string;
  endedAt: string;
  artifacts: RunArtifacts;
}

/** How far a file's modification time may stray outside its run's recorded start and end (clocks, file systems). */
const SLACK_MS = 2000;

/**
 * Moves old-layout run folders, which every database in the folder shared, into this database's own artifacts folder,
 * but only those it can show are its own: every file in it was written while this run ran, and no other run history
 * in the folder has a run with the same id that points there and ran then. Moved runs point at the new place and get
 * their checksums recorded (`record`). A folder that cannot be shown to be ours is left where it is, with one line
 * saying why in the returned notices; its run keeps its paths, and its encoder is not reused (no checksum).
 */
export function relocateLegacyArtifacts(
  dbPath: string,
  runs: LegacyRun[],
  record: (id: number, artifacts: RunArtifacts) => void,
): string[] {
  const notices: string[] = [];
  for (const run of runs) {
    const from = legacyRunArtifactsDir(dbPath, run.id);
    const to = runArtifactsDir(dbPath, run.id);
    if (!Object.values(run.artifacts).some((path) => path?.startsWith(from + sep))) continue;
    if (existsSync(from)) {
      const doubt = existsSync(to) ? `${to} already exists` : whyNotOurs(dbPath, run, from);
      if (doubt) {
        notices.push(`left ${from} where it is: ${doubt}; run ${run.id}'s encoder will not be reused`);
        continue;
      }
      mkdirSync(artifactsRoot(dbPath), { recursive: true });
      renameSync(from, to);
    }
    // Also finishes a move whose recording was interrupted: the files are already in our own folder.
    if (existsSync(to)) record(run.id, movedArtifacts(run.artifacts, from, to));
  }
  return notices;
}

function movedArtifacts(artifacts: RunArtifacts, from: string, to: string): RunArtifacts {
  const moved: Record<string, string> = {};
  for (const [key, path] of Object.entries(artifacts)) {
    if (path?.startsWith(from + sep)) moved[key] = to + path.slice(from.length);
  }
  return { ...moved, ...checksumsOf(moved) };
}

const modifiedTimes = (folder: string): number[] => filesUnder(folder).map((name) => statSync(join(folder, name)).mtimeMs);

const ranDuring = (run: { startedAt: string; endedAt: string }, times: number[]): boolean =>
  times.every((t) => t >= Date.parse(run.startedAt) - SLACK_MS && t <= Date.parse(run.endedAt) + SLACK_MS);

/** Why `folder` may not be this run's, or null when it is. */
function whyNotOurs(dbPath: string, run: LegacyRun, folder: string): string | null {
  const times = modifiedTimes(folder);
  if (times.some((t) => t > Date.parse(run.endedAt) + SLACK_MS))
    return `its files changed after run ${run.id} ended, so they may be another history's`;
  if (!ranDuring(run, times)) return `its files are older than run ${run.id}, so they may be another history's`;
  const rival = otherHistories(dbPath).find((other) => mayOwn(other, run.id, folder, times));
  return rival ? `run ${run.id} of ${rival} ran at the same time and may have written it` : null;
}

/** The other SQLite files in the database's folder that may be run histories (application id ours, or not set yet). */
function otherHistories(dbPath: string): string[] {
  const dir = dirname(dbPath);
  const self = realpathSync(dbPath);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(dir, entry.name))
    .filter((file) => realpathSync(file) !== self && mayBeRunHistory(file));
}

function mayBeRunHistory(file: string): boolean {
  const header = Buffer.alloc(72);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    if (readSync(fd, header, 0, header.length, 0) < header.length) return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return false;
  const applicationId = header.readUInt32BE(68);
  // 0: another application's database, or ours with the id still in its WAL file; only its tables can tell.
  return applicationId === APPLICATION_ID || applicationId === 0;
}

/** Whether `other` has a run `id` that points into `folder` and ran when its files were written; true when unreadable. */
function mayOwn(other: string, id: number, folder: string, times: number[]): boolean {
  try {
    const db = openSqlite(other, { readonly: true, fileMustExist: true });
    try {
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get()) return false;
      const row = db.prepare('SELECT started_at, ended_at, artifacts FROM runs WHERE id = ?').get(id) as
        { started_at: string; ended_at: string | null; artifacts: string } | undefined;
      if (!row || !row.artifacts.includes(JSON.stringify(folder + sep).slice(1, -1))) return false;
      return ranDuring({ startedAt: row.started_at, endedAt: row.ended_at ?? new Date().toISOString() }, times);
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}
