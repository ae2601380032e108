/**
 * One open run history, as the parts of the store (runs, sweeps, liveness) share it: the connection, this process's
 * host and clock, and the transactions every read and write goes through.
 */
import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { StoreError } from './errors';
import { userVersion } from './migrations';

export class HistoryDb {
  readonly host = hostname();

  constructor(
    readonly path: string,
    private readonly db: Database.Database,
    /** The clock for heartbeats, in ms since the epoch. */
    readonly now: () => number,
    /** Why the history is read-only, or null when it can write. */
    readonly readOnlyReason: string | null,
  ) {}

  get conn(): Database.Database {
    if (!this.db.open) throw new StoreError('CLOSED', `the run database ${this.path} is closed`);
    return this.db;
  }

  /** Throws the one-line READ_ONLY error when this history cannot be written. */
  assertWritable(): void {
    if (this.readOnlyReason !== null)
      throw new StoreError('READ_ONLY', `the run history ${this.path} is read-only: ${this.readOnlyReason}`);
  }

  /** Runs `fn` in a write-locked (IMMEDIATE) transaction: concurrent writers wait for each other up to the busy timeout. */
  write<T>(fn: () => T): T {
    this.assertWritable();
    return this.conn.transaction(fn).immediate();
  }

  /** Runs `fn` in a read transaction: one consistent snapshot. */
  read<T>(fn: () => T): T {
    return this.conn.transaction(fn).deferred();
  }

  /** The current schema version (PRAGMA user_version). */
  get schemaVersion(): number {
    return userVersion(this.conn);
  }

  /** Whether an owner (pid on host) is this process. */
  isThisProcess(owner: { owner_pid: number | null; owner_host: string | null }): boolean {
    return owner.owner_pid === process.pid && owner.owner_host === this.host;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
