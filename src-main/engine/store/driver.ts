import Database from 'better-sqlite3';

/**
 * Under Electron, better-sqlite3 must be built for Electron's ABI: the desktop main process points
 * CLUSTERBENCH_SQLITE_BINDING at that build (resources/native/…/better_sqlite3.node) so node_modules keeps
 * the Node-ABI build for the CLI and tests. Ignored outside Electron.
 */
function electronSqliteBinding(): string | undefined {
  return process.versions.electron ? process.env.CLUSTERBENCH_SQLITE_BINDING || undefined : undefined;
}

/** Opens an SQLite database (a file, or an in-memory copy of one's bytes) with the right native binding. */
export function openSqlite(source: string | Buffer, options: Omit<Database.Options, 'nativeBinding'> = {}): Database.Database {
  return new Database(source, { ...options, nativeBinding: electronSqliteBinding() });
}
