/**
 * Issue 21 across data sets, through the CLI: a sweep over `--grid dataset=a,b` runs each data set, its summary has
 * one row per data set, and `export table` makes the methods × data sets table (mean ± sd per cell) of it in CSV,
 * Markdown and LaTeX; a data set the history does not hold is refused when the sweep is planned, storing nothing.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepDetail } from '../../src-main/contract/index';
import { encodeNpy } from '../../src-main/engine/data/formats/npy-codec';
import { runCli, tempHome, type CliResult } from '../helpers/cli';

const home = tempHome('cb-datasets-sweep-');
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { CLUSTERBENCH_HOME: home, CLUSTERBENCH_DATA: '' };
const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);

async function ok(...args: string[]): Promise<string> {
  const out = await cli(...args);
  expect(out.code, `clusterbench ${args.join(' ')}: ${out.stderr}`).toBe(0);
  return out.stdout;
}

/**
 * `classes` overlapping Gaussian blobs of `perClass` rows each in `dim` dimensions (a fixed generator): k-means with
 * one initialisation finds other clusters for other seeds, so the cells have a spread.
 */
function writeBlobs(name: string, classes: number, perClass: number, dim: number, seed: number): { x: string; y: string } {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const rows = classes * perClass;
  const values = new Float32Array(rows * dim);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    labels[r] = r % classes;
    for (let c = 0; c < dim; c++) values[r * dim + c] = (c % classes === labels[r] ? 1.2 : 0) + normal();
  }
  const x = join(home, `${name}.npy`);
  const y = join(home, `${name}-labels.npy`);
  writeFileSync(x, encodeNpy(values, [rows, dim]));
  writeFileSync(y, encodeNpy(labels, [rows]));
  return { x, y };
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]): number => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1));

/** The accuracies of a sweep's completed runs on data set `name`. */
const accuracies = (sweep: SweepDetail, name: string): number[] =>
  sweep.children.filter((c) => c.values.dataset === name).map((c) => c.run!.accuracy!);

