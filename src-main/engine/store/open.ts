/**
 * Opening a run history: for writing (created if missing, WAL mode, migrated), or read-only (in place, or as an
 * in-memory snapshot when SQLite cannot read the WAL database in place). Both refuse, before anything could modify
 * the file, a database of a newer schema, one that belongs to another application, and a damaged one; every
 * failure closes the connection and becomes a StoreError naming the file.
 */
import type Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { openSqlite } from './driver';
import { StoreError } from './errors';
import { checkDatabaseFolder, makeDatabaseFolder, type WritableCheck } from './location';
import { APPLICATION_ID, SCHEMA_VERSION, migrate, userVersion } from './migrations';

/**
 * How long a writer waits for another process's write to end before it fails with "database is locked". A big
 * `runs import` holds the write lock for its inserts (about 0.35 ms a run, measured: 1.1 s for 3,000 runs), and a
 * run or a sweep's claim started meanwhile should wait for it, not fail at SQLite's usual 5 s.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

/** How to open: the busy timeout (default DEFAULT_BUSY_TIMEOUT_MS) and the writability check used before creating the folder. */
export interface OpenSettings {
  busyTimeoutMs?: number;
  canWrite?: WritableCheck;
}

function sqliteCode(e: unknown): string | undefined {
  return e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** Opens an existing history read-only; SQLite cannot read a WAL database in place when it cannot create its -shm file. */
function openReadOnly(path: string, timeout: number): { db: Database.Database; snapshotNote?: string } {
  if (!existsSync(path)) throw new StoreError('CANNOT_OPEN', `there is no run history at ${path}`);
  const db = openSqlite(path, { readonly: true, fileMustExist: true, timeout });
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return { db };
  } catch (e) {
    db.close();
    if (!/^SQLITE_(CANTOPEN|READONLY)/.test(sqliteCode(e) ?? '')) throw e;
  }
  return { db: openSnapshot(path), snapshotNote: snapshotNote(path) };
}

/** An in-memory copy of the database file, switched to rollback-journal mode (an in-memory database cannot use WAL). */
function openSnapshot(path: string): Database.Database {
  const bytes = readFileSync(path);
  if (bytes.length >= 20) bytes[18] = bytes[19] = 1;
  return openSqlite(bytes, { readonly: true });
}

function snapshotNote(path: string): string | undefined {
  const wal = `${path}-wal`;
  return existsSync(wal) && statSync(wal).size > 0 ? `changes still in ${wal} are not shown` : undefined;
}

/** Opens (creating it if needed) a history for writing, then `create`s the store on the migrated connection. */
export function openForWriting<T>(path: string, options: OpenSettings, create: (db: Database.Database) => T): T {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!existsSync(path)) {
    checkDatabaseFolder(path, options.canWrite);
    try {
      makeDatabaseFolder(path);
    } catch (e) {
      throw new StoreError('CANNOT_OPEN', `cannot create the folder for the run database ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  let db: Database.Database;
  try {
    db = openSqlite(path, { timeout: busyTimeoutMs });
  } catch (e) {
    throw new StoreError('CANNOT_OPEN', `cannot open the run database ${path}: ${(e as Error).message}`, { cause: e });
  }
  return checked(path, db, () => {
    checkBeforeWriting(db, path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    migrate(db);
    // Another process may have run a newer Clusterbench's migrations in between.
    const v = userVersion(db);
    if (v !== SCHEMA_VERSION) throw futureVersion(path, v);
    return create(db);
  });
}

/**
 * Opens an existing history read-only (`reason`: why), then `create`s the store with the reason it is read-only
 * (noting changes a snapshot cannot show).
 */
export function openForReading<T>(
  path: string,
  options: OpenSettings,
  reason: string,
  create: (db: Database.Database, readOnlyReason: string) => T,
): T {
  let opened: ReturnType<typeof openReadOnly>;
  try {
    opened = openReadOnly(path, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError('CANNOT_OPEN', `cannot open the run database ${path}: ${(e as Error).message}`, { cause: e });
  }
  const { db, snapshotNote } = opened;
  return checked(path, db, () => {
    checkBeforeWriting(db, path);
    if (userVersion(db) === 0) throw new StoreError('NOT_A_DATABASE', `${path} is empty: it holds no run history yet`);
    return create(db, snapshotNote ? `${reason} (${snapshotNote})` : reason);
  });
}

/** Runs the checks of a fresh connection; any failure closes it and becomes a StoreError naming the file. */
function checked<T>(path: string, db: Database.Database, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    const code = sqliteCode(e);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new StoreError('NOT_A_DATABASE', `${path} is not a valid SQLite run database (${(e as Error).message})`, { cause: e });
    }
    throw new StoreError('CANNOT_OPEN', `cannot open the run database ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Read-only checks, done before anything (WAL switch, migrations) could modify the file. */
function checkBeforeWriting(db: Database.Database, path: string): void {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) throw futureVersion(path, version);
  const appId = db.pragma('application_id', { simple: true }) as number;
  // Reading sqlite_master also detects damaged files whose header alone still looks valid.
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").get() as {
    n: number;
  };
  if ((appId !== 0 && appId !== APPLICATION_ID) || (version === 0 && tables.n > 0)) {
    throw new StoreError('FOREIGN_DATABASE', `${path} is an SQLite database that does not belong to Clusterbench; refusing to modify it`);
  }
}

function futureVersion(path: string, version: number): StoreError {
  return new StoreError(
    'FUTURE_VERSION',
    `${path} has schema version ${version}, newer than this Clusterbench understands (${SCHEMA_VERSION}); ` +
      'it was written by a newer version: upgrade Clusterbench or use another database file. The file was not modified.',
  );
}
