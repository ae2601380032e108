/**
 * `export confusion` with a researcher's options (size in inches/cm at a dpi, font size, no title, numbered classes,
 * row %, PDF) writes the very figure the app's export.confusion makes for the same request, and refuses a wrong
 * option in one line, writing nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExportedFile } from '../../src-main/contract/index';
import { handleQuery } from '../../src-main/service/queries';
import { runCli, tempHome } from '../helpers/cli';

describe('CLI: export confusion with figure options', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  let id = 0;

  beforeAll(async () => {
    const out = await runCli(
      ['run', '--task', 'kmeans', '--train-limit', '2000', '--test-limit', '500', '--n-init', '1', '--seed', '0', '--json'],
      env,
    );
    expect(out.code, out.stderr).toBe(0);
    id = JSON.parse(out.stdout).id;
  }, 300_000);

  const appFile = async (request: object): Promise<ExportedFile> =>
    (await handleQuery('export.confusion', request, {
      dbPath: join(home, 'runs.sqlite'),
      busy: () => false,
      emit: () => undefined,
    })) as ExportedFile;

  it('writes the app’s SVG for the same options', async () => {
    const out = join(home, 'column.svg');
    const cli = await runCli(
      ['export', 'confusion', String(id), '--out', out, '--size', '3.5x3.2in', '--font-size', '8', '--no-class-names', '--normalize'],
      env,
    );
    expect(cli.code, cli.stderr).toBe(0);
    const app = await appFile({
      id,
      format: 'svg',
      normalize: true,
      classNames: false,
      fontSize: 8,
      size: { width: 3.5, height: 3.2, unit: 'in' },
    });
    const svg = (text: string) => text.replace(/\bzr\d+-([a-z]+-?)\d+/g, 'zr-$1');
    expect(svg(readFileSync(out, 'utf8'))).toBe(svg(app.data));
    expect(readFileSync(out, 'utf8')).toMatch(/^<svg width="252" height="230.4"/);
  });

  it('writes a one-page vector PDF of the asked size in cm, without a title', async () => {
    const out = join(home, 'column.pdf');
    const cli = await runCli(['export', 'confusion', String(id), '--out', out, '--size', '8.9x8cm', '--no-title'], env);
    expect(cli.code, cli.stderr).toBe(0);
    const info = execFileSync('pdfinfo', [out], { encoding: 'utf8' });
    const [, w, h] = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info)!;
    expect(Number(w)).toBeCloseTo((8.9 / 2.54) * 72, 1);
    expect(Number(h)).toBeCloseTo((8 / 2.54) * 72, 1);
    expect(execFileSync('pdftotext', [out, '-'], { encoding: 'utf8' })).toMatch(/Ankle boot/);
    expect(execFileSync('pdftotext', [out, '-'], { encoding: 'utf8' })).not.toMatch(/accuracy/);
  });

  it('writes a PNG at the asked dpi', async () => {
    const out = join(home, 'column.png');
    const cli = await runCli(['export', 'confusion', String(id), '--out', out, '--size', '3.5x3.2in', '--dpi', '200'], env);
    expect(cli.code, cli.stderr).toBe(0);
    const png = readFileSync(out);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Math.round(3.5 * 200), Math.round(3.2 * 200)]);
  });

  for (const [args, message] of [
    [['--size', '3.5in'], /--size "3.5in": write <width>x<height>in/],
    [['--size', '80x3in'], /figure size 80 × 3 in: each side must be 1\.67–55\.6 in/],
    [['--size', '50x50in'], /too many pixels .*: lower the dpi or the size/],
    [['--font-size', '2'], /font size 2 is outside 4–48/],
    [['--dpi', '300'], /--dpi needs --size/],
  ] as [string[], RegExp][]) {
    it(`refuses ${args.join(' ')} in one line, writing nothing`, async () => {
      const out = join(home, `bad-${args.join('')}.pdf`);
      const cli = await runCli(['export', 'confusion', String(id), '--out', out, ...args], env);
      expect(cli.code).not.toBe(0);
      expect(cli.stderr).toMatch(message);
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    });
  }
});
