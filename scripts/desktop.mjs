#!/usr/bin/env node
/**
 * The desktop app's commands: `npm start` (build, then open the window), `npm run dev` (the same with hot reload)
 * and `npm run dist` (packages).
 *
 * Electron 45's npm package no longer downloads its binary at install, and electron-vite does not trigger
 * the download either, so both commands first make sure the binary is there, fetching it once through
 * Electron's own installer (node_modules/electron/install.js, with its progress bar). Without network access
 * that fails within seconds with one line saying what works instead, and a non-zero exit.
 *
 *   node scripts/desktop.mjs start [electron-vite preview options]
 *   node scripts/desktop.mjs dev [electron-vite dev options]
 *   node scripts/desktop.mjs dist [electron-builder options]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shippedAddons } from './native-addons.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const OFFLINE_HINT = 'without network access, `npm run web` serves the same app to a browser';

class DesktopError extends Error {}

function electronPackage() {
  try {
    const file = require.resolve('electron/package.json');
    return { dir: dirname(file), version: JSON.parse(readFileSync(file, 'utf8')).version };
  } catch {
    throw new DesktopError('the electron package is not installed: run npm install');
  }
}

/** The binary's path when it is installed for this version, as node_modules/electron/install.js decides it. */
function installedBinary({ dir, version }) {
  const read = (file) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
  const relative = read(join(dir, 'path.txt'));
  if (!relative) return undefined;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (!override && read(join(dir, 'dist', 'version'))?.replace(/^v/, '') !== version) return undefined;
  const binary = join(override ?? join(dir, 'dist'), relative);
  return existsSync(binary) ? binary : undefined;
}

/** Runs a command with the terminal attached; resolves with its exit code. */
function run(command, args, options = {}) {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', ...options });
    child.on('error', fail);
    child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

/** Fetches the binary through Electron's installer; its errors come back as one line (see installer-errors.cjs). */
async function ensureElectronBinary() {
  const electron = electronPackage();
  const found = installedBinary(electron);
  if (found) return found;
  if (process.stderr.isTTY) process.stderr.write(`Fetching Electron ${electron.version} (once, into node_modules/electron/dist)…\n`);
  const child = spawn(process.execPath, ['--require', join(root, 'scripts/lib/installer-errors.cjs'), join(electron.dir, 'install.js')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  let errors = '';
  child.stdio[3].on('data', (chunk) => (errors += chunk));
  const code = await new Promise((done) => {
    child.on('error', (err) => done(err));
    child.on('close', (c) => done(c));
  });
  const binary = installedBinary(electron);
  if (code === 0 && binary) return binary;
  const why =
    (code instanceof Error
      ? code.message
      : errors
          .split('\n')
          .find((l) => l.trim())
          ?.replace(/^(Type)?Error: /, '')) ?? `the installer exited with code ${code}`;
  throw new DesktopError(`could not fetch Electron ${electron.version}'s binary: ${why.trim()}; ${OFFLINE_HINT}`);
}

/** Electron loads only Node-API addons as npm installed them: refuse before starting or packaging anything else. */
function checkNativeAddons() {
  const bad = shippedAddons(root).filter((a) => a.kind !== 'node-api');
  if (bad.length > 0) {
    throw new DesktopError(
      `not Node-API, so Electron cannot load it: ${bad.map((a) => a.file).join(', ')} (node scripts/native-addons.mjs lists them)`,
    );
  }
}

const npmRun = (script, args = []) =>
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], {
    shell: process.platform === 'win32',
  });

/** electron-vite's `preview` (build, then the app) or `dev` (the app with the renderer's dev server). */
const electronVite = (command) => async (args) => {
  checkNativeAddons();
  await ensureElectronBinary();
  return run(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), command, ...args]);
};

async function dist(args) {
  checkNativeAddons();
  const binary = await ensureElectronBinary();
  const code = await npmRun('build');
  if (code !== 0) return code;
  // Package the binary fetched above instead of letting electron-builder download another copy.
  const electronDist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(electronPackage().dir, 'dist');
  if (!existsSync(binary)) throw new DesktopError(`${binary} disappeared`);
  return run(process.execPath, [
    require.resolve('electron-builder/cli.js'),
    '--config',
    'electron-builder.yml',
    `-c.electronDist=${electronDist}`,
    ...args,
  ]);
}

const commands = { start: electronVite('preview'), dev: electronVite('dev'), dist };
const [name, ...rest] = process.argv.slice(2);
try {
  if (!commands[name]) throw new DesktopError(`usage: node scripts/desktop.mjs start|dev|dist [options]`);
  process.exitCode = await commands[name](rest);
} catch (err) {
  process.stderr.write(`clusterbench: ${err instanceof DesktopError ? err.message : (err?.stack ?? err)}\n`);
  process.exitCode = 1;
}
