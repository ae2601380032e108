import { describe, expect, it } from 'vitest';
import { methodParams, methodTable, type MethodRun } from '../../src-main/engine/schema/method-table';
import { markdownText, methodTableCsv, methodTableMarkdown, methodTableTex, texText } from '../../src-main/service/method-table-render';

let nextId = 1;
/** A completed run of `task` on `dataset` with these parameters and metrics. */
function run(task: string, dataset: string | null, params: Record<string, unknown>, metrics: Record<string, number> | null): MethodRun {
  return { id: nextId++, task, status: 'completed', params: { task, ...params }, dataset, datasetSha256: null, metrics };
}

const acc = (accuracy: number) => ({ accuracy, nmi: accuracy / 2, ari: accuracy / 3 });

describe('methods × data sets table', () => {
  it('groups runs by method and data set: mean ± sample sd over the seeds, n shown', () => {
    const runs = [
      ...[0.5, 0.6, 0.7].map((a, seed) => run('kmeans', 'fashion-mnist', { k: 10, seed, backend: 'cpu', trainLimit: 5000 }, acc(a))),
      ...[0.9, 0.95].map((a, seed) => run('kmeans', 'mnist', { k: 10, seed, backend: 'wasm', testLimit: 100 }, acc(a))),
      run('ae-gmm', 'fashion-mnist', { k: 10, seed: 0 }, acc(0.58)),
    ];
    const table = methodTable(runs);
    expect(table.datasets).toEqual(['fashion-mnist', 'mnist']);
    expect(table.rows.map((r) => r.method)).toEqual(['kmeans', 'ae-gmm']);
    const [fm, mnist] = table.rows[0].cells;
    expect(fm.n).toBe(3);
    expect(fm.mean).toBeCloseTo(0.6, 12);
    expect(fm.sd).toBeCloseTo(0.1, 12); // sample sd: sqrt(((-.1)² + 0 + .1²) / 2)
    expect(mnist.n).toBe(2);
    expect(mnist.mean).toBeCloseTo(0.925, 12);
    expect(mnist.sd).toBeCloseTo(Math.sqrt(0.025 ** 2 * 2), 12);
    // ae-gmm ran on one data set only, once: no sd, and an empty cell
    expect(table.rows[1].cells[0]).toMatchObject({ n: 1, mean: 0.58, sd: null });
    expect(table.rows[1].cells[1]).toMatchObject({ runs: 0, n: 0, mean: null });
    // best of each column among methods with a value: kmeans on fashion-mnist, nobody alone on mnist
    expect(table.rows.map((r) => r.cells.map((c) => c.best))).toEqual([
      [true, false],
      [false, false],
    ]);
  });

  it('the other metrics, and runs without the metric (an unlabelled data set has no accuracy) give "—"', () => {
    const runs = [
      run('kmeans', 'fashion-mnist', { seed: 0 }, { accuracy: 0.5, nmi: 0.4, ari: 0.3, silhouette: 0.2 }),
      run('kmeans', 'fashion-mnist', { seed: 1 }, { accuracy: 0.7, nmi: 0.6, ari: 0.5, silhouette: 0.1 }),
      run('kmeans', 'blobs', { seed: 0 }, { silhouette: 0.6 }),
    ];
    const nmi = methodTable(runs, 'nmi');
    expect(nmi.rows[0].cells[0].mean).toBeCloseTo(0.5, 12);
    expect(nmi.rows[0].cells[1]).toMatchObject({ runs: 1, n: 0, mean: null });
    expect(methodTable(runs, 'silhouette').rows[0].cells.map((c) => c.mean)).toEqual([expect.closeTo(0.15, 12), 0.6]);
    const accuracy = methodTable(runs, 'accuracy');
    expect(methodTableMarkdown(accuracy)).toMatch(/^\| kmeans \| 60\.00 ± 14\.14 \(n=2\) \| — \|$/m);
    expect(methodTableTex(accuracy)).toMatch(/^kmeans & \$60\.00 \\pm 14\.14\$~\{\\scriptsize\(2\)\} & --- \\\\$/m);
    expect(methodTableCsv(accuracy).split('\n')[1]).toBe('kmeans,kmeans,0.6,0.14142135623730948,2,,,0');
  });

  it('names a method by the parameters that set it apart from the same task’s other methods', () => {
    const runs = [
      run('n2d', 'fashion-mnist', { umap: true, seed: 0 }, acc(0.8)),
      run('n2d', 'fashion-mnist', { umap: false, seed: 0 }, acc(0.6)),
      run('n2d', 'mnist', { umap: true, seed: 1, reuseEncoder: 1 }, acc(0.9)),
      run('pipeline', 'fashion-mnist', { cluster: 'kmeans', encoder: 'none', umap: false }, acc(0.5)),
      run('pipeline', 'fashion-mnist', { cluster: 'gmm', encoder: 'none', umap: false, covariance: 'diag' }, acc(0.52)),
      run('pipeline', 'fashion-mnist', { cluster: 'gmm', encoder: 'none', umap: false, covariance: 'full' }, acc(0.54)),
      run('kmeans', 'fashion-mnist', { k: 10 }, acc(0.5)),
      run('kmeans', 'fashion-mnist', { k: 20 }, acc(0.55)),
    ];
    const table = methodTable(runs);
    // tasks in the parameter table's order; within a task, by first run
    expect(table.rows.map((r) => r.method)).toEqual([
      'kmeans (k=10)',
      'kmeans (k=20)',
      'n2d (umap)',
      'n2d (no umap)',
      // the GMM's own settings follow from cluster=gmm: only covariance, which two GMM methods differ in, is named
      'pipeline (cluster=kmeans)',
      'pipeline (cluster=gmm, covariance=diag)',
      'pipeline (cluster=gmm, covariance=full)',
    ]);
    // a reused encoder's run id is not another method: the mnist run is n2d (umap) too
    expect(table.rows[2].cells.map((c) => c.n)).toEqual([1, 1]);
    expect(table.rows[2].distinct).toEqual({ umap: true });
  });

  it('groups an older run (missing a parameter added since) with a newer one that kept its default', () => {
    const older = { task: 'kmeans', params: { k: 10, seed: 0 } };
    const newer = { task: 'kmeans', params: { ...methodParams(older), seed: 3, backend: 'cpu', dataset: 'fashion-mnist' } };
    expect(methodParams(newer)).toEqual(methodParams(older));
    expect(Object.keys(methodParams(older))).not.toContain('seed');
  });

  it('leaves out runs that did not complete and says so; says when a data set’s runs read different contents', () => {
    const done = run('kmeans', 'fashion-mnist', { seed: 0 }, acc(0.5));
    const other = { ...run('kmeans', 'fashion-mnist', { seed: 1 }, acc(0.6)), datasetSha256: 'b'.repeat(64) };
    const failed = { ...run('kmeans', 'fashion-mnist', { seed: 2 }, null), status: 'failed' };
    const table = methodTable([failed, other, { ...done, datasetSha256: 'a'.repeat(64) }]);
    expect(table.rows[0].cells[0].n).toBe(2);
    expect(table.notes).toEqual([
      `1 run not completed left out: #${failed.id} (failed)`,
      'data set fashion-mnist: its runs read 2 different contents (sha256 aaaaaaaaaaaa, bbbbbbbbbbbb)',
    ]);
  });

  it('a run without a recorded data set counts as Fashion-MNIST (runs before data sets)', () => {
    expect(methodTable([run('kmeans', null, {}, acc(0.5))]).datasets).toEqual(['fashion-mnist']);
  });
});

