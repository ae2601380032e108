export { RunStore, RUN_STATUSES, ACTIVE_STATUSES, INTERRUPTED, isProcessAlive } from './run-store';
export type { RunStoreOptions, ListRunsFilter } from './run-store';
export { StoreError } from './errors';
export type { StoreErrorCode } from './errors';
export { MIGRATIONS, SCHEMA_VERSION, APPLICATION_ID, migrate } from './migrations';
export type { Migration } from './migrations';
export type * from './types';
