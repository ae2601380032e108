import type { Command } from 'commander';
import { RunStore } from '../engine/store/index';

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
 * Opens the run store for one command and always closes it. A history that cannot be written opens read-only (reads
 * work; writes fail with one line); what the store has to say about the history goes to stderr, one line each.
 */
export async function withStore<T>(command: Command, fn: (store: RunStore) => Promise<T> | T): Promise<T> {
  const store = RunStore.open(globals(command).db);
  for (const notice of store.notices) process.stderr.write(`clusterbench: note: ${notice}\n`);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
