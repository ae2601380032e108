/**
 * The native addons that the desktop app ships, and whether each is Node-API.
 *
 * Electron 45 runs its own Node ABI (NODE_MODULE_VERSION 150), so an addon built against V8/Node's C++ ABI for
 * the Node that ran `npm install` (127 for Node 22) fails to load in the app's main process and engine worker
 * ("was compiled against a different Node.js version"). A Node-API addon loads in both as it is. What ships is the
 * production dependency tree of package.json (electron-builder packs it; electron-vite keeps it external), so
 * every `.node` file in it must be Node-API.
 *
 *   node scripts/native-addons.mjs [ROOT]   # lists them (ROOT: a project folder, default this one); exit 1 if any is not Node-API
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where Node would find package `name` from a package in `fromDir`: the nearest node_modules above it that holds it. */
function resolvePackageDir(name, fromDir, rootDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === rootDir || dirname(dir) === dir) return undefined;
  }
}

function readManifest(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/** The folders of every installed package the app depends on at run time (dependencies, optional and peer ones, transitively). */
export function productionPackageDirs(rootDir) {
  const root = resolve(rootDir);
  const seen = new Set();
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop();
    const manifest = readManifest(dir);
    const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies });
    for (const name of names) {
      const found = resolvePackageDir(name, dir, root);
      // An optional dependency that did not install (tfjs-node-gpu) or an unmet peer ships nothing.
      if (found && !seen.has(found)) {
        seen.add(found);
        pending.push(found);
      }
    }
  }
  return [...seen].sort();
}

/** The `.node` files a package folder holds itself (its own nested node_modules are packages of their own). */
function addonFiles(packageDir) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.node')) found.push(path);
    }
  };
  walk(packageDir);
  return found;
}

/**
 * How an addon registers itself, read from the symbol names in its binary (the same on ELF, Mach-O and PE):
 * Node-API modules export `napi_register_module_v1` (or call `napi_module_register`); addons built against Node's
 * C++ ABI export `node_register_module_v<ABI>` (or call `node_module_register`).
 */
export function addonKind(bytes) {
  const text = bytes.toString('latin1');
  if (/node_register_module_v\d+|\bnode_module_register\b/.test(text)) return 'node-abi';
  if (text.includes('napi_register_module_v1') || text.includes('napi_module_register')) return 'node-api';
  return 'unknown';
}

/** Every native addon in the app's production dependency tree, with its kind. */
export function shippedAddons(rootDir) {
  const root = resolve(rootDir);
  return productionPackageDirs(root).flatMap((dir) =>
    addonFiles(dir).map((file) => ({ file: relative(root, file), kind: addonKind(readFileSync(file)) })),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const addons = shippedAddons(root);
  for (const { file, kind } of addons) console.log(`${kind === 'node-api' ? 'ok      ' : 'NOT N-API'} ${file}`);
  const bad = addons.filter((a) => a.kind !== 'node-api');
  if (bad.length > 0) {
    console.error(`${bad.length} native addon(s) are not Node-API and will not load in Electron: ${bad.map((a) => a.file).join(', ')}`);
    process.exitCode = 1;
  }
}
