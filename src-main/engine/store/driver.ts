import Database from 'better-sqlite3';

/**
 * Opens an SQLite database (a file, or an in-memory copy of one's bytes). better-sqlite3 13 is a Node-API addon
 * with prebuilt binaries: the same file loads in Node (CLI, web mode, tests) and in Electron's main process and
 * engine worker, so there is no separate Electron build to point at (test/integration/native-addons.test.ts keeps it so).
 */
export function openSqlite(source: string | Buffer, options: Database.Options = {}): Database.Database {
  return new Database(source, options);
}
