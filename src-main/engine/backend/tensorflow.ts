import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';

/**
 * The 'tensorflow' backend: libtensorflow through @tensorflow/tfjs-node-gpu (CUDA; runs on the CPU when no
 * CUDA device is usable) or, failing that, @tensorflow/tfjs-node. Both are optional and loaded dynamically.
 *
 * Same-tfjs-core constraint: tfjs-node(-gpu) `require('@tensorflow/tfjs')` and calls
 * `tf.registerBackend('tensorflow', …)` on it. tfjs-node-gpu 4.22.0 depends on @tensorflow/tfjs **exactly**
 * 4.22.0, so npm dedupes it onto our top-level copy only while our @tensorflow/tfjs is that same version;
 * otherwise npm nests a second copy under tfjs-node-gpu/node_modules. (tfjs-core keeps its engine and kernel
 * registry on globalThis, so even a second copy would register into the same engine, but two different
 * tfjs-core versions sharing one engine is not something to rely on.) We therefore require the tfjs-core
 * version tfjs-node(-gpu) resolves to equal ours, and check that its factory is visible to our `tf`.
 * Also keep @tensorflow/tfjs* external (not bundled) in the Electron main build, so Node resolves one copy.
 *
 * Side effects of importing tfjs-node(-gpu): it calls tf.setBackend('tensorflow') (we restore the previous
 * backend unless 'tensorflow' is what was asked for), registers file:// model IO handlers, and registers a
 * progress-bar logger for `model.fit({verbose: 1})` (pass verbose: 0 to keep output quiet).
 */

export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const localRequire = createRequire(import.meta.url);

export interface PackageInfo {
  name: string;
  version: string;
  dir: string;
}

/** Name, version and folder of an installed package as Node would resolve it from here (or from `from`). */
export function packageInfo(name: string, from: string = import.meta.url): PackageInfo | undefined {
  const req = from === import.meta.url ? localRequire : createRequire(from);
  let pkgJson: string | undefined;
  try {
    pkgJson = req.resolve(`${name}/package.json`);
  } catch {
    // Packages with an "exports" map may hide package.json: walk up from the entry point instead.
    try {
      let dir = dirname(req.resolve(name));
      for (let i = 0; i < 6 && !pkgJson; i++, dir = dirname(dir)) {
        const candidate = join(dir, 'package.json');
        if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === name) pkgJson = candidate;
      }
    } catch {
      return undefined;
    }
  }
  if (!pkgJson) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { name?: string; version?: string };
    return { name, version: pkg.version ?? 'unknown', dir: dirname(pkgJson) };
  } catch {
    return undefined;
  }
}

/** The tfjs-node package that would be used, without loading it. */
export function installedTensorflowPackage(from?: string): PackageInfo | undefined {
  for (const name of TENSORFLOW_PACKAGES) {
    const info = packageInfo(name, from);
    if (info) return info;
  }
  return undefined;
}

export const NOT_INSTALLED_REASON =
  'not installed: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is present (optional dependency; npm skips it ' +
  'where its libtensorflow 2.9.1 download/build fails — install it with `npm install @tensorflow/tfjs-node-gpu`, ' +
  'CUDA 11.2 + cuDNN 8.1 for the GPU)';

let loaded: PackageInfo | undefined;

/**
 * The @tensorflow/tfjs-core a tfjs-node(-gpu) install would register into: the core of the @tensorflow/tfjs it
 * resolves (its only tfjs dependency).
 */
function coreSeenBy(pkg: PackageInfo): PackageInfo | undefined {
  const theirTfjs = packageInfo('@tensorflow/tfjs', join(pkg.dir, 'package.json'));
  return theirTfjs ? packageInfo('@tensorflow/tfjs-core', join(theirTfjs.dir, 'package.json')) : undefined;
}

/**
 * Loads tfjs-node-gpu (else tfjs-node) so that the 'tensorflow' backend factory is registered, leaving the
 * active backend as it was. Throws with a clear reason when neither can be used. `resolveFrom` (a file
 * path) resolves the packages from elsewhere than this module (tests).
 */
export async function registerTensorflowBackend(opts: { resolveFrom?: string } = {}): Promise<PackageInfo> {
  if (loaded && tf.findBackendFactory('tensorflow')) return loaded;
  const problems: string[] = [];
  let installed = 0;
  for (const name of TENSORFLOW_PACKAGES) {
    const info = packageInfo(name, opts.resolveFrom);
    if (!info) continue;
    installed++;
    const theirCore = coreSeenBy(info);
    if (theirCore && theirCore.version !== tf.version_core) {
      problems.push(
        `${name} ${info.version} would register into @tensorflow/tfjs-core ${theirCore.version}, not Clusterbench's ${tf.version_core}; ` +
          `install the exact @tensorflow/tfjs version ${name} depends on so npm dedupes them into one copy`,
      );
      continue;
    }
    const previous = tf.getBackend();
    try {
      const req = createRequire(opts.resolveFrom ?? import.meta.url);
      await import(/* @vite-ignore */ opts.resolveFrom ? pathToFileURL(req.resolve(name)).href : name);
    } catch (err) {
      problems.push(`${name} ${info.version} failed to load: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
      continue;
    }
    // Its import started tf.setBackend('tensorflow') without awaiting; let that settle, then restore.
    try {
      await tf.ready();
    } catch {
      /* reported below through the factory check / activation */
    }
    if (previous && previous !== tf.getBackend() && tf.findBackendFactory(previous)) await tf.setBackend(previous);
    if (!tf.findBackendFactory('tensorflow')) {
      problems.push(
        `${name} loaded but registered no 'tensorflow' backend in Clusterbench's tfjs-core (a second @tensorflow/tfjs-core copy?)`,
      );
      continue;
    }
    loaded = info;
    return info;
  }
  throw new Error(installed === 0 ? NOT_INSTALLED_REASON : problems.join('; '));
}

/** Describes the active 'tensorflow' backend's device. */
export function tensorflowDevice(pkg: PackageInfo | undefined): string {
  const b = tf.backend() as { isUsingGpuDevice?: boolean; isGPUPackage?: boolean };
  const which = pkg ? `${pkg.name.replace('@tensorflow/', '')} ${pkg.version}` : 'tfjs-node';
  if (b.isUsingGpuDevice) return `CUDA GPU (libtensorflow, ${which})`;
  return `CPU (libtensorflow, ${which}${b.isGPUPackage ? ', no usable CUDA device' : ''})`;
}
