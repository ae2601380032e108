/**
 * The CLI as a user installs it: `npm pack` of this checkout (the build in out/, as `prepack` makes it), then
 * `npm install -g` of the tarball into a temporary prefix, then the installed `clusterbench` from another
 * folder. Global installs run no install scripts unless allowed, and none is needed: every native addon is a
 * prebuilt Node-API binary (test/integration/native-addons.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCommand } from '../helpers/cli';
import { recordSkip, skipUnless } from '../helpers/prereqs';

const temp = mkdtempSync(join(tmpdir(), 'clusterbench-install-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe.skipIf(skipUnless('builtApp', 'fashionMnist'))('npm pack + npm install -g', () => {
  it('gives a working clusterbench command', async () => {
    // The build is already there (prereq), so the pack skips prepack's rebuild.
    const pack = await runCommand('npm', ['pack', '--ignore-scripts', '--pack-destination', temp]);
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = readdirSync(temp).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^clusterbench-\d+\.\d+\.\d+\.tgz$/);

    const prefix = join(temp, 'prefix');
    const install = await runCommand(
      'npm',
      ['install', '-g', '--prefix', prefix, join(temp, tarball!), '--prefer-offline', '--no-audit', '--no-fund'],
      { cwd: temp },
    );
    expect(install.code, install.stderr).toBe(0);

    const clusterbench = join(prefix, 'bin', 'clusterbench');
    const db = join(temp, 'runs.sqlite');
    const run = await runCommand(
      clusterbench,
      ['run', '--task', 'kmeans', '--train-limit', '2000', '--test-limit', '500', '--db', db, '--json'],
      { cwd: temp },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { id: number; task: string; metrics: { accuracy: number } };
    expect(result).toMatchObject({ id: 1, task: 'kmeans' });
    expect(result.metrics.accuracy).toBeGreaterThan(0.3);

    const list = await runCommand(clusterbench, ['runs', 'list', '--db', db], { cwd: temp });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/kmeans/);
  }, 600_000);
});

// Debian's own Node (20 on these machines) stands in for a user's old Node, where the SQLite addon would crash.
const oldNode = ['/usr/bin/node', '/usr/bin/nodejs'].find((node) => {
  const version = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const [major, minor] = version.split('.').map(Number);
  return major > 0 && (major < 22 || (major === 22 && minor < 13));
});

describe.skipIf(oldNode === undefined && recordSkip('a Node older than 22.13 at /usr/bin/node (to run the CLI under it)'))(
  'the installed command on a Node older than 22.13',
  () => {
    it('says which Node it needs in one line instead of crashing', async () => {
      const result = await runCommand(oldNode!, [join(repoRoot, 'bin/clusterbench.js'), 'runs', 'list'], { cwd: temp });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^clusterbench: needs Node\.js 22\.13 or newer \(this is v\d+\.\d+\.\d+\)\n$/);
    });
  },
);
