// Boots a TypeScript worker from sources (CLI through tsx, tests): workers do not inherit tsx's loader.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.tsEntry);
