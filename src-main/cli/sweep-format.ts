// How the CLI prints sweeps: one line per child as it ends, the summary rows (mean ± sd and n), the sweep list.
import type { MeanSd, SweepChild, SweepDetail, SweepSummary } from '../contract/index';
import { effectiveParams } from '../engine/schema/params';
import { paramSummary, table } from './format';

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const fixed = (digits: number) => (x: number) => x.toFixed(digits);
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** "48.19% ± 5.00%"; the sd is left out below two values, "—" when there is no value. */
export function meanSdText(m: MeanSd, format: (x: number) => string): string {
  if (m.mean === null) return '—';
  return m.sd === null ? format(m.mean) : `${format(m.mean)} ± ${format(m.sd)}`;
}

/** "k=10 seed=0" */
const valuesText = (values: Record<string, unknown>): string => paramSummary(values) || '(base)';

/** A child in one line: "child 2/6 k=10 seed=0 · run #7 · accuracy 48.19% · NMI 0.512 · ARI 0.348 · 12.1 s", or why it failed. */
export function childLine(child: SweepChild, total: number): string {
  const head = `child ${child.index + 1}/${total} ${valuesText(child.values)}`;
  const run = child.run;
  if (!run) return `${head} · ${child.state}`;
  if (run.status !== 'completed' || (run.accuracy === null && run.silhouette === null))
    return `${head} · run #${run.id} · ${run.status}${run.error ? `: ${run.error}` : ''}`;
  const time = run.totalMs === null ? '' : ` · ${secs(run.totalMs)}`;
  const scores =
    run.accuracy === null
      ? `silhouette ${run.silhouette!.toFixed(3)}`
      : `accuracy ${pct(run.accuracy)} · NMI ${run.nmi!.toFixed(3)} · ARI ${run.ari!.toFixed(3)}`;
  return `${head} · run #${run.id} · ${scores}${time}`;
}

/**
 * The summary rows: the varied values, n, then mean ± sd of accuracy, NMI, ARI, the silhouette, BIC (when a mixture
 * was fitted) and time; the best row starred. On unlabelled data the label scores are left out and the silhouette
 * chooses the best row.
 */
export function sweepRowsTable(detail: SweepDetail): string {
  const names = detail.grid.map(([name]) => name);
  const labelled = detail.rows.some((row) => row.accuracy.mean !== null);
  const withBic = detail.rows.some((row) => row.bic?.mean != null);
  type Column = [title: string, text: (row: SweepDetail['rows'][number]) => string];
  const labelColumns: Column[] = [
    ['accuracy', (row) => meanSdText(row.accuracy, pct)],
    ['NMI', (row) => meanSdText(row.nmi, fixed(3))],
    ['ARI', (row) => meanSdText(row.ari, fixed(3))],
  ];
  const columns: Column[] = [
    ...(labelled ? labelColumns : []),
    ['silhouette', (row) => (row.silhouette ? meanSdText(row.silhouette, fixed(3)) : '—')],
    ...(withBic ? [['BIC', (row) => (row.bic ? meanSdText(row.bic, fixed(0)) : '—')] as Column] : []),
    ['time', (row) => meanSdText(row.totalMs, secs)],
  ];
  const rows = [['', ...names, 'n', ...columns.map(([title]) => title)]];
  for (const row of detail.rows)
    rows.push([
      row.best ? '*' : '',
      ...names.map((name) => String(row.values[name])),
      String(row.n),
      ...columns.map(([, text]) => text(row)),
    ]);
  const align = rows[0].map((_, i) => (i === 0 || i > names.length ? 'r' : 'l') as 'l' | 'r');
  const best = labelled ? 'best mean accuracy' : 'best mean silhouette (unlabelled data; BIC: lower is better)';
  return `${table(rows, align)}\n(mean ± sample sd over the completed seeds; * = ${best})`;
}

export function sweepHeader(s: SweepSummary): string {
  const progress = `${s.completed}/${s.runs} runs completed${s.failed ? `, ${s.failed} failed` : ''}${s.pending ? `, ${s.pending} pending` : ''}`;
  return `Sweep #${s.id}${s.name ? ` "${s.name}"` : ''} · ${s.task} · ${s.status} · ${progress}`;
}

/** `sweeps show`: what was varied over which base, each child, the summary rows. */
export function sweepReport(detail: SweepDetail): string {
  const varied = detail.grid.map(([name, values]) => `${name} ∈ {${values.join(', ')}}`);
  const parts = [
    sweepHeader(detail),
    `Base: ${paramSummary(effectiveParams(detail.base))}`,
    `Varied: ${[...varied, `seed ∈ {${detail.seeds.join(', ')}}`].join(' × ')}`,
    '',
    ...detail.children.map((c) => childLine(c, detail.runs)),
    '',
    sweepRowsTable(detail),
  ];
  return parts.join('\n');
}

export function sweepsTable(sweeps: SweepSummary[]): string {
  if (sweeps.length === 0) return 'No sweeps yet. Start one with: clusterbench run --task kmeans --seeds 0,1,2';
  const rows = [['id', 'task', 'status', 'completed', 'failed', 'varied', 'best accuracy', 'created']];
  for (const s of sweeps) {
    const best = s.best
      ? `${meanSdText({ mean: s.best.accuracyMean, sd: s.best.accuracySd }, pct)} ${paramSummary(s.best.values)}`.trim()
      : '';
    rows.push([
      String(s.id),
      s.task,
      s.unreadable === undefined ? s.status : 'unreadable',
      `${s.completed}/${s.runs}`,
      String(s.failed),
      s.varied.join(' '),
      best,
      s.createdAt.replace('T', ' ').slice(0, 19),
    ]);
  }
  const notes = sweeps.flatMap((s) => (s.unreadable === undefined ? [] : [`sweep #${s.id} cannot be read: ${s.unreadable}`]));
  return [table(rows, ['r', 'l', 'l', 'r', 'r', 'l', 'l', 'l']), ...notes].join('\n');
}
