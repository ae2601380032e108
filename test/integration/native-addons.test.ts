/**
 * Electron 45 runs Node with its own NODE_MODULE_VERSION (150), so only Node-API addons load in the app as npm
 * installed them (issue 19: better-sqlite3 12 was built for Node's ABI and the window could not open its
 * history). These tests keep every native addon the app ships Node-API, and show the check catching one that is
 * not: a real addon built against Node's C++ ABI, which loads in the Node it was built for and fails in another.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonKind, productionPackageDirs, shippedAddons } from '../../scripts/native-addons.mjs';
import { repoRoot } from '../helpers/cli';
import { ELECTRON_NODE, NODE_HEADERS, skipUnless } from '../helpers/prereqs';

const temp = mkdtempSync(join(tmpdir(), 'clusterbench-addons-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const sqliteAddon = join(repoRoot, 'node_modules/better-sqlite3/prebuilds', `${process.platform}-${process.arch}.node`);

function writePackage(dir: string, manifest: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
}

/** A minimal addon built the pre-Node-API way (NODE_MODULE against V8's C++ API), for this Node's ABI only. */
function buildNodeAbiAddon(dir: string): string {
  const source = join(dir, 'addon.cc');
  writeFileSync(source, '#include <node.h>\nstatic void Init(v8::Local<v8::Object>) {}\nNODE_MODULE(NODE_GYP_MODULE_NAME, Init)\n');
  const addon = join(dir, 'abi_addon.node');
  const gxx = spawnSync(
    'g++',
    ['-shared', '-fPIC', '-std=c++20', `-I${NODE_HEADERS}`, '-DNODE_GYP_MODULE_NAME=abi_addon', '-o', addon, source],
    {
      encoding: 'utf8',
    },
  );
  expect(gxx.status, gxx.stderr).toBe(0);
  return addon;
}

/** Loads an addon in another Node process; returns its error output ('' when it loaded). */
function dlopenIn(node: string, addon: string): string {
  const r = spawnSync(node, ['-e', `process.dlopen({ exports: {} }, ${JSON.stringify(addon)})`], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr;
}

describe('native addons the desktop app ships', () => {
  it('are all Node-API, better-sqlite3, webgpu and resvg included', () => {
    const addons = shippedAddons(repoRoot);
    const files = addons.map((a) => a.file).join('\n');
    expect(files).toMatch(/node_modules\/better-sqlite3\/.*\.node/);
    expect(files).toMatch(/node_modules\/webgpu\/.*dawn\.node/);
    expect(files).toMatch(/node_modules\/@resvg\/.*\.node/);
    expect(addons.filter((a) => a.kind !== 'node-api')).toEqual([]);
  });

  it('come from the production dependency tree only (not dev tools such as electron or vitest)', () => {
    const dirs = productionPackageDirs(repoRoot).map((d) => d.slice(repoRoot.length + 1));
    expect(dirs).toContain('node_modules/better-sqlite3');
    expect(dirs).toContain('node_modules/@tensorflow/tfjs-core');
    expect(dirs).not.toContain('node_modules/electron');
    expect(dirs).not.toContain('node_modules/vitest');
  });

  it('better-sqlite3 needs no build step: no install script, no binding.gyp build', async () => {
    const manifest = (await import('better-sqlite3/package.json', { with: { type: 'json' } })).default as {
      version: string;
      gypfile?: boolean;
      scripts?: Record<string, string>;
    };
    expect(Number(manifest.version.split('.')[0])).toBeGreaterThanOrEqual(13);
    expect(manifest.gypfile).toBe(false);
    expect(manifest.scripts?.install).toBeUndefined();
  });
});

describe.skipIf(skipUnless('cxx', 'electronNode'))('an addon built against Node’s C++ ABI', () => {
  it('loads in its own Node, fails in Electron’s, and the check names it while a Node-API addon passes', () => {
    const addon = buildNodeAbiAddon(temp);
    expect(addonKind(Buffer.from(''))).toBe('unknown');
    expect(dlopenIn(process.execPath, addon)).toBe('');
    expect(dlopenIn(ELECTRON_NODE, addon)).toMatch(/compiled against a different Node\.js version/);
    expect(dlopenIn(ELECTRON_NODE, sqliteAddon)).toBe('');

    // A project whose production tree holds it (a dependency of a dependency), and a dev dependency holding one too.
    const project = join(temp, 'project');
    writePackage(project, { name: 'p', dependencies: { a: '1' }, devDependencies: { tool: '1' } });
    writePackage(join(project, 'node_modules/a'), { name: 'a', dependencies: { b: '1' }, optionalDependencies: { missing: '1' } });
    copyFileSync(sqliteAddon, join(project, 'node_modules/a/napi.node'));
    writePackage(join(project, 'node_modules/a/node_modules/b'), { name: 'b' });
    mkdirSync(join(project, 'node_modules/a/node_modules/b/build/Release'), { recursive: true });
    copyFileSync(addon, join(project, 'node_modules/a/node_modules/b/build/Release/b.node'));
    writePackage(join(project, 'node_modules/tool'), { name: 'tool' });
    copyFileSync(addon, join(project, 'node_modules/tool/tool.node'));

    expect(shippedAddons(project)).toEqual([
      { file: 'node_modules/a/napi.node', kind: 'node-api' },
      { file: 'node_modules/a/node_modules/b/build/Release/b.node', kind: 'node-abi' },
    ]);
    const cli = spawnSync(process.execPath, [join(repoRoot, 'scripts/native-addons.mjs'), project], { encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(cli.stderr.trim()).toBe(
      '1 native addon(s) are not Node-API and will not load in Electron: node_modules/a/node_modules/b/build/Release/b.node',
    );
  });
});
