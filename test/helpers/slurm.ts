/**
 * A real one-machine Slurm cluster for tests: munged, slurmctld and slurmd from Debian's munge and slurm-wlm, started
 * as root in a private temporary folder (own munge key and socket, own ports, no cgroups), so nothing in /etc or /run
 * is touched and nothing of the machine's own Slurm or munge is used. `stop()` cancels the jobs submitted through it,
 * stops exactly the daemons it started (by their pid files) and removes the folder; call it even when a test fails.
 * Adapted from the local-slurm.sh that first ran Slurm on these machines (notes: node name = `hostname -s`; munged
 * wants its socket folder executable by all and its key private; sacct needs slurmdbd, so jobs are followed with squeue).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';

export const SLURM_DAEMONS = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd'];
export const SLURM_COMMANDS = ['sbatch', 'squeue', 'sinfo', 'scancel', 'scontrol'];

/** Whether this machine can run the cluster: the daemons and commands are installed, and this process is root. */
export function slurmPresent(): boolean {
  // (`sbatch --version` needs a configuration already, so only whether each command is on PATH is asked.)
  const commands = SLURM_COMMANDS.every(
    (c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore', timeout: 10_000 }).status === 0,
  );
  return commands && SLURM_DAEMONS.every((d) => existsSync(d)) && process.getuid?.() === 0;
}

export interface LocalSlurm {
  dir: string;
  /** SLURM_CONF for sbatch / squeue / scontrol. */
  env: NodeJS.ProcessEnv;
  /** Submits a batch script (its tasks get this process's environment plus `env`); returns the job id. */
  sbatch(script: string, args?: string[], env?: NodeJS.ProcessEnv): string;
  /** Waits until the job (every task of an array) has left the queue; throws after `timeoutMs`. */
  waitForJob(jobId: string, timeoutMs: number): Promise<void>;
  /** The last lines of the daemons' logs, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(command, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function slurmConf(dir: string, host: string, ports: [number, number]): string {
  return `ClusterName=cbtest
SlurmctldHost=${host}
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${dir}/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
ReturnToService=2
MinJobAge=3600
NodeName=${host} CPUs=${cpus().length} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
`;
}

const PID_FILES = ['slurmd.pid', 'slurmctld.pid', 'munged.pid'];

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the daemons whose pid files are in `dir` (TERM, then KILL after 10 s). */
async function stopDaemons(dir: string): Promise<void> {
  const pids = PID_FILES.map((f) => join(dir, f))
    .filter((f) => existsSync(f))
    .map((f) => Number(readFileSync(f, 'utf8').trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 1);
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && pids.some(pidAlive); i++) await sleep(100);
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
}

function tail(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}

/** Starts munged, slurmctld and slurmd and waits (up to 30 s) until the node is idle. */
export async function startLocalSlurm(): Promise<LocalSlurm> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterbench-slurm-'));
  chmodSync(dir, 0o711); // munged: every folder above its socket must be executable by all
  const conf = join(dir, 'slurm.conf');
  const env = { SLURM_CONF: conf };
  const jobs: string[] = [];
  const logs = () => ['munged.log', 'slurmctld.log', 'slurmd.log'].map((f) => `--- ${f}\n${tail(join(dir, f))}`).join('\n');
  const stop = async () => {
    if (jobs.length > 0) {
      // Cancelled jobs' processes are ended by slurmd, so it must still be up until the queue is empty.
      const slurmEnv = { ...process.env, ...env };
      spawnSync('scancel', jobs, { env: slurmEnv, timeout: 10_000 });
      for (let i = 0; i < 30 && spawnSync('squeue', ['-h'], { env: slurmEnv, encoding: 'utf8', timeout: 10_000 }).stdout?.trim(); i++)
        await sleep(500);
    }
    await stopDaemons(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(dir, 'munge.key'), randomBytes(1024), { mode: 0o400 });
    for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub));
    writeFileSync(conf, slurmConf(dir, hostname().split('.')[0], [await freePort(), await freePort()]));
    const munge = ['key-file=munge.key', 'socket=munge.socket', 'pid-file=munged.pid', 'log-file=munged.log', 'seed-file=munged.seed'];
    run(
      '/usr/sbin/munged',
      munge.map((o) => `--${o.replace('=', `=${dir}/`)}`),
    );
    run('/usr/sbin/slurmctld', ['-f', conf]);
    run('/usr/sbin/slurmd', ['-f', conf]);
    for (
      let i = 0;
      !/idle/.test(spawnSync('sinfo', ['-h', '-o', '%t'], { env: { ...process.env, ...env }, encoding: 'utf8' }).stdout);
      i++
    ) {
      if (i >= 60) throw new Error('the Slurm node did not become idle within 30 s');
      await sleep(500);
    }
  } catch (e) {
    const message = `${(e as Error).message}\n${logs()}`;
    await stop();
    throw new Error(message, { cause: e });
  }
  return {
    dir,
    env,
    sbatch(script, args = [], jobEnv = {}) {
      const id = run('sbatch', ['--parsable', ...args, script], { ...jobEnv, ...env })
        .trim()
        .split(';')[0];
      jobs.push(id);
      return id;
    },
    async waitForJob(jobId, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (run('squeue', ['-h', '-j', jobId, '-o', '%i %T'], env).trim() !== '') {
        if (Date.now() > deadline) throw new Error(`job ${jobId} still queued or running after ${timeoutMs / 1000} s`);
        await sleep(1000);
      }
    },
    logs,
    stop,
  };
}
