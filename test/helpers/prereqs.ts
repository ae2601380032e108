/**
 * What some tests need beyond Node and node_modules, each named once with what installs it.
 *
 * A test that lacks one must not pass silently: under CI (CI=true) `skipUnless` throws, so the file fails with
 * a line naming the package to install; elsewhere the test is skipped and the reason is appended to the skip
 * log, which test/helpers/skip-summary.ts prints as one summary line at the end of the run.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEBIAN_DATA_DIR } from '../../src-main/engine/data/locate';
import { repoRoot } from './cli';
import { slurmPresent } from './slurm';

export const SYSTEM_PYTHON = '/usr/bin/python3';
export const CHROMIUM_PATH = process.env.CLUSTERBENCH_CHROMIUM ?? '/usr/bin/chromium';
/** The Node that Electron 45 runs (24; another NODE_MODULE_VERSION than the tests' Node), as .ci/node.sh fetches it. */
export const ELECTRON_NODE =
  process.env.CLUSTERBENCH_ELECTRON_NODE ??
  (process.getuid?.() === 0 ? '/opt/clusterbench/node-24/bin/node' : join(homedir(), '.cache/clusterbench/node-24/bin/node'));
/** Node's C++ headers, shipped with the official Node builds .ci/node.sh fetches. */
export const NODE_HEADERS = join(dirname(dirname(process.execPath)), 'include', 'node');
/** Set by vitest.config.ts for the whole run; absent when a file is run some other way. */
export const SKIP_LOG_ENV = 'CLUSTERBENCH_SKIP_LOG';

export interface Prereq {
  /** What is missing, in a few words. */
  what: string;
  /** The command that provides it. */
  install: string;
  present: () => boolean;
}

const pythonImports = (modules: string): boolean =>
  existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ['-c', `import ${modules}`], { timeout: 60_000 }).status === 0;

export const PREREQS = {
  fashionMnist: {
    what: `Fashion-MNIST in ${DEBIAN_DATA_DIR}`,
    install: 'apt-get install dataset-fashion-mnist',
    present: () =>
      existsSync(join(DEBIAN_DATA_DIR, 'train-images-idx3-ubyte.gz')) && existsSync(join(DEBIAN_DATA_DIR, 't10k-labels-idx1-ubyte.gz')),
  },
  sklearn: {
    what: `scikit-learn (with numpy and scipy) for ${SYSTEM_PYTHON}`,
    install: 'apt-get install python3-sklearn',
    present: () => pythonImports('sklearn, numpy, scipy'),
  },
  chromium: {
    what: `Chromium at ${CHROMIUM_PATH}`,
    install: 'apt-get install chromium, or set CLUSTERBENCH_CHROMIUM',
    present: () => existsSync(CHROMIUM_PATH),
  },
  slurm: {
    what: 'Slurm (slurmctld, slurmd, sbatch, squeue) and munge, with root to start their daemons',
    install: 'apt-get install slurm-wlm munge, and run the tests as root (as CI does)',
    present: slurmPresent,
  },
  electronNode: {
    what: `Node 24 (the Node of Electron 45) at ${ELECTRON_NODE}, standing in for Electron's`,
    install: 'source .ci/node.sh, or set CLUSTERBENCH_ELECTRON_NODE to a Node 24 binary',
    present: () => spawnSync(ELECTRON_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.startsWith('24.') === true,
  },
  cxx: {
    what: `a C++ compiler (g++) and Node's headers in ${NODE_HEADERS}`,
    install: 'apt-get install g++, and a Node with its headers (.ci/node.sh fetches one)',
    present: () => existsSync(join(NODE_HEADERS, 'node.h')) && spawnSync('g++', ['--version']).status === 0,
  },
  builtApp: {
    what: 'the built app (out/main, out/preload, out/renderer)',
    install: 'npm run build',
    present: () =>
      ['out/main/index.js', 'out/main/engineWorker.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html'].every((f) =>
        existsSync(join(repoRoot, f)),
      ),
  },
} satisfies Record<string, Prereq>;

export type PrereqName = keyof typeof PREREQS;

const inCI = (): boolean => /^(1|true)$/i.test(process.env.CI ?? '');

/** Records a skip for the end-of-run summary and returns its reason. */
export function recordSkip(reason: string): string {
  const log = process.env[SKIP_LOG_ENV];
  if (log) appendFileSync(log, `${reason}\n`);
  return reason;
}

/** Fails under CI, or records the skip (for the end-of-run summary) and returns its reason. */
export function missingPrereq(what: string, install: string): string {
  const reason = `${what} is missing (${install})`;
  if (inCI()) throw new Error(`test prerequisite missing under CI: ${reason}`);
  return recordSkip(reason);
}

/**
 * For `describe.skipIf(skipUnless('chromium', 'builtApp'))`: false when every prerequisite is present, else
 * the reason to skip (locally) — under CI it throws instead.
 */
export function skipUnless(...names: PrereqName[]): string | false {
  const missing = names.map((n) => PREREQS[n] as Prereq).filter((p) => !p.present());
  if (missing.length === 0) return false;
  return missingPrereq(missing.map((p) => p.what).join(' and '), missing.map((p) => p.install).join('; '));
}
