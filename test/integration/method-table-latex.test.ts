import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodTableFile } from '../../src-main/contract/index';
import { RunStore } from '../../src-main/engine/store';
import type { DatasetInfo, NewRun } from '../../src-main/engine/store/types';
import { handleQuery } from '../../src-main/service/queries';
import { runCli } from '../helpers/cli';
import { missingPrereq } from '../helpers/prereqs';
import { evaluationOf } from '../helpers/run-fixtures';

const has = (tool: string) => spawnSync(tool, ['-v'], { encoding: 'utf8' }).error === undefined;
/** booktabs comes with texlive-latex-recommended, not texlive-latex-base. */
const hasBooktabs = () => spawnSync('kpsewhich', ['booktabs.sty'], { encoding: 'utf8' }).stdout?.trim().endsWith('booktabs.sty') === true;
const latexMissing =
  has('pdflatex') && has('pdftotext') && hasBooktabs()
    ? false
    : missingPrereq('pdflatex with booktabs, and pdftotext', 'apt-get install texlive-latex-base texlive-latex-recommended poppler-utils');

const datasetInfo = (name: string): DatasetInfo => ({
  name,
  dir: `/data/${name}`,
  format: 'idx',
  checksums: {},
  fitSize: 100,
  evalSize: 50,
  pixelStats: { min: 0, max: 1, mean: 0.3 },
  sha256: name === 'fashion-mnist' ? 'a'.repeat(64) : 'b'.repeat(64),
});

// Parameters another version may have stored (an imported history): text that LaTeX must print, never run.
const HOSTILE = 'x_1 & 50% $y$ #2 {z} ~w ^v \\end{tabular}\\input{/etc/passwd}';

