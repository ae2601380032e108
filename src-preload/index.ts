/**
 * The sandboxed preload: exposes exactly one object, `window.clusterbench`, implementing the contract's
 * `ClusterbenchApi` — one async function per operation plus `on(event, listener) → unsubscribe`. No raw
 * ipcRenderer reaches the page. Sandboxed preloads may only `require('electron')`, so this imports only the
 * dependency-free names module (bundled in) and types.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { ClusterbenchApi, ContractError, Operation, Reply } from '@contract';
import { EVENT_NAMES, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, OPERATION_NAMES } from '@contract/names';

/**
 * A failed call rejects with an Error carrying `code`, `message` and `issues`. contextBridge copies only an
 * Error's message across worlds, so the message also encodes the contract error as
 * `ClusterbenchError:{json}`; the renderer's api module (src-renderer/src/api) decodes it back.
 */
function contractError(error: ContractError): Error {
  const err = new Error(`ClusterbenchError:${JSON.stringify({ code: error.code, message: error.message, issues: error.issues })}`);
  return Object.assign(err, { code: error.code, issues: error.issues });
}

async function call(op: Operation, request: unknown): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(IPC_CALL_CHANNEL, op, request ?? {})) as Reply<Operation>;
  if (reply && reply.ok === true) return reply.value;
  throw contractError(reply?.error ?? { code: 'failed', message: 'Malformed reply from the main process' });
}

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>();
const knownEvents = new Set<string>(EVENT_NAMES);

ipcRenderer.on(IPC_EVENT_CHANNEL, (_event, name: unknown, payload: unknown) => {
  if (typeof name !== 'string') return;
  for (const listener of [...(listeners.get(name) ?? [])]) {
    try {
      listener(payload);
    } catch (err) {
      console.error(`clusterbench: listener for ${name} threw`, err);
    }
  }
});

const api: Record<string, unknown> = {};
for (const op of OPERATION_NAMES) api[op] = (request: unknown) => call(op, request);
api.on = (event: string, listener: Listener): (() => void) => {
  if (!knownEvents.has(event)) throw new Error(`Unknown event: ${String(event).slice(0, 80)}`);
  if (typeof listener !== 'function') throw new Error('listener must be a function');
  let set = listeners.get(event);
  if (!set) listeners.set(event, (set = new Set()));
  set.add(listener);
  return () => void set!.delete(listener);
};

contextBridge.exposeInMainWorld('clusterbench', api as unknown as ClusterbenchApi);
