/**
 * Desktop packaging metadata: electron-builder.yml names only files that exist, the icons are the SVG's
 * renderings at every size, the Linux desktop entry is complete, and the CLI wrapper shipped in the package
 * finds the bundled CLI from its place in the app's folder.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCommand } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';
// @ts-expect-error: a plain .mjs script without types
import { ICON_SIZES, renderIcon } from '../../scripts/icons.mjs';

interface BuilderConfig {
  directories: { buildResources: string };
  icon: string;
  extraResources: { from: string; to: string }[];
  linux: { icon: string; executableName: string; desktop: { entry: Record<string, string> } };
}
const config = load(readFileSync(join(repoRoot, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Buffer): [number, number] => [png.readUInt32BE(16), png.readUInt32BE(20)];

describe('electron-builder.yml', () => {
  it('names a build-resources folder and icons that exist', () => {
    expect(existsSync(join(repoRoot, config.directories.buildResources, 'icon.svg'))).toBe(true);
    expect(pngSize(readFileSync(join(repoRoot, config.icon)))).toEqual([1024, 1024]);
    for (const size of ICON_SIZES as number[]) {
      const png = readFileSync(join(repoRoot, config.linux.icon, `${size}x${size}.png`));
      expect(pngSize(png)).toEqual([size, size]);
      // Committed PNGs are the current SVG's renderings (npm run icons after editing the SVG).
      expect(png.equals(renderIcon(size)), `${size}x${size}.png is stale: run npm run icons`).toBe(true);
    }
  });

  it('has a complete Linux desktop entry', () => {
    const entry = config.linux.desktop.entry;
    expect(entry).toMatchObject({ Name: 'Clusterbench', Comment: expect.stringMatching(/\w/) });
    expect(entry.Categories).toMatch(/^(\w+;)+$/);
    expect(entry.Categories.split(';')).toContain('Science');
  });

  it('ships the CLI wrapper from a file in the checkout', () => {
    const wrapper = config.extraResources.find((r) => r.to === 'bin/clusterbench-cli');
    expect(wrapper && existsSync(join(repoRoot, wrapper.from))).toBe(true);
  });
});

const temp = mkdtempSync(join(tmpdir(), 'clusterbench-package-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe.skipIf(skipUnless('builtApp'))('the packaged CLI wrapper (resources/bin/clusterbench-cli)', () => {
  it('runs out/main/cli.js from app.asar with the app binary as Node', async () => {
    // An unpacked package's layout, with Node standing in for the Electron binary and the checkout for app.asar.
    const app = join(temp, 'Clusterbench');
    mkdirSync(join(app, 'resources', 'bin'), { recursive: true });
    symlinkSync(process.execPath, join(app, config.linux.executableName));
    symlinkSync(repoRoot, join(app, 'resources', 'app.asar'));
    copyFileSync(join(repoRoot, 'build-resources/bin/clusterbench-cli'), join(app, 'resources', 'bin', 'clusterbench-cli'));
    // Called through a link on PATH, as a user would install it.
    mkdirSync(join(temp, 'usr-bin'));
    symlinkSync(join(app, 'resources', 'bin', 'clusterbench-cli'), join(temp, 'usr-bin', 'clusterbench-cli'));
    const result = await runCommand(join(temp, 'usr-bin', 'clusterbench-cli'), ['runs', 'list', '--db', join(temp, 'runs.sqlite')], {
      cwd: temp,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/No runs yet/);
  });
});
