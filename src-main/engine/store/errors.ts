export type StoreErrorCode =
  /** The file is not an SQLite database, or is damaged. */
  | 'NOT_A_DATABASE'
  /** The file is an SQLite database that belongs to something else. */
  | 'FOREIGN_DATABASE'
  /** The database was written by a newer Clusterbench (schema version above what this code knows). */
  | 'FUTURE_VERSION'
  /** The file (or its folder) cannot be opened at all. */
  | 'CANNOT_OPEN'
  | 'NOT_FOUND'
  /** The run has already ended (completed, failed or cancelled) and cannot change state again. */
  | 'RUN_ENDED'
  /** The run is still queued or running, with a live owner: it cannot be deleted. */
  | 'RUN_ACTIVE'
  /** The history was opened read-only (its file or folder cannot be written): nothing can change. */
  | 'READ_ONLY'
  /** Arguments that cannot be stored faithfully (not plain data, bad ids, bad statuses…). */
  | 'INVALID'
  /** A run's row was deleted, but some of its files could not be removed (named in the message). */
  | 'FILES_LEFT'
  | 'CLOSED';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
