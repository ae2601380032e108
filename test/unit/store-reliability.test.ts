import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  HEARTBEAT_INTERVAL_MS,
  INTERRUPTED,
  RunStore,
  SCHEMA_VERSION,
  StoreError,
  checkDatabaseFolder,
  historyAccess,
  migrate,
  runArtifactsDir,
  STALE_AFTER_MS,
} from '../../src-main/engine/store';
import type { NewRun } from '../../src-main/engine/store/types';
import { queryHandlers, type QueryContext } from '../../src-main/service/queries';

// Issue 10: run histories that never mix, read-only histories, running runs, stale runs of other hosts, bad --db paths.

let root: string;
let n = 0;
const open: RunStore[] = [];
const freshDir = (): string => {
  const dir = join(root, `h-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
function openStore(file: string, opts?: Parameters<typeof RunStore.open>[1]): RunStore {
  const s = RunStore.open(file, opts);
  open.push(s);
  return s;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cb-store-rel-'));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  vi.useRealTimers();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const newRun = (over: Partial<NewRun> = {}): NewRun => ({ task: 'ae-kmeans', params: { k: 10 }, seed: 1, backend: 'cpu', ...over });

function caught(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  throw new Error('expected a StoreError');
}

function rawSet(file: string, sql: string, ...args: unknown[]): void {
  const r = new Database(file);
  r.prepare(sql).run(...args);
  r.close();
}

describe('item 1: each database keeps its own artifacts', () => {
  it('runArtifactsDir is named after the database file, so two databases in one folder never share one', () => {
    const dir = freshDir();
    expect(runArtifactsDir(join(dir, 'a.sqlite'), 1)).toBe(join(dir, 'a.sqlite.artifacts', 'run-1'));
    expect(runArtifactsDir(join(dir, 'a.sqlite'), 1)).not.toBe(runArtifactsDir(join(dir, 'b.sqlite'), 1));
  });

  /** An old-layout (schema 2) history: runs whose files are in `<folder>/artifacts/run-<id>`. */
  function legacyHistory(file: string, runs: { id: number; started: string; ended: string }[]): void {
    const r = new Database(file);
    r.pragma('journal_mode = WAL');
    migrate(r, 2);
    for (const run of runs) {
      const dir = join(dirname(file), 'artifacts', `run-${run.id}`);
      const artifacts = {
        autoencoder: join(dir, 'autoencoder'),
        architecture: 'conv-ae-study-v1',
        codesFit: join(dir, 'codes-fit.f32'),
        codesEval: join(dir, 'codes-eval.f32'),
      };
      r.prepare(
        `INSERT INTO runs (id, task, params, seed, backend, status, started_at, ended_at, artifacts, owner_pid, owner_host)
         VALUES (?, 'ae-kmeans', '{}', 0, 'cpu', 'completed', ?, ?, ?, 1, 'old-host')`,
      ).run(run.id, run.started, run.ended, JSON.stringify(artifacts));
    }
    r.close();
  }

  /** Writes a run folder whose files were all last modified at `when`. */
  function legacyFolder(folder: string, when: string, seed: string): Record<string, Buffer> {
    const files: Record<string, Buffer> = {
      'autoencoder/model.json': Buffer.from(`{"model":"${seed}"}`),
      'autoencoder/weights.bin': createHash('sha256').update(seed).digest(),
      'codes-fit.f32': Buffer.alloc(16, 1),
      'codes-eval.f32': Buffer.alloc(8, 2),
    };
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(folder, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      utimesSync(path, new Date(when), new Date(when));
    }
    return files;
  }

  it('migrates an old-layout history: moves only the folders it can prove are its own, records checksums, says what it left', () => {
    const dir = freshDir();
    const a = join(dir, 'a.sqlite');
    legacyHistory(a, [
      { id: 1, started: '2024-01-01T10:00:00.000Z', ended: '2024-01-01T10:05:00.000Z' },
      { id: 2, started: '2024-01-02T10:00:00.000Z', ended: '2024-01-02T10:05:00.000Z' },
      { id: 3, started: '2024-01-03T10:00:00.000Z', ended: '2024-01-03T10:05:00.000Z' },
    ]);
    // b.sqlite shares the folder: its run 3 ran at the same time as a's, so run-3's files could be either's.
    legacyHistory(join(dir, 'b.sqlite'), [{ id: 3, started: '2024-01-03T10:01:00.000Z', ended: '2024-01-03T10:04:00.000Z' }]);
    const legacy = (id: number) => join(dir, 'artifacts', `run-${id}`);
    const mine = legacyFolder(legacy(1), '2024-01-01T10:04:00.000Z', 'a1');
    legacyFolder(legacy(2), '2024-03-09T08:00:00.000Z', 'someone else'); // written long after a's run 2 ended
    legacyFolder(legacy(3), '2024-01-03T10:03:00.000Z', 'a3 or b3');
    legacyFolder(legacy(9), '2024-01-01T10:04:00.000Z', 'orphan'); // no run 9 in a

    const s = openStore(a);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    // run 1: moved, every byte kept, paths rewritten, checksums recorded
    const moved = runArtifactsDir(a, 1);
    for (const [name, bytes] of Object.entries(mine)) expect(readFileSync(join(moved, name)).equals(bytes), name).toBe(true);
    expect(existsSync(legacy(1))).toBe(false);
    const run1 = s.getRun(1)!;
    expect(run1.artifacts).toMatchObject({
      autoencoder: join(moved, 'autoencoder'),
      codesFit: join(moved, 'codes-fit.f32'),
      codesEval: join(moved, 'codes-eval.f32'),
    });
    expect(run1.artifacts.autoencoderSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run1.artifacts.codesFitSha256).toBe(createHash('sha256').update(mine['codes-fit.f32']).digest('hex'));
    // runs 2 and 3 and the orphan: left where they are, said so
    for (const id of [2, 3, 9]) expect(existsSync(join(legacy(id), 'autoencoder', 'weights.bin'))).toBe(true);
    expect(s.getRun(2)!.artifacts.autoencoder).toBe(join(legacy(2), 'autoencoder'));
    expect(s.getRun(3)!.artifacts.autoencoder).toBe(join(legacy(3), 'autoencoder'));
    expect(s.notices.join('\n')).toMatch(/run-2.*changed after run 2 ended/);
    expect(s.notices.join('\n')).toMatch(/run-3.*b\.sqlite/);
    expect(s.notices).toHaveLength(2);
    for (const notice of s.notices) expect(notice).not.toMatch(/\n/);
    s.close();

    // Reopening moves nothing more and loses nothing.
    const again = openStore(a);
    expect(again.getRun(1)!.artifacts.autoencoder).toBe(join(moved, 'autoencoder'));
    expect(existsSync(join(moved, 'autoencoder', 'weights.bin'))).toBe(true);
    expect(again.notices).toHaveLength(2);
  });
});

describe('item 4: read-only histories', () => {
  it('decides read-only from an injectable writability check', () => {
    const dir = freshDir();
    const file = join(dir, 'runs.sqlite');
    writeFileSync(file, '');
    expect(historyAccess(file, () => true)).toEqual({ readOnly: false });
    expect(historyAccess(file, (p) => p !== file)).toEqual({ readOnly: true, reason: `the file ${file} is not writable` });
    expect(historyAccess(file, (p) => p !== dir)).toEqual({ readOnly: true, reason: `its folder ${dir} is not writable` });
    // A history that does not exist yet is created: read-write.
    expect(historyAccess(join(dir, 'new.sqlite'), () => false)).toEqual({ readOnly: false });
  });

  function v2HistoryWithAStaleRun(file: string): number {
    const r = new Database(file);
    r.pragma('journal_mode = WAL');
    migrate(r, 2);
    const id = Number(
      r
        .prepare(
          `INSERT INTO runs (task, params, seed, backend, status, started_at, owner_pid, owner_host) VALUES ('kmeans', '{"k":10}', 1, 'cpu', 'running', '2024-01-01T00:00:00.000Z', NULL, NULL)`,
        )
        .run().lastInsertRowid,
    );
    r.close();
    return id;
  }

  it('an unwritable history opens read-only: lists and shows, changes nothing, and every write is one clear line', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const id = v2HistoryWithAStaleRun(file);
    const before = readFileSync(file);
    const s = openStore(file, { canWrite: () => false });
    expect(s.readOnly).toBe(true);
    expect(s.listRuns().map((r) => r.id)).toEqual([id]);
    expect(s.getRun(id)!.status).toBe('running'); // not recovered: that would be a write
    expect(s.recoveredRunIds).toEqual([]);
    const err = caught(() => s.createRun(newRun()));
    expect(err.code).toBe('READ_ONLY');
    expect(err.message).toBe(`the run history ${file} is read-only: its folder ${dirname(file)} is not writable`);
    expect(caught(() => s.deleteRun(id)).code).toBe('READ_ONLY');
    expect(caught(() => s.setArtifacts(id, { x: 'y' })).code).toBe('READ_ONLY');
    s.close();
    expect(readFileSync(file).equals(before)).toBe(true);
    const r = new Database(file, { readonly: true });
    expect(r.pragma('user_version', { simple: true })).toBe(2); // not migrated
    r.close();
  });

  it('readOnly: true opens a current history read-only, even a WAL one whose -shm cannot be created', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const w = RunStore.open(file);
    const id = w.createRun(newRun()).id;
    w.failRun(id, 'boom');
    w.close();
    const plain = openStore(file, { readOnly: true });
    expect(plain.readOnly).toBe(true);
    expect(plain.getRun(id)).toMatchObject({ status: 'failed', error: 'boom' });
    plain.close();
    // What a read-only folder does to SQLite (it cannot create the -shm file), reproduced as root.
    rmSync(`${file}-shm`, { force: true });
    symlinkSync('/proc/nonexistent/shm', `${file}-shm`);
    const snap = openStore(file, { readOnly: true });
    expect(snap.getRun(id)).toMatchObject({ status: 'failed', error: 'boom' });
    expect(caught(() => snap.failRun(id, 'x')).message).toMatch(/^the run history .* is read-only: /);
  });

  it('the service reports readOnly and refuses deletes with the same line', async () => {
    const file = join(freshDir(), 'runs.sqlite');
    const w = RunStore.open(file);
    const id = w.createRun(newRun()).id;
    w.cancelRun(id);
    w.close();
    const ctx: QueryContext = { dbPath: file, busy: () => false, emit: () => undefined };
    const rw = openStore(file);
    expect(await queryHandlers['history.info']!({}, rw, ctx)).toEqual({ path: file, readOnly: false });
    const ro = openStore(file, { canWrite: () => false });
    expect(await queryHandlers['history.info']!({}, ro, ctx)).toEqual({
      path: file,
      readOnly: true,
      reason: `its folder ${dirname(file)} is not writable`,
    });
    await expect(Promise.resolve().then(() => queryHandlers['runs.delete']!({ id }, ro, ctx))).rejects.toThrow(/is read-only: /);
  });
});

describe('item 5: a running run cannot be deleted', () => {
  it('refuses with one line while the run is live; a dead one can go', async () => {
    const file = join(freshDir(), 'runs.sqlite');
    const s = openStore(file);
    const live = s.createRun(newRun()).id;
    const err = caught(() => s.deleteRun(live));
    expect(err.code).toBe('RUN_ACTIVE');
    expect(err.message).toBe(`run ${live} is still running: cancel it first`);
    expect(s.getRun(live)!.status).toBe('running');

    // The service path says the same and keeps the run's files.
    const files = runArtifactsDir(file, live);
    mkdirSync(files, { recursive: true });
    writeFileSync(join(files, 'x'), 'keep');
    const ctx: QueryContext = { dbPath: file, busy: () => false, emit: () => undefined };
    await expect(Promise.resolve().then(() => queryHandlers['runs.delete']!({ id: live }, s, ctx))).rejects.toThrow(
      `run ${live} is still running: cancel it first`,
    );
    expect(existsSync(join(files, 'x'))).toBe(true);

    // A run whose owner stopped beating long ago is not live, whatever its status says.
    const dead = s.createRun(newRun()).id;
    rawSet(file, "UPDATE runs SET owner_host = 'elsewhere', heartbeat_at = ? WHERE id = ?", Date.now() - STALE_AFTER_MS - 1000, dead);
    expect(s.deleteRun(dead)).toBe(true);
    s.cancelRun(live);
    expect(s.deleteRun(live)).toBe(true);
  });
});

describe('item 9: stale runs are recovered by heartbeat, whatever host wrote them', () => {
  it('a run of another host is left alone while it beats and marked interrupted once it stops', () => {
    const file = join(freshDir(), 'runs.sqlite');
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const clock = { now: () => now };
    const owner = openStore(file, clock);
    const id = owner.createRun(newRun()).id;
    rawSet(file, "UPDATE runs SET owner_host = 'container-b', owner_pid = 1 WHERE id = ?", id);

    now += STALE_AFTER_MS - 1000;
    expect(openStore(file, clock).recoveredRunIds).toEqual([]);
    owner.heartbeat(id); // the owner is alive: beats
    now += STALE_AFTER_MS - 1000;
    expect(openStore(file, clock).recoveredRunIds).toEqual([]);
    now += 2000; // no beat for longer than the threshold
    const later = openStore(file, clock);
    expect(later.recoveredRunIds).toEqual([id]);
    expect(later.getRun(id)).toMatchObject({ status: 'failed', error: INTERRUPTED });
  });

  it('keepAlive beats on an unref’d timer until stopped', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const file = join(freshDir(), 'runs.sqlite');
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const s = openStore(file, { now: () => now });
    const id = s.createRun(newRun()).id;
    const beat = () =>
      (new Database(file).prepare('SELECT heartbeat_at FROM runs WHERE id = ?').get(id) as { heartbeat_at: number }).heartbeat_at;
    expect(beat()).toBe(now);
    const alive = s.keepAlive(id, 5000);
    now += 5000;
    vi.advanceTimersByTime(5000);
    expect(beat()).toBe(now);
    alive.stop();
    now += 5000;
    vi.advanceTimersByTime(5000);
    expect(beat()).toBe(now - 5000);
  });

  it('a migrated schema-2 run gets a grace period, not an instant failure', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const r = new Database(file);
    migrate(r, 2);
    const id = Number(
      r
        .prepare(
          `INSERT INTO runs (task, params, seed, backend, status, started_at, owner_pid, owner_host) VALUES ('kmeans', '{}', 1, 'cpu', 'running', '2024-01-01T00:00:00.000Z', 1, 'container-b')`,
        )
        .run().lastInsertRowid,
    );
    r.close();
    const s = openStore(file);
    expect(s.recoveredRunIds).toEqual([]);
    expect(s.getRun(id)!.status).toBe('running');
    const later = openStore(file, { now: () => Date.now() + STALE_AFTER_MS + 1000 });
    expect(later.recoveredRunIds).toEqual([id]);
  });
});

describe('item 10: a --db path that cannot hold a database', () => {
  it('fails at once with one line for /proc, /sys, files in the way and unwritable folders', () => {
    const started = Date.now();
    expect(() => checkDatabaseFolder('/proc/nonexistent/x.sqlite')).toThrow(
      /^cannot create the run history \/proc\/nonexistent\/x\.sqlite: \/proc is not a normal filesystem$/,
    );
    expect(() => checkDatabaseFolder('/sys/kernel/nope/x.sqlite')).toThrow(/\/sys\/kernel is not a normal filesystem/);
    const dir = freshDir();
    writeFileSync(join(dir, 'plain-file'), 'x');
    expect(() => checkDatabaseFolder(join(dir, 'plain-file', 'sub', 'x.sqlite'))).toThrow(`${join(dir, 'plain-file')} is not a folder`);
    expect(() => checkDatabaseFolder(join(dir, 'a', 'b', 'x.sqlite'), () => false)).toThrow(`${dir} is not writable`);
    expect(() => RunStore.open('/proc/nonexistent/x.sqlite')).toThrow(StoreError);
    expect(Date.now() - started).toBeLessThan(2000);
    // A good path is created, folder by folder.
    const file = join(dir, 'a', 'b', 'x.sqlite');
    openStore(file).close();
    expect(existsSync(file)).toBe(true);
  });
});

describe('issue 19: a sweep is claimed by the process that runs it', () => {
  const plan = { task: 'kmeans' as const, base: { task: 'kmeans' }, grid: [['k', [5, 10]]] as [string, unknown[]][], seeds: [0, 1] };
  /** Gives sweep `id` an owner: another live process on this host (our parent), or a pid that does not exist. */
  const ownedBy = (file: string, id: number, pid: number, heartbeat = Date.now(), host = hostname()) =>
    rawSet(
      file,
      "UPDATE sweeps SET status = 'running', owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?",
      pid,
      host,
      heartbeat,
      id,
    );
  const DEAD_PID = 2147483646;

  it('one claim at a time: a live owner is refused in one line; a dead or silent one is taken over', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const s = openStore(file);
    const { id } = s.createSweep(plan);
    expect(s.claimSweep(id)).toMatchObject({ id, status: 'running', endedAt: null });
    // a second claim, even from this process, is refused while the first beats
    expect(caught(() => s.claimSweep(id))).toMatchObject({
      code: 'RUN_ACTIVE',
      message: `sweep ${id} is already running (process ${process.pid} on ${hostname()}): cancel it first or wait for it to end`,
    });
    ownedBy(file, id, process.ppid);
    expect(caught(() => openStore(file).claimSweep(id)).message).toContain(`(process ${process.ppid} on ${hostname()})`);
    ownedBy(file, id, DEAD_PID); // its process on this host is gone
    expect(s.claimSweep(id).status).toBe('running');
    ownedBy(file, id, 1, Date.now() - STALE_AFTER_MS - 1000, 'another-host'); // no beat for longer than the runs' limit
    expect(s.claimSweep(id).status).toBe('running');
    expect(s.beatSweep(id)).toBe('owned');
    ownedBy(file, id, 1, Date.now(), 'another-host'); // taken over by a process elsewhere
    expect(s.beatSweep(id)).toBe('taken-over');
    expect(s.endSweep(id, 'cancelled')).toBe(false); // not ours any more: its state is left to its owner
    expect(s.getSweep(id)!.status).toBe('running');
  });

  it('a beat is a check, written only once due: frequent checks never wait for the write lock, and the claim stays live', () => {
    const file = join(freshDir(), 'runs.sqlite');
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const s = openStore(file, { now: () => now });
    const { id } = s.createSweep(plan);
    s.claimSweep(id);
    const heartbeat = () => {
      const r = new Database(file, { readonly: true });
      const row = r.prepare('SELECT heartbeat_at FROM sweeps WHERE id = ?').get(id) as { heartbeat_at: number };
      r.close();
      return row.heartbeat_at;
    };
    const claimedAt = now;
    now += HEARTBEAT_INTERVAL_MS - 1;
    expect(s.beatSweep(id)).toBe('owned');
    expect(heartbeat()).toBe(claimedAt);
    now += 1;
    expect(s.beatSweep(id)).toBe('owned');
    expect(heartbeat()).toBe(now);
  });

  it('a live claim refuses delete ("cancel it first"); cancel asks its owner, or settles a sweep whose owner is gone', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const s = openStore(file);
    const { id } = s.createSweep(plan);
    s.claimSweep(id);
    expect(caught(() => s.deleteSweep(id))).toMatchObject({ code: 'RUN_ACTIVE', message: expect.stringMatching(/cancel it first/) });
    expect(s.cancelSweep(id)).toBe('requested');
    expect(s.beatSweep(id)).toBe('cancel-requested');
    expect(s.endSweep(id, 'cancelled')).toBe(true);
    expect(s.getSweep(id)).toMatchObject({ status: 'cancelled', endedAt: expect.any(String) });
    expect(s.cancelSweep(id)).toBe('not-running');
    expect(s.claimSweep(id).status).toBe('running'); // resumed: the old cancel request is gone
    expect(s.beatSweep(id)).toBe('owned');
    ownedBy(file, id, DEAD_PID);
    expect(s.cancelSweep(id)).toBe('cancelled');
    expect(s.getSweep(id)!.status).toBe('cancelled');
    expect(s.deleteSweep(id)).toEqual([]);
    expect(s.beatSweep(id)).toBe('deleted');
    expect(caught(() => s.cancelSweep(id)).code).toBe('NOT_FOUND');
  });

  it('on open, a running sweep whose owner is gone is interrupted: cancelled (resumable), or settled when every child ended', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const s = openStore(file);
    const killed = s.createSweep(plan).id;
    const finished = s.createSweep({ ...plan, grid: [], seeds: [0] }).id;
    const live = s.createSweep(plan).id;
    const child = s.createRun(newRun({ sweep: { sweepId: finished, child: 0 } })).id;
    s.failRun(child, 'boom');
    for (const id of [killed, finished]) ownedBy(file, id, DEAD_PID);
    ownedBy(file, live, process.ppid);
    const later = openStore(file);
    expect(later.recoveredSweepIds).toEqual([killed, finished]);
    expect([killed, finished, live].map((id) => later.getSweep(id)!.status)).toEqual(['cancelled', 'failed', 'running']);
    expect(later.claimSweep(killed).status).toBe('running'); // and it can be resumed
  });

  it('a running sweep with a live child run elsewhere (a Slurm task, no claim) is left alone', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const s = openStore(file);
    const { id } = s.createSweep(plan);
    s.setSweepStatus(id, 'running');
    s.createRun(newRun({ sweep: { sweepId: id, child: 0 } }));
    expect(openStore(file).recoveredSweepIds).toEqual([]);
    expect(caught(() => s.claimSweep(id)).message).toMatch(
      /^sweep \d+ is already running \(run \d+ is running\): cancel it first or wait for it to end$/,
    );
  });

  it('migrates a schema-4 history: its sweeps get no owner, and it opens at the current version', () => {
    const file = join(freshDir(), 'runs.sqlite');
    const r = new Database(file);
    migrate(r, 4);
    r.prepare(
      `INSERT INTO sweeps (uid, task, base, grid, seeds, status, created_at) VALUES ('u1', 'kmeans', '{"task":"kmeans"}', '[]', '[0,1]', 'running', '2024-01-01T00:00:00.000Z')`,
    ).run();
    r.close();
    const s = openStore(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(s.recoveredSweepIds).toEqual([1]); // running, with no owner and no live child: interrupted
    expect(s.getSweep(1)!.status).toBe('cancelled');
  });
});

describe('issue 19: a writer waits for a long write (a big runs import) instead of failing', () => {
  it('a run created while another process holds the write lock for 7 s waits for it, then is stored', async () => {
    const file = join(freshDir(), 'runs.sqlite');
    openStore(file).close();
    // Another process holds the write lock as a long `runs import` does (its inserts are one transaction).
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)}); db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 7000);`,
      ],
      { cwd: join(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((locked) => holder.stdout!.once('data', () => locked()));
    const started = Date.now();
    const store = openStore(file); // opening writes too (WAL, migrations): it waits first
    const run = store.createRun(newRun()); // waited past SQLite's old 5 s busy timeout ("database is locked")
    expect(Date.now() - started).toBeGreaterThan(5000);
    expect(store.getRun(run.id)?.status).toBe('running');
    await new Promise((ended) => holder.on('close', ended));
  }, 60_000);
});
