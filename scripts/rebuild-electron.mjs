#!/usr/bin/env node
/**
 * Builds better-sqlite3 for Electron's ABI into resources/native/electron/better_sqlite3.node — without
 * touching node_modules, whose Node-ABI build the CLI and the tests keep using. The desktop main process
 * points the run store at this file (CLUSTERBENCH_SQLITE_BINDING → better-sqlite3's `nativeBinding`), and
 * electron-builder ships it as resources/native/better_sqlite3.node (see electron-builder.yml).
 *
 *   npm run rebuild:electron                    # this platform and arch
 *   npm run rebuild:electron -- --arch arm64    # prebuilt download only: native modules cannot cross-compile
 *
 * Uses @electron/rebuild (prebuilt binary from better-sqlite3's releases, else node-gyp with Electron's
 * headers), falling back to prebuild-install. Needs network access to GitHub / electronjs.org.
 * The other native modules (webgpu, @resvg/resvg-js) are N-API: the same binary loads in Node and Electron.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const argValue = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const electronVersion =
  argValue('electron') ??
  process.env.ELECTRON_VERSION ??
  JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
const arch = argValue('arch') ?? process.arch;
const platform = argValue('platform') ?? process.platform;
const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
const sqliteVersion = JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')).version;
const outDir = join(root, 'resources', 'native', 'electron');
const outFile = join(outDir, 'better_sqlite3.node');

// A scratch app inside node_modules/.cache, so node-gyp / prebuild-install resolve from the project.
const work = join(root, 'node_modules', '.cache', 'clusterbench-electron-sqlite');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'node_modules'), { recursive: true });
writeFileSync(
  join(work, 'package.json'),
  JSON.stringify({ name: 'electron-sqlite-build', version: '0.0.0', private: true, dependencies: { 'better-sqlite3': sqliteVersion } }),
);
const moduleDir = join(work, 'node_modules', 'better-sqlite3');
cpSync(sqliteDir, moduleDir, {
  recursive: true,
  filter: (src) => !src.startsWith(join(sqliteDir, 'build') + sep) && src !== join(sqliteDir, 'build'),
});

console.log(`Building better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (${platform}-${arch})…`);
const built = join(moduleDir, 'build', 'Release', 'better_sqlite3.node');
const failures = [];
try {
  const { rebuild } = await import('@electron/rebuild');
  await rebuild({ buildPath: work, electronVersion, arch, platform, force: true, onlyModules: ['better-sqlite3'], mode: 'sequential' });
} catch (err) {
  failures.push(`@electron/rebuild: ${err?.message ?? err}`);
}
if (!existsSync(built)) {
  try {
    const bin = require.resolve('prebuild-install/bin.js', { paths: [sqliteDir] });
    execFileSync(
      process.execPath,
      [bin, '--runtime', 'electron', '--target', electronVersion, '--arch', arch, '--platform', platform, '--verbose'],
      { cwd: moduleDir, stdio: 'inherit' },
    );
  } catch (err) {
    failures.push(`prebuild-install: ${err?.message ?? err}`);
  }
}
if (!existsSync(built)) {
  console.error(`Could not build better-sqlite3 for Electron ${electronVersion}:\n  ${failures.join('\n  ')}`);
  console.error('This needs network access (GitHub releases or electronjs.org headers) and, to compile, a C++ toolchain.');
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
copyFileSync(built, outFile);
writeFileSync(
  join(outDir, 'build-info.json'),
  `${JSON.stringify({ module: 'better-sqlite3', version: sqliteVersion, electronVersion, platform, arch, builtAt: new Date().toISOString() }, null, 2)}\n`,
);
rmSync(work, { recursive: true, force: true });
console.log(`Wrote ${outFile}`);