describe.skipIf(latexMissing)('methods × data sets table as LaTeX, compiled with pdflatex', () => {
  let dir: string;
  let db: string;
  const ids: number[] = [];
  let sweepId: number;
  let emptySweepId: number;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-method-table-'));
    db = join(dir, 'runs.sqlite');
    const store = RunStore.open(db);
    const sweep = (grid: [string, unknown[]][]) =>
      store.createSweep({ task: 'kmeans', base: { task: 'kmeans', k: 10 }, grid, seeds: [0, 1, 2], status: 'completed' }).id;
    sweepId = sweep([['dataset', ['fashion-mnist', 'mnist_10k']]]);
    emptySweepId = sweep([['k', [5, 10]]]);
    const add = (task: NewRun['task'], dataset: string, params: Record<string, unknown>, accuracy: number | null) => {
      const seed = Number(params.seed ?? 0);
      // the first five runs (k-means on both data sets) are the sweep's children
      const child = ids.length < 5 ? { sweepId, child: ids.length } : undefined;
      const run = { task, params: { task, ...params }, seed, backend: 'cpu', dataset: datasetInfo(dataset), sweep: child };
      const { id } = store.createRun(run);
      ids.push(id);
      if (accuracy === null) store.failRun(id, 'out of memory');
      else
        store.completeRun(id, {
          metrics: { accuracy, nmi: accuracy / 2, ari: accuracy / 3 },
          evaluation: evaluationOf(accuracy),
          assignments: Int32Array.from([0, 1, 2]),
          timings: { totalMs: 10 },
        });
    };
    [0.5, 0.52, 0.54].forEach((a, seed) => add('kmeans', 'fashion-mnist', { k: 10, seed, note: 'plain' }, a));
    [0.6, 0.64].forEach((a, seed) => add('kmeans', 'mnist_10k', { k: 10, seed, note: 'plain' }, a));
    [0.61, 0.63].forEach((a, seed) => add('kmeans', 'fashion-mnist', { k: 10, seed, note: HOSTILE }, a));
    add('ae-gmm', 'mnist_10k', { k: 10, seed: 0 }, 0.7);
    add('ae-gmm', 'mnist_10k', { k: 10, seed: 1 }, null);
    store.close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a booktabs table that compiles, with every mean ± sd in the PDF and the hostile name printed, not run', async () => {
    const tex = join(dir, 'table.tex');
    const out = await runCli(['--db', db, 'export', 'table', '--runs', ids.join(','), '--out', tex]);
    expect(out.stderr).toBe(`clusterbench: note: 1 run not completed left out: #${ids[8]} (failed)\n`);
    expect(out.code).toBe(0);
    const table = readFileSync(tex, 'utf8');
    expect(table).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    expect(table).toContain('$\\mathbf{70.00}$'); // ae-gmm is the best on mnist_10k, kmeans (note=HOSTILE) on fashion-mnist
    expect(table).toContain('$\\mathbf{62.00 \\pm 1.41}$');

    // the app's export.methodTable answers the same file
    const ctx = { dbPath: db, busy: () => false, emit: () => undefined };
    const app = (await handleQuery('export.methodTable', { runs: ids, metric: 'accuracy', format: 'tex' }, ctx)) as MethodTableFile;
    expect(app.data).toBe(table);
    expect(app.suggestedName).toBe(`clusterbench-runs-${ids.length}-accuracy.tex`);

    writeFileSync(
      join(dir, 'paper.tex'),
      [
        '\\documentclass{article}',
        '\\usepackage{booktabs}',
        // a page wide enough for the long hostile method name (pdftotext reads only what is on the page)
        '\\pdfpagewidth=60cm \\textwidth=55cm',
        '\\begin{document}',
        '\\input{table.tex}',
        '\\end{document}',
        '',
      ].join('\n'),
    );
    const latex = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', 'paper.tex'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(latex.status, latex.stdout.slice(-2000)).toBe(0);
    expect(latex.stdout).not.toMatch(/passwd/); // \input{/etc/passwd} was printed as text, not read
    const text = spawnSync('pdftotext', ['-layout', 'paper.pdf', '-'], { cwd: dir, encoding: 'utf8' }).stdout;
    for (const number of ['52.00 ± 2.00', '62.00 ± 2.83', '62.00 ± 1.41', '70.00']) expect(text).toContain(number);
    expect(text).toMatch(/Method\s+fashion-mnist\s+mnist.10k/);
    expect(text).toMatch(/kmeans \(note=plain\)/);
    expect(text).toMatch(/Accuracy \(%\)/);
    expect(text).toMatch(/50% \$y\$ #2 \{z\}/);
    expect(text).toMatch(/end\{tabular\}.input\{\/etc\/passwd\}/);
  }, 180_000);

  it('a sweep’s table, as Markdown and CSV; a sweep without completed runs is refused in one line', async () => {
    const md = await runCli(['--db', db, 'export', 'table', '--sweep', String(sweepId), '--format', 'md', '--metric', 'nmi']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('| Method | fashion-mnist | mnist\\_10k |');
    expect(md.stdout).toContain('| kmeans | 0.260 ± 0.010 (n=3) | 0.310 ± 0.014 (n=2) |');
    const csv = join(dir, 'table.csv');
    expect((await runCli(['--db', db, 'export', 'table', '--sweep', String(sweepId), '--out', csv])).code).toBe(0);
    const [header, line] = readFileSync(csv, 'utf8').split('\n');
    expect(header).toBe('method,task,fashion-mnist_mean,fashion-mnist_sd,fashion-mnist_n,mnist_10k_mean,mnist_10k_sd,mnist_10k_n');
    const cells = line.split(',');
    expect(cells.slice(0, 2)).toEqual(['kmeans', 'kmeans']);
    [0.52, 0.02, 3, 0.62, Math.sqrt(0.0008), 2].forEach((value, i) => expect(Number(cells[i + 2])).toBeCloseTo(value, 12));
    const again = await runCli(['--db', db, 'export', 'table', '--sweep', String(sweepId), '--out', csv]);
    expect(again.stderr).toMatch(/add --force to replace it/);

    const empty = await runCli(['--db', db, 'export', 'table', '--sweep', String(emptySweepId)]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(new RegExp(`^clusterbench: Sweep #${emptySweepId}: no completed run to make a table of\\n$`));
    const none = await runCli(['--db', db, 'export', 'table', '--sweep', '999']);
    expect(none.stderr).toMatch(/No sweep #999/);
    const both = await runCli(['--db', db, 'export', 'table', '--sweep', '1', '--runs', '1']);
    expect(both.stderr).toMatch(/either --sweep ID or --runs/);
  }, 120_000);
});
