/**
 * The methods × data sets table of a sweep's runs or of chosen runs, as the file `export table` writes and the UI's
 * export.methodTable saves (engine/schema/method-table.ts builds it; method-table-render.ts writes it).
 */
import type { MethodTableFile, ParsedRequestOf } from '../contract/index';
import { methodTable, type MethodRun, type MethodTableFormat } from '../engine/schema/method-table';
import type { RunStore } from '../engine/store/index';
import type { RunRecord } from '../engine/store/types';
import { renderMethodTable } from './method-table-render';
import { compareRuns, NotFoundError } from './runs';
import { latestRuns } from './sweep-views';
import { requireSweep } from './sweeps';

const MIME: Record<MethodTableFormat, string> = { csv: 'text/csv', md: 'text/markdown', tex: 'application/x-tex' };

export const methodRunOf = (run: RunRecord): MethodRun => ({
  id: run.id,
  task: run.task,
  status: run.status,
  params: run.params,
  dataset: run.dataset?.name ?? (typeof run.params.dataset === 'string' ? run.params.dataset : null),
  datasetSha256: run.dataset?.sha256 ?? null,
  metrics: run.metrics,
});

/** The runs a table is made of: a sweep's (each child's latest run), or the runs named, any missing one refused. */
function tableRuns(store: RunStore, req: ParsedRequestOf<'export.methodTable'>): { runs: RunRecord[]; source: string } {
  if (req.sweep !== undefined) {
    requireSweep(store, req.sweep);
    return { runs: [...latestRuns(store.sweepRuns(req.sweep)).values()], source: `sweep-${req.sweep}` };
  }
  const ids = [...new Set(req.runs ?? [])];
  return { runs: compareRuns(store, ids), source: `runs-${ids.length}` };
}

/** The table as a file in `req.format`, with what the reader should know (runs left out…) as notes. */
export function methodTableFile(store: RunStore, req: ParsedRequestOf<'export.methodTable'>): MethodTableFile {
  const { runs, source } = tableRuns(store, req);
  const table = methodTable(runs.map(methodRunOf), req.metric);
  if (table.rows.length === 0) {
    const which = req.sweep !== undefined ? `Sweep #${req.sweep}` : `Runs ${runs.map((r) => `#${r.id}`).join(', ')}`;
    throw new NotFoundError(`${which}: no completed run to make a table of`);
  }
  return {
    suggestedName: `clusterbench-${source}-${req.metric}.${req.format}`,
    mime: MIME[req.format],
    encoding: 'utf8',
    data: renderMethodTable(table, req.format),
    notes: table.notes,
  };
}
