/**
 * The other database `runs import` reads: loaded as an in-memory copy (a consistent snapshot, WAL content included),
 * checked, and migrated to this schema in memory, so the user's file is never modified, whatever its version.
 */
import type Database from 'better-sqlite3';
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { openSqlite } from './driver';
import { StoreError } from './errors';
import { INTERRUPTED, isStale, type OwnerRow } from './liveness';
import { SCHEMA_VERSION, migrate } from './migrations';
import { openForReading } from './open';

/** The schema that gave runs and sweeps their uids (migration 4, "sweeps"). */

/** Why a file cannot be imported, in one line naming the file. */
export class ImportRefused extends StoreError {}

function refuse(file: string, why: string, cause?: unknown): ImportRefused {
  return new ImportRefused('INVALID', `${file}: ${why}`, { cause });
}

/** A missing or unreadable file, or one that is not SQLite at all, is refused in one line. */
function checkReadable(file: string): void {
  if (!existsSync(file)) throw refuse(file, 'no such file');
  if (!statSync(file).isFile()) throw refuse(file, 'not a file');
  try {
    accessSync(file, constants.R_OK);
  } catch (e) {
    throw refuse(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) throw refuse(file, 'not an SQLite database, so not a Clusterbench run history');
}

/** The first bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Reads the database through the store's own read-only checks (newer schema, another application, damage) into memory. */
function snapshotBytes(file: string): Buffer {
  try {
    return openForReading(file, {}, 'it is being imported', (db) => {
      try {
        return db.serialize();
      } finally {
        db.close();
      }
    });
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    if (e.code === 'FOREIGN_DATABASE')
      throw refuse(file, 'not a Clusterbench run database (its SQLite application id is not Clusterbench’s)', e);
    if (e.code === 'FUTURE_VERSION')
      throw refuse(
        file,
        `schema version ${futureVersionOf(e.message)}, newer than this Clusterbench's ${SCHEMA_VERSION}: import it with a newer Clusterbench`,
        e,
      );
    throw new ImportRefused(e.code, e.message.includes(file) ? e.message : `${file}: ${e.message}`, { cause: e });
  }
}

function futureVersionOf(message: string): string {
  return /schema version (\d+)/.exec(message)?.[1] ?? 'unknown';
}

/**
 * Opens `file` as a migrated in-memory copy (runs of an older schema get their uids from what they are, as
 * migration 4 gives them, so the same old file imported twice is still recognised), and active runs whose owner is gone are taken as failed (interrupted).
 */
export function loadSource(file: string): Database.Database {
  checkReadable(file);
  const bytes = snapshotBytes(file);
  // An in-memory database cannot be in WAL mode: switch the header to a rollback journal (as open.ts's snapshot does).
  if (bytes.length >= 20) bytes[18] = bytes[19] = 1;
  const db = openSqlite(bytes);
  try {
    migrate(db);
    settleStaleRuns(db, file);
    return db;
  } catch (e) {
    db.close();
    if (e instanceof ImportRefused) throw e;
    throw refuse(file, `cannot be read as a run history (${(e as Error).message})`, e);
  }
}

/** Active runs: dead owners → failed 'interrupted' in the copy; a live one refuses the file (its result is not there yet). */
function settleStaleRuns(db: Database.Database, file: string): void {
  const active = db
    .prepare("SELECT id, status, owner_pid, owner_host, heartbeat_at, uid FROM runs WHERE status IN ('queued', 'running')")
    .all() as (OwnerRow & { uid: string })[];
  const now = Date.now();
  const host = hostname();
  const end = db.prepare("UPDATE runs SET status = 'failed', error = ?, ended_at = ? WHERE id = ?");
  for (const run of active) {
    if (!isStale(run, now, host)) {
      throw refuse(file, `run ${run.id} (uid ${run.uid}) is still ${run.status} there: import the file once it has ended`);
    }
    end.run(INTERRUPTED, new Date(now).toISOString(), run.id);
  }
}
