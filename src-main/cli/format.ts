import { DEFAULT_DATASET, describeShape } from '../engine/data/dataset';
import { COMPUTE_LABEL, computeMs, stageTimes, WALL_TIME_LABEL, wallTimeMs, type RunTimes } from '../contract/run-time';
import { effectiveParams } from '../engine/schema/params';
import type { EvaluationReport, RunRecord } from '../contract/index';

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const f2 = (x: number): string => x.toFixed(2);

export function table(rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The key parameters of a run in one line, e.g. "k=10 nInit=10 seed=0". */
export function paramSummary(params: Record<string, unknown>): string {
  return Object.entries(params)
    .filter(([key, value]) => key !== 'task' && value !== undefined)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

export function mappingTable(ev: EvaluationReport): string {
  const rows = [['cluster', 'label', 'size', 'purity']];
  ev.mapping.forEach((label, cluster) => {
    const size = ev.clusterSizes[cluster];
    const correct = label >= 0 ? ev.confusion[label][label] : 0;
    rows.push([String(cluster), label >= 0 ? ev.classNames[label] : '(unmatched)', String(size), size ? pct(correct / size) : '—']);
  });
  return table(rows, ['r', 'l', 'r', 'r']);
}

/** Same layout as scikit-learn's classification_report, which the study printed. */
export function classificationReport(ev: EvaluationReport): string {
  const rows = [['', 'precision', 'recall', 'f1-score', 'support']];
  for (const c of ev.perClass) rows.push([c.name, f2(c.precision), f2(c.recall), f2(c.f1), String(c.support)]);
  const total = ev.weightedAvg.support;
  rows.push(['', '', '', '', '']);
  rows.push(['accuracy', '', '', f2(ev.accuracy), String(total)]);
  rows.push(['macro avg', f2(ev.macroAvg.precision), f2(ev.macroAvg.recall), f2(ev.macroAvg.f1), String(total)]);
  rows.push(['weighted avg', f2(ev.weightedAvg.precision), f2(ev.weightedAvg.recall), f2(ev.weightedAvg.f1), String(total)]);
  return table(rows, ['r', 'r', 'r', 'r', 'r']);
}

export function confusionTable(ev: EvaluationReport): string {
  const short = ev.classNames.map((n) => n.slice(0, 7));
  const rows = [['true \\ predicted', ...short]];
  ev.confusion.forEach((row, i) => rows.push([ev.classNames[i], ...row.map(String)]));
  return table(rows, ['l', ...short.map(() => 'r' as const)]);
}

/** The backend a run used, with its thread count where one was recorded: "wasm (2 threads)". */
export function backendLabel(run: RunRecord): string {
  const threads = run.metrics?.backendThreads;
  return threads === undefined ? run.backend : `${run.backend} (${threads} thread${threads === 1 ? '' : 's'})`;
}

/** A run's data set as one word: its name, its shape when not Fashion-MNIST's, and "unlabelled" when it was. */
export function datasetLabel(info: NonNullable<RunRecord['dataset']>): string {
  const shape = info.shape && info.name !== DEFAULT_DATASET ? describeShape(info.shape) : '';
  const extra = [shape, info.labelled === false ? 'unlabelled' : ''].filter(Boolean);
  return `${info.name}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

export function runHeader(run: RunRecord): string {
  const ds = run.dataset ? ` · ${datasetLabel(run.dataset)} ${run.dataset.fitSize} fit / ${run.dataset.evalSize} eval` : '';
  return `Run #${run.id} · ${run.task} · ${paramSummary(effectiveParams(run.params))} · backend ${backendLabel(run)}${ds} · ${run.status}`;
}

export function runReport(run: RunRecord): string {
  const parts = [runHeader(run)];
  if (run.error) parts.push(`Error: ${run.error}`);
  const ev = run.evaluation;
  if (ev) {
    parts.push('', 'Cluster → label (Hungarian mapping on the test set)', mappingTable(ev));
    parts.push('', 'Classification report (test set)', classificationReport(ev));
    parts.push('', 'Confusion matrix (rows: true label, columns: predicted label)', confusionTable(ev));
  }
  if (run.metrics) {
    const m = run.metrics;
    parts.push(
      '',
      (m.accuracy !== undefined
        ? `Accuracy ${pct(m.accuracy)}   NMI ${m.nmi!.toFixed(4)}   ARI ${m.ari!.toFixed(4)}`
        : 'Unlabelled data: no accuracy') +
        (m.inertia !== undefined ? `   inertia ${m.inertia.toExponential(4)}` : '') +
        (m.logLikelihood !== undefined ? `   log-likelihood/sample ${m.logLikelihood.toFixed(3)}` : ''),
    );
    if (m.silhouette !== undefined)
      parts.push(
        `Silhouette ${m.silhouette.toFixed(4)}${m.silhouetteSample !== undefined ? ` (sample of ${m.silhouetteSample})` : ''}` +
          `   Calinski–Harabasz ${m.calinskiHarabasz?.toFixed(1)}   Davies–Bouldin ${m.daviesBouldin?.toFixed(4)}`,
      );
    if (m.trainImagesPerSec !== undefined)
      parts.push(`Training: ${Math.round(m.trainImagesPerSec)} images/s on ${backendLabel(run)}, ${m.epochsRun} epochs`);
    if (run.artifacts.reusedEncoderFrom)
      parts.push(`Encoder reused from run #${run.artifacts.reusedEncoderFrom}${run.artifacts.reusedCodesFrom ? ' (with its codes)' : ''}`);
  }
  parts.push(timeLine(run));
  return parts.join('\n');
}

/** Train / validation loss per epoch (the study's Figure 13, as a table). */
export function lossTable(run: RunRecord): string {
  const rows = [['epoch', 'train loss', 'val loss']];
  for (const l of run.losses) rows.push([String(l.epoch), l.trainLoss.toFixed(5), l.valLoss === null ? '—' : l.valLoss.toFixed(5)]);
  return `Autoencoder loss (binary cross-entropy)\n${table(rows, ['r', 'r', 'r'])}`;
}

/** A run's stored times as every view reads them (contract/run-time.ts). */
const runTimesOf = (run: RunRecord): RunTimes => ({ startedAt: run.startedAt, endedAt: run.endedAt, totalMs: run.timings?.totalMs });

const seconds = (ms: number | null): string => (ms === null ? '' : (ms / 1000).toFixed(1));

/** "Wall time 29.6 s · compute 1.9 s (loading data 1.2 s, starting the backend 25.1 s, …)": each labelled for what it measures. */
export function timeLine(run: RunRecord): string {
  const wall = wallTimeMs(runTimesOf(run));
  const compute = computeMs(run.timings);
  const stages = stageTimes(run.timings).map((t) => `${t.label.charAt(0).toLowerCase()}${t.label.slice(1)} ${seconds(t.ms)} s`);
  return (
    [
      `${WALL_TIME_LABEL} ${wall === null ? 'still running' : `${seconds(wall)} s`}`,
      ...(compute === null ? [] : [`${COMPUTE_LABEL.toLowerCase()} ${seconds(compute)} s`]),
    ].join(' · ') + (stages.length ? ` (${stages.join(', ')})` : '')
  );
}

export function runsTable(runs: RunRecord[]): string {
  if (runs.length === 0) return 'No runs yet. Start one with: clusterbench run --task kmeans';
  const rows = [['id', 'task', 'status', 'accuracy', 'nmi', 'backend', 'started', 'wall s', 'data set', 'params']];
  for (const r of runs) {
    const secs = seconds(wallTimeMs(runTimesOf(r)));
    rows.push([
      String(r.id),
      r.task,
      r.status,
      r.metrics?.accuracy !== undefined ? pct(r.metrics.accuracy) : r.metrics ? '—' : '',
      r.metrics?.nmi !== undefined ? r.metrics.nmi.toFixed(3) : r.metrics ? '—' : '',
      backendLabel(r),
      r.startedAt.replace('T', ' ').slice(0, 19),
      secs,
      r.dataset ? datasetLabel(r.dataset) : '',
      paramSummary(effectiveParams(r.params)),
    ]);
  }
  return table(rows, ['r', 'l', 'l', 'r', 'r', 'l', 'l', 'r', 'l', 'l']);
}

/** Parameters and metrics of several runs side by side; rows whose values differ are marked with '*'. */
export function compareTable(runs: RunRecord[]): string {
  const flat = (r: RunRecord): Record<string, string> => {
    const out: Record<string, string> = { task: r.task, status: r.status, backend: backendLabel(r) };
    for (const [k, v] of Object.entries(effectiveParams(r.params))) if (k !== 'task') out[`param ${k}`] = String(v);
    if (r.dataset) {
      out['data set'] = datasetLabel(r.dataset);
      if (r.dataset.sha256) out['data sha256'] = `${r.dataset.sha256.slice(0, 12)}…`;
      out['fit size'] = String(r.dataset.fitSize);
      out['eval size'] = String(r.dataset.evalSize);
    }
    for (const [k, v] of Object.entries(r.metrics ?? {}))
      if (typeof v === 'number') out[`metric ${k}`] = ['accuracy'].includes(k) ? pct(v) : Number(v.toPrecision(6)).toString();
    const wall = wallTimeMs(runTimesOf(r));
    if (wall !== null) out['wall time s'] = seconds(wall);
    const compute = computeMs(r.timings);
    if (compute !== null) out['compute s'] = seconds(compute);
    return out;
  };
  const cols = runs.map(flat);
  const keys = [...new Set(cols.flatMap((c) => Object.keys(c)))];
  const rows = [['', '', ...runs.map((r) => `#${r.id}`)]];
  for (const key of keys) {
    const values = cols.map((c) => c[key] ?? '—');
    rows.push([new Set(values).size > 1 ? '*' : '', key, ...values]);
  }
  return table(rows) + '\n(* = differs)';
}
