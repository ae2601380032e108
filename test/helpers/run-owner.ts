/**
 * Another process that owns a running run in a history: it opens the store, creates the run (and a loss
 * row), prints {id, pid} and stays alive until killed — how the tests see a run "still running elsewhere".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './cli';

export interface RunOwner {
  process: ChildProcess;
  runId: number;
  pid: number;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

export async function startRunOwner(dbPath: string, task = 'ae-kmeans'): Promise<RunOwner> {
  const storeUrl = pathToFileURL(join(repoRoot, 'src-main/engine/store/index.ts')).href;
  const script = join(mkdtempSync(join(tmpdir(), 'clusterbench-owner-')), 'owner.ts');
  writeFileSync(
    script,
    `import { RunStore } from ${JSON.stringify(storeUrl)};
     const s = RunStore.open(process.argv[2]);
     const run = s.createRun({ task: ${JSON.stringify(task)}, params: { k: 10 }, seed: 1, backend: 'cpu' });
     s.appendLoss(run.id, { epoch: 0, trainLoss: 0.7, valLoss: 0.8 });
     process.stdout.write(JSON.stringify({ id: run.id, pid: process.pid }) + '\\n');
     setInterval(() => {}, 1000);`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script, dbPath], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const info = await new Promise<{ id: number; pid: number }>((found, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) found(JSON.parse(out.slice(0, nl)));
    });
    child.once('exit', (code) => fail(new Error(`the run owner exited (${code}) before creating a run: ${stderr}`)));
  });
  return {
    process: child,
    runId: info.id,
    pid: info.pid,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await gone;
    },
  };
}