describe('a sweep over two added data sets', () => {
  let kmeans: SweepDetail;
  let gmm: SweepDetail;

  beforeAll(async () => {
    const a = writeBlobs('blobs-a', 3, 40, 3, 1);
    const b = writeBlobs('blobs-b', 4, 30, 6, 2);
    await ok('datasets', 'add', 'a', a.x, '--labels', a.y);
    await ok('datasets', 'add', 'b', b.x, '--labels', b.y);
    const common = ['--grid', 'dataset=a,b', '--seeds', '0,1', '--k', '3', '--json'];
    kmeans = (JSON.parse(await ok('sweep', '--task', 'kmeans', '--n-init', '1', ...common)) as { sweep: SweepDetail }).sweep;
    const pipeline = ['--task', 'pipeline', '--encoder', 'none', '--no-umap', '--cluster', 'gmm', '--map2d', 'none'];
    gmm = (JSON.parse(await ok('sweep', ...pipeline, ...common)) as { sweep: SweepDetail }).sweep;
  }, 600_000);

  it('runs every child on the data set its grid value names', () => {
    for (const sweep of [kmeans, gmm]) {
      expect(sweep.status).toBe('completed');
      expect(sweep.runs).toBe(4);
      expect(sweep.varied).toEqual(['dataset', 'seed']);
      for (const child of sweep.children) {
        expect(child.state).toBe('completed');
        expect(child.run!.dataset).toMatchObject({ name: child.values.dataset, labelled: true });
      }
      expect(sweep.children.map((c) => c.run!.dataset!.shape)).toEqual(['d=3', 'd=3', 'd=6', 'd=6']);
    }
  });

  it('summarises one row per data set, mean ± sd over the seeds', () => {
    // the seeds found other clusters somewhere, so that some sd is not 0
    expect([kmeans, gmm].flatMap((sweep) => sweep.rows.map((row) => row.accuracy.sd)).some((v) => v! > 0)).toBe(true);
    for (const sweep of [kmeans, gmm]) {
      expect(sweep.rows.map((row) => row.values)).toEqual([{ dataset: 'a' }, { dataset: 'b' }]);
      for (const row of sweep.rows) {
        const values = accuracies(sweep, row.values.dataset as string);
        expect(row.n).toBe(2);
        expect(row.accuracy.mean).toBeCloseTo(mean(values), 12);
        expect(row.accuracy.sd).toBeCloseTo(sd(values), 12);
        expect(row.silhouette.mean).not.toBeNull();
      }
      // classes of two data sets are not averaged into one confusion matrix
      expect(sweep.confusionMean).toBeNull();
    }
  });

  it('prints the summary as one line per data set', async () => {
    const text = await ok('sweeps', 'show', String(kmeans.id));
    const table = text.split('\n');
    const header = table.findIndex((line) => /\bdataset +n +accuracy/.test(line));
    expect(header).toBeGreaterThanOrEqual(0);
    expect(table[header + 1]).toMatch(/^\*? *a +2 +\d+\.\d+% ± \d+\.\d+/);
    expect(table[header + 2]).toMatch(/^\*? *b +2 +\d+\.\d+% ± \d+\.\d+/);
  }, 300_000);

  it('export table --sweep gives the method × data sets table as CSV, with the raw mean, sd and n per cell', async () => {
    const csv = (await ok('export', 'table', '--sweep', String(kmeans.id), '--format', 'csv')).trimEnd().split('\n');
    expect(csv[0]).toBe('method,task,a_mean,a_sd,a_n,b_mean,b_sd,b_n');
    expect(csv).toHaveLength(2);
    const [method, task, ...cells] = csv[1].split(',');
    expect([method, task]).toEqual(['kmeans', 'kmeans']);
    const [aMean, aSd, aN, bMean, bSd, bN] = cells.map(Number);
    const a = accuracies(kmeans, 'a');
    const b = accuracies(kmeans, 'b');
    expect([aN, bN]).toEqual([2, 2]);
    expect(aMean).toBeCloseTo(mean(a), 12);
    expect(aSd).toBeCloseTo(sd(a), 12);
    expect(bMean).toBeCloseTo(mean(b), 12);
    expect(bSd).toBeCloseTo(sd(b), 12);
  }, 300_000);

  it('export table --runs of both sweeps: two methods × two data sets in Markdown and LaTeX, each cell mean ± sd (n)', async () => {
    const ids = [...kmeans.children, ...gmm.children].map((c) => c.run!.id).join(',');
    const [md, tex] = await Promise.all([
      ok('export', 'table', '--runs', ids, '--format', 'md'),
      ok('export', 'table', '--runs', ids, '--format', 'tex'),
    ]);
    const pct = (v: number): string => (v * 100).toFixed(2);
    const cell = (sweep: SweepDetail, name: string): string => {
      const v = accuracies(sweep, name);
      return `${pct(mean(v))} ± ${pct(sd(v))}`;
    };
    const lines = md.split('\n');
    expect(lines[0]).toBe('| Method | a | b |');
    expect(lines[1]).toBe('|:---|---:|---:|');
    const row = (line: string): string[] =>
      line
        .split('|')
        .slice(2, 4)
        .map((c) => c.trim().replace(/\*\*/g, ''));
    expect(lines[2]).toMatch(/^\| kmeans \| /);
    expect(lines[3]).toMatch(/^\| pipeline \| /);
    expect(row(lines[2])).toEqual([`${cell(kmeans, 'a')} (n=2)`, `${cell(kmeans, 'b')} (n=2)`]);
    expect(row(lines[3])).toEqual([`${cell(gmm, 'a')} (n=2)`, `${cell(gmm, 'b')} (n=2)`]);

    expect(tex).toContain('\\begin{tabular}{lrr}');
    expect(tex).toMatch(/ & a & b \\\\/);
    const texRows = tex.split('\n').filter((line) => /^(kmeans|pipeline) /.test(line));
    expect(texRows).toHaveLength(2);
    [kmeans, gmm].forEach((sweep, i) => {
      const cells = texRows[i].split(' & ').slice(1);
      expect(cells.map((c) => c.replace(/\\mathbf\{([^$]*)\}\$/, '$1$').replace(/ \\\\$/, ''))).toEqual(
        ['a', 'b'].map((name) => `$${cell(sweep, name).replace(' ± ', ' \\pm ')}$~{\\scriptsize(2)}`),
      );
    });
  }, 300_000);
});

describe('a sweep naming a data set the history does not hold', () => {
  it('is refused when planned, in one line, before any sweep or run is stored', async () => {
    const x = join(home, 'known.npy');
    writeFileSync(
      x,
      encodeNpy(
        Float32Array.from({ length: 40 }, (_, i) => i % 7),
        [20, 2],
      ),
    );
    await ok('datasets', 'add', 'known', x);
    const stored = async () => ({
      sweeps: JSON.parse(await ok('sweeps', 'list', '--json')) as unknown[],
      runs: JSON.parse(await ok('runs', 'list', '--json')) as unknown[],
    });
    const before = await stored();
    const outs = await Promise.all([
      cli('sweep', '--task', 'kmeans', '--grid', 'dataset=known,nope', '--seeds', '0,1', '--k', '2'),
      cli('sweep', '--task', 'kmeans', '--dataset', 'nope', '--seeds', '0,1', '--k', '2'),
      cli('run', '--task', 'kmeans', '--dataset', 'nope', '--seeds', '0,1', '--k', '2'),
    ]);
    const line = (out: CliResult): string => {
      expect(out.code).not.toBe(0);
      expect(out.stdout).toBe('');
      expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
      return out.stderr.trimEnd();
    };
    expect(line(outs[0])).toBe("clusterbench: dataset: no data set named 'nope' (see clusterbench datasets list) (grid dataset=nope)");
    expect(line(outs[1])).toBe("clusterbench: dataset: no data set named 'nope' (see clusterbench datasets list)");
    expect(line(outs[2])).toBe("clusterbench: dataset: no data set named 'nope' (see clusterbench datasets list)");
    expect(await stored()).toEqual(before);
  }, 300_000);
});
