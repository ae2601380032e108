// The engine worker: runs experiments one at a time off the main thread and streams progress.
import { parentPort, workerData } from 'node:worker_threads';
import { setWasmThreads } from '../../engine/backend/index';
import { runExperiment } from '../../engine/experiments/run';
import { RunStore } from '../../engine/store/index';
import { serializeError, type EngineWorkerData, type HostMessage, type WorkerMessage } from './protocol';

if (!parentPort) throw new Error('engineWorker must run in a worker thread');
setWasmThreads((workerData as EngineWorkerData | undefined)?.wasmThreads);
const port = parentPort;
const send = (msg: WorkerMessage): void => port.postMessage(msg);

const controllers = new Map<string, AbortController>();

async function start(msg: Extract<HostMessage, { type: 'start' }>): Promise<void> {
  const controller = new AbortController();
  controllers.set(msg.jobId, controller);
  let store: RunStore | undefined;
  try {
    store = RunStore.open(msg.dbPath);
    const run = await runExperiment(msg.params, {
      store,
      dataDir: msg.dataDir,
      sweep: msg.sweep,
      signal: controller.signal,
      onRunCreated: (created) => send({ type: 'created', jobId: msg.jobId, run: created }),
      onProgress: (event) => send({ type: 'progress', jobId: msg.jobId, event }),
    });
    send({ type: 'done', jobId: msg.jobId, run });
  } catch (err) {
    send({ type: 'error', jobId: msg.jobId, error: serializeError(err) });
  } finally {
    controllers.delete(msg.jobId);
    store?.close();
  }
}

async function call(msg: Extract<HostMessage, { type: 'call' }>): Promise<void> {
  try {
    // Loaded lazily: the query side (figures, images) is not needed by CLI runs.
    const { handleQuery } = await import('../queries');
    const value = await handleQuery(msg.op as never, msg.request, {
      dbPath: msg.dbPath,
      dataDir: msg.dataDir,
      busy: () => controllers.size > 0,
      emit: (event, payload) => send({ type: 'event', event, payload }),
    });
    send({ type: 'reply', callId: msg.callId, ok: true, value });
  } catch (err) {
    send({ type: 'reply', callId: msg.callId, ok: false, error: serializeError(err) });
  }
}

port.on('message', (msg: HostMessage) => {
  if (msg.type === 'start') void start(msg);
  else if (msg.type === 'cancel') controllers.get(msg.jobId)?.abort();
  else if (msg.type === 'call') void call(msg);
});
send({ type: 'ready' });
