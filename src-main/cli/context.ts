import type { Command } from 'commander';
import type { Operation, ParsedRequestOf, Responses } from '../contract/index';
import { withHistory, type RunStore } from '../service/history';
import { answerQuery, type QueryContext } from '../service/queries';

export interface GlobalOptions {
  db?: string;
  data?: string;
  /** --wasm-threads, or CLUSTERBENCH_WASM_THREADS through commander. */
  wasmThreads?: number;
  verbose?: boolean;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/**
 * Opens the run history (through the service) for one command and always closes it. A history that cannot be written
 * opens read-only (reads work; writes fail with one line); what the store has to say about the history goes to
 * stderr, one line each.
 */
export function withStore<T>(command: Command, fn: (store: RunStore) => Promise<T> | T): Promise<T> {
  return withHistory(globals(command).db, fn, { onNotice: (notice) => process.stderr.write(`clusterbench: note: ${notice}\n`) });
}

/** The context the UI's queries get from the engine worker, here for this command's own process. */
export function queryContext(command: Command): QueryContext {
  const { db, data } = globals(command);
  return { dbPath: db, dataDir: data, busy: () => false, emit: () => undefined };
}

/**
 * One of the UI's operations (the contract's), answered in this process on the history of --db: the same function
 * the engine worker answers the UI with; reads need no worker.
 */
export function query<O extends Operation>(command: Command, op: O, request: ParsedRequestOf<O>): Promise<Responses[O]> {
  return withStore(command, (store) => answerQuery(op, request, store, queryContext(command)));
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
