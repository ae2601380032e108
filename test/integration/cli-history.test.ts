import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore, migrate, runArtifactsDir } from '../../src-main/engine/store';
import { repoRoot, runCli, tempHome, type CliResult } from '../helpers/cli';
import { startRunOwner } from '../helpers/run-owner';
import { missingPrereq, recordSkip } from '../helpers/prereqs';

// Issue 10 through the CLI: two histories in one folder, a running run, a --db under /proc, a read-only history.

const SMALL = ['--epochs', '1', '--n-init', '1', '--backend', 'wasm', '--train-limit', '600', '--test-limit', '200'];

/** The CLI with a deadline: resolves with code null (killed) when it takes longer than `ms`. */
function runCliWithin(ms: number, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { ms: number }> {
  return new Promise((done, fail) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src-main/cli/bin.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const lines = (text: string) => text.trim().split('\n').filter(Boolean);

describe('item 1: two run databases in one folder', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  const a = join(home, 'a.sqlite');
  const b = join(home, 'b.sqlite');

  it('keep their own artifacts, reuse only their own verified encoder, and delete only their own files', async () => {
    const first = await runCli(['run', '--task', 'ae-kmeans', '--seed', '0', ...SMALL, '--db', a, '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['run', '--task', 'ae-kmeans', '--seed', '7', ...SMALL, '--db', b, '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(first.stdout).id).toBe(1);
    expect(JSON.parse(second.stdout).id).toBe(1);
    const weights = (db: string) => join(runArtifactsDir(db, 1), 'autoencoder', 'weights.bin');
    expect(readFileSync(weights(a)).equals(readFileSync(weights(b)))).toBe(false);
    expect(existsSync(join(home, 'artifacts'))).toBe(false);

    const recorded = (db: string, id: number) =>
      JSON.parse(
        spawnSync(
          process.execPath,
          ['--import', 'tsx', join(repoRoot, 'src-main/cli/bin.ts'), 'runs', 'show', String(id), '--json', '--db', db],
          { cwd: repoRoot, env: { ...process.env, ...env } },
        ).stdout.toString(),
      ).artifacts;
    const aSum = recorded(a, 1).autoencoderSha256;
    expect(aSum).toMatch(/^[0-9a-f]{64}$/);
    expect(recorded(b, 1).autoencoderSha256).not.toBe(aSum);

    const reuse = await runCli(
      [
        'run',
        '--task',
        'ae-gmm',
        '--reuse-encoder',
        '1',
        '--covariance',
        'diag',
        '--train-limit',
        '600',
        '--test-limit',
        '200',
        '--db',
        a,
        '--json',
      ],
      env,
    );
    expect(reuse.code, reuse.stderr).toBe(0);
    const store = RunStore.open(a);
    const encoderUid = store.getRun(1)!.uid;
    store.close();
    expect(recorded(a, 2)).toMatchObject({ reusedEncoderFrom: '1', reusedEncoderUid: encoderUid, autoencoderSha256: aSum });

    const deleted = await runCli(['runs', 'delete', '1', '--db', b], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(existsSync(runArtifactsDir(b, 1))).toBe(false);
    expect(existsSync(weights(a))).toBe(true);

    // An encoder whose files no longer match the checksum recorded with its run is refused, in one line.
    const other = join(home, 'other-weights.bin');
    writeFileSync(other, Buffer.alloc(readFileSync(weights(a)).length, 7));
    copyFileSync(other, weights(a));
    const tampered = await runCli(
      ['run', '--task', 'ae-gmm', '--reuse-encoder', '1', '--train-limit', '600', '--test-limit', '200', '--db', a],
      env,
    );
    expect(tampered.code).toBe(1);
    expect(lines(tampered.stderr)).toEqual([expect.stringMatching(/^clusterbench: .*run #1.*do(es)? not match the checksum recorded/)]);
    expect(JSON.parse((await runCli(['runs', 'list', '--json', '--db', a], env)).stdout)).toHaveLength(2); // no run left behind
  }, 300_000);

  it('an old-layout encoder that cannot be proven to be this history’s is not reused', async () => {
    const dir = join(home, 'legacy');
    mkdirSync(join(dir, 'artifacts', 'run-1', 'autoencoder'), { recursive: true });
    writeFileSync(join(dir, 'artifacts', 'run-1', 'autoencoder', 'model.json'), '{}'); // written now, long after the run ended
    const db = join(dir, 'runs.sqlite');
    const r = new Database(db);
    migrate(r, 2);
    r.prepare(
      `INSERT INTO runs (task, params, seed, backend, status, started_at, ended_at, artifacts) VALUES ('ae-kmeans', '{}', 0, 'cpu', 'completed', '2024-01-01T00:00:00.000Z', '2024-01-01T00:01:00.000Z', ?)`,
    ).run(JSON.stringify({ autoencoder: join(dir, 'artifacts', 'run-1', 'autoencoder'), architecture: 'conv-ae-study-v1' }));
    r.close();
    const listed = await runCli(['runs', 'list', '--db', db], env);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(/left .*artifacts\/run-1/);
    const out = await runCli(
      ['run', '--task', 'ae-gmm', '--reuse-encoder', '1', '--train-limit', '600', '--test-limit', '200', '--db', db],
      env,
    );
    expect(out.code).toBe(1);
    expect(lines(out.stderr)).toEqual([expect.stringMatching(/^clusterbench: .*--reuse-encoder run #1 has no recorded checksum/)]);
  }, 120_000);
});

describe('item 5: runs delete refuses a running run', () => {
  it('refuses while its owner lives, with one line, and deletes it once the owner is gone', async () => {
    const home = tempHome();
    const db = join(home, 'runs.sqlite');
    const owner = await startRunOwner(db, 'kmeans');
    const id = owner.runId;
    try {
      mkdirSync(runArtifactsDir(db, id), { recursive: true });
      writeFileSync(join(runArtifactsDir(db, id), 'model.json'), '{}');
      const refused = await runCli(['runs', 'delete', String(id), '--db', db]);
      expect(refused.code).toBe(1);
      expect(lines(refused.stderr)).toEqual([`clusterbench: run ${id} is still running: cancel it first`]);
      expect(existsSync(join(runArtifactsDir(db, id), 'model.json'))).toBe(true);

      await owner.kill();
      const deleted = await runCli(['runs', 'delete', String(id), '--db', db]);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(existsSync(runArtifactsDir(db, id))).toBe(false);
    } finally {
      await owner.kill();
    }
  }, 60_000);
});

describe('item 10: --db where no database can be', () => {
  it('--db /proc/nonexistent/x.sqlite fails within seconds with one line', async () => {
    for (const args of [
      ['runs', 'list'],
      ['run', '--task', 'kmeans', '--train-limit', '100', '--test-limit', '50', '--n-init', '1'],
    ]) {
      // The check itself takes milliseconds (store-reliability.test.ts); the deadline only allows for tsx start-up on a busy machine.
      const out = await runCliWithin(30_000, [...args, '--db', '/proc/nonexistent/x.sqlite']);
      expect(out.code, `${args[0]} was killed after ${out.ms} ms`).toBe(1);
      expect(lines(out.stderr)).toEqual([
        'clusterbench: cannot create the run history /proc/nonexistent/x.sqlite: /proc is not a normal filesystem',
      ]);
    }
  }, 90_000);
});

// Root can write anywhere, so a truly unwritable history needs another user: the tests run as root (as CI does)
// and read a history as the user nobody. Where nobody cannot reach this Node or this checkout (one under /root,
// say), that is the machine's layout rather than a missing package: the test is skipped and the summary says so.
const asRootWithNobody = process.getuid?.() === 0 && spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;
const nobodyReachesCheckout =
  asRootWithNobody &&
  spawnSync('runuser', [
    '-u',
    'nobody',
    '--',
    process.execPath,
    '-e',
    `require('fs').accessSync(${JSON.stringify(join(repoRoot, 'node_modules'))})`,
  ]).status === 0;

describe.skipIf(
  (!asRootWithNobody &&
    missingPrereq(
      'another user to read a history as (runuser -u nobody, as root)',
      'run the tests as root where the user nobody exists',
    )) ||
    (!nobodyReachesCheckout && recordSkip(`the read-only history test: the user nobody cannot run ${process.execPath} on ${repoRoot}`)),
)('item 4: a history in a folder this user cannot write', () => {
  it('runs list/show work, runs delete says read-only in one line', async () => {
    const home = tempHome();
    const db = join(home, 'runs.sqlite');
    const s = RunStore.open(db);
    const id = s.createRun({ task: 'kmeans', params: { k: 10 }, seed: 1, backend: 'cpu' }).id;
    s.cancelRun(id);
    s.close();
    spawnSync('chmod', ['-R', 'a+rX,go-w', home]);
    const asNobody = (args: string[]) =>
      spawnSync(
        'runuser',
        ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', join(repoRoot, 'src-main/cli/bin.ts'), ...args, '--db', db],
        {
          cwd: repoRoot,
          env: { ...process.env, HOME: '/tmp', CLUSTERBENCH_HOME: '/tmp/cb-nobody' },
        },
      );
    const list = asNobody(['runs', 'list', '--json']);
    expect(list.status, list.stderr.toString()).toBe(0);
    expect(JSON.parse(list.stdout.toString()).map((r: { id: number }) => r.id)).toEqual([id]);
    expect(asNobody(['runs', 'show', String(id)]).status).toBe(0);
    const del = asNobody(['runs', 'delete', String(id)]);
    expect(del.status).toBe(1);
    expect(lines(del.stderr.toString())).toEqual([`clusterbench: the run history ${db} is read-only: its folder ${home} is not writable`]);
  }, 60_000);
});