describe('renderers escape the names they print', () => {
  const hostile = 'evil_$x$ & 50% #1 {a} ~b ^c \\input{/etc/passwd} <p>|q| "é" \u0007';

  it('LaTeX: every special character typeset literally, nothing else left', () => {
    expect(texText(hostile)).toBe(
      'evil\\_\\$x\\$ \\& 50\\% \\#1 \\{a\\} \\textasciitilde{}b \\textasciicircum{}c \\textbackslash{}input\\{/etc/passwd\\} ' +
        "\\textless{}p\\textgreater{}\\textbar{}q\\textbar{} ''?''  ", // the bell character: a space
    );
    // After escaping, no unescaped special character remains: every \ starts a command we wrote.
    const stripped = texText(hostile).replace(
      /\\(textbackslash|textasciitilde|textasciicircum|textless|textgreater|textbar)\{\}|\\[{}$&#%_]/g,
      '',
    );
    expect(stripped).not.toMatch(/[\\{}$&#%_~^]/);
  });

  it('Markdown: one line, markup and HTML escaped', () => {
    expect(markdownText('a|b *c* _d_ `e` [f](g) <img> & x\ny')).toBe('a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) &lt;img&gt; &amp; x y');
  });

  it('CSV: a name a spreadsheet would run as a formula is quoted as text', () => {
    const table = methodTable([run('kmeans', 'fashion-mnist', { seed: 0 }, acc(0.5))]);
    table.rows[0].method = '=HYPERLINK("x")';
    expect(methodTableCsv(table).split('\n')[1]).toBe(`"'=HYPERLINK(""x"")",kmeans,0.5,,1`);
  });

  it('a data set name with control characters never reaches a terminal', () => {
    const table = methodTable([run('kmeans', 'bad\u001b[2Jname', {}, acc(0.5))]);
    expect(table.datasets).toEqual(['bad?[2Jname']);
  });

  it('the best cell of each column is bold in Markdown and LaTeX', () => {
    const table = methodTable([run('kmeans', 'fashion-mnist', { k: 10 }, acc(0.5)), run('kmeans', 'fashion-mnist', { k: 20 }, acc(0.55))]);
    expect(methodTableMarkdown(table)).toMatch(/^\| kmeans \(k=20\) \| \*\*55\.00\*\* \(n=1\) \|$/m);
    expect(methodTableTex(table)).toMatch(/^kmeans \(k=20\) & \$\\mathbf\{55\.00\}\$~\{\\scriptsize\(1\)\} \\\\$/m);
    expect(methodTableTex(table)).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
  });
});
