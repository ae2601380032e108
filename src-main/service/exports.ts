/**
 * The files a run or the history exports, made once for every entry point: the UI's export.* operations
 * (queries.ts) hand them to files.save, the CLI's `export` commands write them to --out.
 */
import type { ExportedFile, ParsedRequestOf } from '../contract/index';
import { writeFileAtomic, type WriteOptions } from '../engine/files';
import { confusionTitleForRun, renderConfusionSvg, svgToPng } from '../engine/report/index';
import type { RunStore } from '../engine/store/index';
import { csvCell } from './csv';
import { NotFoundError, requireRun } from './runs';

function safeName(text: string): string {
  return text.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

/** A run's confusion matrix as an SVG or PNG figure, titled with its task, parameters and accuracy. */
export function confusionFile(store: RunStore, req: ParsedRequestOf<'export.confusion'>): ExportedFile {
  const run = requireRun(store, req.id);
  if (!run.evaluation) {
    const why = run.error ? `: ${run.error}` : '';
    throw new NotFoundError(`Run #${run.id} (${run.status}${why}) has no evaluation, so there is no confusion matrix to export`);
  }
  const { title, subtitle } = confusionTitleForRun(run);
  const svg = renderConfusionSvg({
    confusion: run.evaluation.confusion,
    classNames: run.evaluation.classNames,
    title,
    subtitle,
    normalize: req.normalize,
  });
  const base = `clusterbench-run-${run.id}-confusion${req.normalize ? '-normalized' : ''}`;
  return req.format === 'svg'
    ? { suggestedName: `${base}.svg`, mime: 'image/svg+xml', encoding: 'utf8', data: svg }
    : { suggestedName: `${base}.png`, mime: 'image/png', encoding: 'base64', data: svgToPng(svg).toString('base64') };
}

/** A run's whole record, its cluster assignments included, as JSON. */
export function runJsonFile(store: RunStore, id: number): ExportedFile {
  const run = requireRun(store, id, true);
  const json = JSON.stringify({ ...run, assignments: run.assignments ? Array.from(run.assignments) : null }, null, 2);
  return {
    suggestedName: `clusterbench-run-${run.id}-${safeName(run.task)}.json`,
    mime: 'application/json',
    encoding: 'utf8',
    data: json,
  };
}

/** Every run of the history, oldest first, one CSV row each: its metrics, times and every parameter. */
export function historyCsvFile(store: RunStore): ExportedFile {
  const runs = store.listRuns({ order: 'oldest' });
  const fixed = ['id', 'task', 'status', 'accuracy', 'nmi', 'ari', 'backend', 'started_at', 'ended_at', 'seconds', 'error'];
  // task and backend have their own columns (the backend a run ran on, not the one asked for, e.g. auto)
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].filter((k) => k !== 'task' && k !== 'backend').sort();
  // one name per column: a parameter named like a fixed column (an imported run's, say) is prefixed "param."
  const header = [...fixed, ...paramKeys.map((k) => (fixed.includes(k) ? `param.${k}` : k))];
  const lines = runs.map((r) =>
    [
      r.id,
      r.task,
      r.status,
      r.metrics?.accuracy,
      r.metrics?.nmi,
      r.metrics?.ari,
      r.backend,
      r.startedAt,
      r.endedAt,
      r.timings?.totalMs !== undefined ? (r.timings.totalMs / 1000).toFixed(2) : '',
      r.error,
      ...paramKeys.map((k) => r.params[k]),
    ]
      .map(csvCell)
      .join(','),
  );
  return {
    suggestedName: 'clusterbench-history.csv',
    mime: 'text/csv',
    encoding: 'utf8',
    data: [header.join(','), ...lines].join('\n') + '\n',
  };
}

/** Writes an exported file's bytes to `path` (atomically; a link, folder or device there is refused in one line). */
export function writeExportedFile(file: ExportedFile, path: string, options: WriteOptions = {}): Promise<void> {
  return writeFileAtomic(path, Buffer.from(file.data, file.encoding), options);
}
