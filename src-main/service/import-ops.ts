/**
 * `runs import`: merges other run histories (a Slurm array's results, a colleague's) into this one, through the
 * store's import (engine/store/import.ts), one transaction per file. No contract operation asks for it yet; the CLI
 * calls it here so that it opens no store itself.
 */
import { importRunDatabase, openImportTarget, type ImportResult } from '../engine/store/import';
import { historyPath } from './history';

export type { ImportedSweep, ImportResult } from '../engine/store/import';

export interface ImportReport {
  /** A file merged whole. */
  imported: (result: ImportResult) => void;
  /** A file refused or failed: it changed nothing (the others still count). */
  refused: (file: string, error: Error) => void;
}

/**
 * Imports each file into the history at `dbPath` (the app's when absent), reporting each as it ends; returns how many
 * were refused. A history that cannot be written is refused before any file is read.
 */
export function importHistories(dbPath: string | undefined, files: readonly string[], report: ImportReport): number {
  const dest = historyPath(dbPath);
  const db = openImportTarget(dest);
  let refused = 0;
  try {
    for (const file of files) {
      let result: ImportResult;
      try {
        result = importRunDatabase(db, dest, file);
      } catch (e) {
        refused++;
        report.refused(file, e as Error);
        continue;
      }
      report.imported(result);
    }
  } finally {
    db.close();
  }
  return refused;
}
