/**
 * The CLI as a user installs it: `npm pack` of this checkout (the build in out/, as `prepack` makes it), then
 * `npm install -g` of the tarball into a temporary prefix, then the installed `clusterbench` from another
 * folder. Global installs run no install scripts unless allowed, hence --allow-scripts (as the README says).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from './helpers/cli';
import { skipUnless } from './helpers/prereqs';

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
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        join(temp, tarball!),
        '--allow-scripts=better-sqlite3,webgpu',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
      ],
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
