/**
 * The files a run or the history exports, made once for every entry point: the UI's export.* operations
 * (queries.ts) hand them to files.save, the CLI's `export` commands write them to --out.
 */
import type { ExportedFile, ParsedRequestOf } from '../contract/index';
import { writeFileAtomic, type WriteOptions } from '../engine/files';
import { runConfusionFigure } from '../engine/report/index';
import { ParamError } from '../engine/schema/params';
import type { RunStore } from '../engine/store/index';
import { csvCell } from './csv';
import { NotFoundError, requireRun } from './runs';

function safeName(text: string): string {
  return text.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

const FIGURE_MIME = { svg: 'image/svg+xml', png: 'image/png', pdf: 'application/pdf' } as const;

/**
 * A run's confusion matrix as an SVG, PNG or PDF figure, titled with its task, parameters and accuracy, in the size,
 * type size and with the parts the request asks for: the one figure code of the UI and the CLI.
 */
export async function confusionFile(store: RunStore, req: ParsedRequestOf<'export.confusion'>): Promise<ExportedFile> {
  const run = requireRun(store, req.id);
  if (!run.evaluation) {
    const why = run.error ? `: ${run.error}` : '';
    throw new NotFoundError(`Run #${run.id} (${run.status}${why}) has no evaluation, so there is no confusion matrix to export`);
  }
  let bytes: Buffer;
  try {
    bytes = await runConfusionFigure(run, req.format, {
      normalize: req.normalize,
      showTitle: req.title,
      showClassNames: req.classNames,
      fontSize: req.fontSize,
      physical: req.size,
    });
  } catch (err) {
    // a size or font size out of the renderer's bounds: one line, nothing written
    if (err instanceof RangeError) throw new ParamError([{ param: '', message: err.message }]);
    throw err;
  }
  const size = req.size ? `-${req.size.width}x${req.size.height}${req.size.unit}` : '';
  const base = `clusterbench-run-${run.id}-confusion${req.normalize ? '-normalized' : ''}${size}`;
  const mime = FIGURE_MIME[req.format];
  return req.format === 'svg'
    ? { suggestedName: `${base}.svg`, mime, encoding: 'utf8', data: bytes.toString('utf8') }
    : { suggestedName: `${base}.${req.format}`, mime, encoding: 'base64', data: bytes.toString('base64') };
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
