#!/usr/bin/env node
// Renders build-resources/icon.svg to the PNG sizes electron-builder and Linux desktops use:
// build-resources/icon.png (1024², macOS and Windows icons are made from it) and build-resources/icons/NxN.png.
// The PNGs are committed; run `npm run icons` after changing the SVG (test/integration/packaging.test.ts checks they match).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'build-resources');

export function renderIcon(size) {
  return new Resvg(readFileSync(join(dir, 'icon.svg')), { fitTo: { mode: 'width', value: size } }).render().asPng();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(join(dir, 'icons'), { recursive: true });
  writeFileSync(join(dir, 'icon.png'), renderIcon(1024));
  for (const size of ICON_SIZES) writeFileSync(join(dir, 'icons', `${size}x${size}.png`), renderIcon(size));
  console.log(`wrote build-resources/icon.png and ${ICON_SIZES.length} sizes in build-resources/icons/`);
}
