import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';

/**
 * Schema migrations, applied in order. `PRAGMA user_version` holds the number of the last one applied;
 * each migration runs in its own IMMEDIATE transaction together with the user_version bump, so a crash
 * leaves the database at a whole version. Never edit a released migration: append a new one.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/** `PRAGMA application_id` of Clusterbench run databases ('CLBR'). */
export const APPLICATION_ID = 0x434c4252;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema: runs, run_losses, run_assignments',
    up(db) {
      db.exec(`
        CREATE TABLE runs (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          task        TEXT    NOT NULL,
          params      TEXT    NOT NULL CHECK (json_valid(params)),
          seed        INTEGER NOT NULL,
          dataset     TEXT             CHECK (dataset IS NULL OR json_valid(dataset)),
          backend     TEXT    NOT NULL,
          status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
          error       TEXT,
          started_at  TEXT    NOT NULL,
          ended_at    TEXT,
          metrics     TEXT             CHECK (metrics IS NULL OR json_valid(metrics)),
          evaluation  TEXT             CHECK (evaluation IS NULL OR json_valid(evaluation)),
          timings     TEXT             CHECK (timings IS NULL OR json_valid(timings)),
          artifacts   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(artifacts))
        );
        CREATE INDEX runs_task_started ON runs (task, started_at);
        CREATE INDEX runs_started ON runs (started_at);

        CREATE TABLE run_losses (
          run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
          epoch       INTEGER NOT NULL CHECK (epoch >= 0),
          train_loss  REAL,
          val_loss    REAL,
          PRIMARY KEY (run_id, epoch)
        ) WITHOUT ROWID;

        CREATE TABLE run_assignments (
          run_id      INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
          data        BLOB    NOT NULL
        );
      `);
      db.pragma(`application_id = ${APPLICATION_ID}`);
    },
  },
  {
    version: 2,
    name: 'run ownership (pid + host) for stale-run recovery',
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
        ALTER TABLE runs ADD COLUMN owner_host TEXT;
        CREATE INDEX runs_status ON runs (status);
      `);
    },
  },
  {
    version: 3,
    name: 'run heartbeats, for stale-run recovery whatever host a run is on',
    up(db) {
      // Active runs start with a beat now: a live owner (on another host, running older code) gets the grace period.
      db.exec(`
        ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
        UPDATE runs SET heartbeat_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE status IN ('queued', 'running');
      `);
    },
  },
  {
    version: 4,
    name: 'sweeps: a sweep and its child runs; a uid on every run (for imports across histories)',
    up(db) {
      db.exec(`
        CREATE TABLE sweeps (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          uid         TEXT    NOT NULL UNIQUE,
          name        TEXT,
          task        TEXT    NOT NULL,
          base        TEXT    NOT NULL CHECK (json_valid(base)),
          grid        TEXT    NOT NULL CHECK (json_valid(grid)),
          seeds       TEXT    NOT NULL CHECK (json_valid(seeds)),
          status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'partial', 'failed', 'cancelled')),
          created_at  TEXT    NOT NULL,
          ended_at    TEXT
        );
        ALTER TABLE runs ADD COLUMN uid TEXT;
        ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps (id) ON DELETE SET NULL;
        ALTER TABLE runs ADD COLUMN sweep_child INTEGER;
      `);
      // Older runs' uids come from what they are, so a copy of this history taken before it was migrated is still
      // recognised as the same runs by `runs import` (which migrates such a copy the same way).
      deriveRunUids(db);
      db.exec(`
        CREATE UNIQUE INDEX runs_uid ON runs (uid);
        CREATE INDEX runs_sweep ON runs (sweep_id, sweep_child);
      `);
    },
  },
  {
    version: 5,
    name: 'sweep claims: the process running a sweep (pid + host + heartbeat), and a cancel asked by another',
    up(db) {
      // No grace period as in version 3: a process of an older version cannot reopen this schema, so a sweep it runs
      // stops at its next step anyway; a running sweep without an owner is interrupted once none of its runs is live.
      db.exec(`
        ALTER TABLE sweeps ADD COLUMN owner_pid INTEGER;
        ALTER TABLE sweeps ADD COLUMN owner_host TEXT;
        ALTER TABLE sweeps ADD COLUMN heartbeat_at INTEGER;
        ALTER TABLE sweeps ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1));
      `);
    },
  },
  {
    version: 6,
    name: 'per-step series: one (run, key, step, value) table instead of the loss columns, so any per-step metric can be kept',
    up(db) {
      // Values are copied as they are (a damaged one still reads as a note, see queries.ts's toRecord); an epoch without
      // a validation loss gets no valLoss row. Rows of runs that are gone (a damaged history) are left behind.
      db.exec(`
        CREATE TABLE run_series (
          run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
          key         TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
          step        INTEGER NOT NULL CHECK (step >= 0),
          value       REAL,
          PRIMARY KEY (run_id, key, step)
        ) WITHOUT ROWID;
        INSERT INTO run_series (run_id, key, step, value)
          SELECT run_id, 'trainLoss', epoch, train_loss FROM run_losses WHERE run_id IN (SELECT id FROM runs);
        INSERT INTO run_series (run_id, key, step, value)
          SELECT run_id, 'valLoss', epoch, val_loss FROM run_losses WHERE val_loss IS NOT NULL AND run_id IN (SELECT id FROM runs);
        DROP TABLE run_losses;
      `);
    },
  },
  {
    version: 7,
    name: 'data sets: the data sets added to the history (datasets add), by name, with where to read them again',
    up(db) {
      // The name is checked here as DATASET_NAME_PATTERN writes it (GLOB is case-sensitive, like the BINARY primary key):
      // a row written by hand cannot name a path or a shell word either. The JSON columns are checked on write and read.
      db.exec(`
        CREATE TABLE datasets (
          name        TEXT    NOT NULL PRIMARY KEY
                              CHECK (length(name) BETWEEN 1 AND 64 AND name GLOB '[A-Za-z0-9]*' AND name NOT GLOB '*[^A-Za-z0-9._-]*'),
          uid         TEXT    NOT NULL UNIQUE,
          shape       TEXT    NOT NULL CHECK (json_valid(shape)),
          source      TEXT    NOT NULL CHECK (json_valid(source)),
          sha256      TEXT    NOT NULL,
          counts      TEXT    NOT NULL CHECK (json_valid(counts)),
          class_names TEXT             CHECK (class_names IS NULL OR json_valid(class_names)),
          notes       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(notes)),
          created_at  TEXT    NOT NULL
        );
      `);
    },
  },
];

/** A run's uid from its content: the same old run gets the same uid in every copy of its history. */
function deriveRunUids(db: Database.Database): void {
  db.function('clusterbench_content_uid', { varargs: true }, (...parts: unknown[]) =>
    createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32),
  );
  db.exec('UPDATE runs SET uid = clusterbench_content_uid(id, task, params, seed, started_at, ended_at, backend) WHERE uid IS NULL');
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies the migrations after the database's current version, up to `target` (default: all).
 * Safe against another process migrating at the same time: the version is re-read inside each
 * write-locked transaction. Returns the versions it applied.
 */
export function migrate(db: Database.Database, target: number = SCHEMA_VERSION): number[] {
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    const step = db.transaction(() => {
      if (userVersion(db) >= m.version) return false;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return applied;
}
