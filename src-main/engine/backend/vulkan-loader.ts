import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Vulkan loader Dawn opens on Linux. */
export const VULKAN_LOADER = 'libvulkan.so.1';

/** Folders the dynamic linker searches without being told (besides its cache). */
export const STANDARD_LIB_DIRS = [
  '/lib',
  '/lib64',
  '/usr/lib',
  '/usr/lib64',
  '/usr/local/lib',
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
];

/**
 * Whether the dynamic linker could find the Vulkan loader (Linux): in LD_LIBRARY_PATH, the linker's cache or a
 * standard folder. Without it Dawn's Vulkan attempt can only fail, and it says so on stderr from native code
 * ("Warning: Couldn't load Vulkan: …", no option silences it), so the adapter search skips that attempt. When the
 * cache cannot be read, the answer is yes: let Dawn try.
 */
export function vulkanLoaderFound(
  env: NodeJS.ProcessEnv = process.env,
  ldCache = '/etc/ld.so.cache',
  standardDirs: readonly string[] = STANDARD_LIB_DIRS,
): boolean {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...standardDirs];
  if (dirs.some((dir) => existsSync(join(dir, VULKAN_LOADER)))) return true;
  try {
    return readFileSync(ldCache).includes(VULKAN_LOADER);
  } catch {
    return true;
  }
}
