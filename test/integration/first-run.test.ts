/**
 * A new user's first commands on a fresh checkout: `npm start` / `npm run dist` without an Electron binary and
 * without network access, the `clusterbench` bin before `npm run build`, and `npm run web` on a checkout that
 * was never built.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCommand } from '../helpers/cli';

const temp = mkdtempSync(join(tmpdir(), 'clusterbench-first-run-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A local port that refuses connections: a mirror that cannot be reached, whatever the machine's network. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('the desktop commands without an Electron binary or network access', () => {
  for (const command of ['start', 'dev', 'dist']) {
    it(`npm ${command === 'start' ? 'start' : `run ${command}`} fails within seconds with one line that names npm run web`, async () => {
      const env = {
        // No binary (whatever node_modules/electron/dist holds) and a mirror that refuses connections.
        ELECTRON_OVERRIDE_DIST_PATH: join(temp, 'no-electron'),
        ELECTRON_MIRROR: `http://127.0.0.1:${await closedPort()}/`,
        electron_config_cache: join(temp, 'electron-cache'),
      };
      const started = Date.now();
      const result = await runCommand(process.execPath, [join(repoRoot, 'scripts/desktop.mjs'), command], { env });
      const seconds = (Date.now() - started) / 1000;
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^clusterbench: could not fetch Electron \d+\.\d+\.\d+'s binary: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); .*npm run web/,
      );
      expect(result.stdout).toBe('');
      expect(seconds).toBeLessThan(20);
    });
  }
});

describe('bin/clusterbench.js', () => {
  it('says what to run when the CLI was never built, in one line', async () => {
    const checkout = join(temp, 'unbuilt');
    mkdirSync(join(checkout, 'bin'), { recursive: true });
    cpSync(join(repoRoot, 'bin/clusterbench.js'), join(checkout, 'bin/clusterbench.js'));
    writeFileSync(join(checkout, 'package.json'), '{"type":"module"}');
    const result = await runCommand(process.execPath, [join(checkout, 'bin/clusterbench.js'), 'runs', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^clusterbench: the CLI is not built \(.*out\/main\/cli\.js is missing\): run npm run build in /),
    ]);
  });
});

describe('npm run web on a checkout that was never built', () => {
  it('builds the app, then serves it', async () => {
    const checkout = join(temp, 'web-checkout');
    for (const path of [
      'package.json',
      'electron.vite.config.ts',
      'tsconfig.json',
      'tsconfig.node.json',
      'tsconfig.web.json',
      'bin',
      'src-main',
      'src-preload',
      'src-renderer',
      'resources',
    ]) {
      cpSync(join(repoRoot, path), join(checkout, path), { recursive: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(checkout, 'node_modules'));
    const child = spawn('npm', ['run', 'web', '--', '--port', '0'], {
      cwd: checkout,
      env: { ...process.env, CLUSTERBENCH_HOME: join(temp, 'web-home') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: npm, the build and the server stop together
    });
    let output = '';
    child.stderr.on('data', (d) => (output += d));
    try {
      const url = await new Promise<string>((found, fail) => {
        child.stdout.on('data', (d) => {
          output += d;
          const match = /http:\/\/127\.0\.0\.1:\d+\/\S*\?token=\S+/.exec(output);
          if (match) found(match[0]);
        });
        child.on('close', (code) => fail(new Error(`npm run web exited with ${code}:\n${output}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  }, 180_000);
});
