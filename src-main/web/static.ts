/**
 * The built renderer as static files: a URL path maps to a file inside the renderer folder and never outside it;
 * client-side routes get the app's index.html.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root: the nearest folder up from this file with a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export const defaultRendererDir = (): string => join(packageRoot(), 'out', 'renderer');

export interface Renderer {
  /** The renderer folder, absolute. */
  dir: string;
  indexFile: string;
}

export function rendererAt(dir: string): Renderer {
  const absolute = resolve(dir);
  return { dir: absolute, indexFile: join(absolute, 'index.html') };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file for a URL path inside the renderer folder, or undefined (never outside it). */
export function resolveStatic(renderer: Renderer, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = resolve(renderer.dir, `.${decoded.endsWith('/') ? `${decoded}index.html` : decoded}`);
  if (file !== renderer.dir && !file.startsWith(renderer.dir + sep)) return undefined;
  try {
    if (statSync(file).isFile()) return file;
  } catch {
    /* missing */
  }
  // Client-side routes (no extension) get the app.
  return extname(decoded) === '' ? renderer.indexFile : undefined;
}

/** A served file's headers: the page is never cached (it must pick up a new build), the hashed assets forever. */
export const fileHeaders = (renderer: Renderer, file: string, length: number): Record<string, string | number> => ({
  'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
  'Content-Length': length,
  'Cache-Control': file === renderer.indexFile ? 'no-store' : 'private, max-age=31536000, immutable',
});
