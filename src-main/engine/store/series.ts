/**
 * Per-step series (schema 6): every per-step value of a run — its training losses today, any metric tomorrow — is one
 * row (run, key, step, value) of run_series, instead of a fixed column each. A run's `losses` are the series
 * 'trainLoss' and 'valLoss' read side by side, by epoch.
 */
import { StoreError } from './errors';

/** The schema that moved the loss columns (run_losses) into run_series. */
export const SERIES_SCHEMA = 6;

/** The series keys of a run's losses. */
export const LOSS_KEYS = { train: 'trainLoss', val: 'valLoss' } as const;

/** A series key: a name as code writes it (a letter, then letters, digits, '_' or '.'), at most 64 characters. */
const SERIES_KEY = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;
export const MAX_SERIES_KEY_CHARS = 64;

/** Why `key` cannot name a series (one phrase), or null. */
export function seriesKeyProblem(key: unknown): string | null {
  if (typeof key !== 'string') return 'is not text';
  return SERIES_KEY.test(key) ? null : `${JSON.stringify(key.slice(0, 80))} is not a name of letters, digits, '_' and '.'`;
}

export function checkSeriesKey(key: unknown): string {
  const problem = seriesKeyProblem(key);
  if (problem) throw new StoreError('INVALID', `series key ${problem}`);
  return key as string;
}

/** One point of a series as stored: NaN is the text 'NaN' (see codec.ts's encodeReal). */
export interface SeriesRow {
  step: number;
  value: unknown;
}

/**
 * The SQL that reads a run's losses as loss rows (epoch, train_loss, val_loss) at a schema version: a read-only open
 * of an older history reads its loss columns. An epoch with a validation loss only has no train_loss (read as NaN).
 */
export function lossesSql(schemaVersion: number): string {
  if (schemaVersion < SERIES_SCHEMA) return 'SELECT epoch, train_loss, val_loss FROM run_losses WHERE run_id = ? ORDER BY epoch';
  return `SELECT step AS epoch,
       max(CASE key WHEN '${LOSS_KEYS.train}' THEN value END) AS train_loss,
       max(CASE key WHEN '${LOSS_KEYS.val}' THEN value END) AS val_loss
     FROM run_series WHERE run_id = ? AND key IN ('${LOSS_KEYS.train}', '${LOSS_KEYS.val}') GROUP BY step ORDER BY step`;
}
