import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { decimalNumber } from '../schema/decimal';

/**
 * Multi-threaded tfjs wasm in Node, in the main thread and in worker_threads, without patching any global.
 *
 * tfjs-backend-wasm 4.22 never starts its threaded build in Node (tfjs issue 3830): its pthread workers are Blob
 * URLs, which Node's worker_threads refuse, and its C side caps the pool at half the logical cores (1 on a
 * 2-core machine). As webgpu.ts does for WebGPU, the 'wasm' backend factory is replaced here by one that starts
 * the threaded SIMD module itself, with an Emscripten module configuration of its own:
 *
 * - `locateFile` gives the pthread worker script as a file, and `mainScriptUrlOrBlob` the module factory's
 *   source as a file path (which the workers load by path); both are written to a temporary folder that is
 *   removed as soon as the module is ready (its pool of 8 pthread workers has loaded them by then);
 * - `instantiateWasm` instantiates the binary with one import of this instance replaced: the logical core
 *   count, read once by the C side to cap the pool (`emscripten_num_logical_cores() / 2`). Reporting
 *   2 × {@link MAX_WASM_THREADS} leaves the pool size to `setThreadsCount`.
 *
 * One thread uses tfjs's own (single-threaded SIMD) factory.
 */

/** The threaded module pre-starts 8 pthread workers; XNNPACK's pool never uses more. */
export const MAX_WASM_THREADS = 8;
export const WASM_THREADS_ENV = 'CLUSTERBENCH_WASM_THREADS';

const BACKEND = 'wasm';
/** tfjs-backend-wasm's own priority for 'wasm'. */
const WASM_PRIORITY = 2;
// Not named `require`: the main build declares its own `require` shim in the same chunk.
const requireHere = createRequire(import.meta.url);
/** tfjs-backend-wasm's factory (registered when the package was imported): the single-threaded build. */
const tfjsWasmFactory = tf.findBackendFactory(BACKEND);
/** Thread count of the registered 'wasm' factory (tfjs's own: 1). */
let factoryThreads = 1;

/** One thread per core (logical CPUs, as Node reports them), at most {@link MAX_WASM_THREADS}. */
export function defaultWasmThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_WASM_THREADS));
}

/** A thread count from the command line or the environment; throws naming `source` when it is not 1–8. */
export function parseWasmThreads(value: string | number, source: string): number {
  // Decimal only, like every number the CLI reads: "0x4" is not 4.
  const n = typeof value === 'number' ? value : decimalNumber(value);
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new Error(`${source} expects a whole number of threads from 1 to ${MAX_WASM_THREADS}, got "${value}"`);
  }
  return n;
}

/** `CLUSTERBENCH_WASM_THREADS` when set (checked), else undefined. */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env[WASM_THREADS_ENV];
  return value === undefined || value === '' ? undefined : parseWasmThreads(value, WASM_THREADS_ENV);
}

/** The count set by {@link setWasmThreads} (the CLI's --wasm-threads), which wins over the environment. */
let threadsSetting: number | undefined;

/**
 * The wasm backend's thread count from now on (the CLI's --wasm-threads); undefined: CLUSTERBENCH_WASM_THREADS,
 * else one per core. A wasm backend already running with another count is restarted on its next activation (its
 * tensors are lost: set this before creating any).
 */
export function setWasmThreads(threads: number | undefined): void {
  threadsSetting = threads === undefined ? undefined : parseWasmThreads(threads, 'the wasm thread count');
}

/** The thread count the wasm backend is (or will be) started with. Throws when CLUSTERBENCH_WASM_THREADS is bad. */
export function wasmThreadsWanted(): number {
  return threadsSetting ?? wasmThreadsFromEnv() ?? defaultWasmThreads();
}

/** XNNPACK threads of the initialised wasm backend; undefined before it is initialised. */
export function wasmBackendThreads(): number | undefined {
  const registry = (tf.engine() as unknown as { registry?: Record<string, unknown> }).registry;
  return registry?.[BACKEND] ? getThreadsCount() : undefined;
}

/**
 * Makes `tf.setBackend('wasm')` start the wasm backend with `threads` XNNPACK threads. When the backend is
 * already initialised with another count it is disposed first (its tensors are lost: call this before
 * creating any). Does not activate the backend.
 */
export async function prepareWasmBackend(threads: number): Promise<void> {
  parseWasmThreads(threads, 'the wasm thread count');
  if (!tfjsWasmFactory) throw new Error('@tensorflow/tfjs-backend-wasm registered no backend factory');
  const pending = (tf.engine() as unknown as { pendingBackendInit?: Promise<boolean> | null }).pendingBackendInit;
  if (pending) await pending.catch(() => false);
  if (threads === factoryThreads && tf.findBackendFactory(BACKEND)) return;
  if (tf.findBackendFactory(BACKEND)) tf.removeBackend(BACKEND);
  tf.registerBackend(BACKEND, threads === 1 ? singleThreaded : () => threadedOrSingle(threads), WASM_PRIORITY);
  factoryThreads = threads;
}

function singleThreaded(): Promise<tf.KernelBackend> {
  setThreadsCount(1);
  return tfjsWasmFactory!() as Promise<tf.KernelBackend>;
}

/** The threaded backend, or — saying why on console.warn — the single-threaded one when it cannot start. */
async function threadedOrSingle(threads: number): Promise<tf.KernelBackend> {
  try {
    return await startThreadedBackend(threads);
  } catch (err) {
    console.warn(`wasm: ${threads} threads could not start (${String((err as Error)?.message ?? err).split('\n')[0]}); using 1 thread`);
    return singleThreaded();
  }
}

interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  PThread?: { runningWorkers?: { unref?(): void }[]; unusedWorkers?: { unref?(): void }[] };
  tfjs?: unknown;
}

type ModuleFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
type Imports = { env: Record<string, unknown> } & Record<string, unknown>;

async function startThreadedBackend(threads: number): Promise<tf.KernelBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterbench-wasm-'));
  try {
    const module = await instantiateThreadedModule(dir);
    bindTfjsFunctions(module);
    setThreadsCount(threads);
    const backend = new BackendWasm(module as never);
    if (getThreadsCount() !== threads) throw new Error(`XNNPACK started ${getThreadsCount()} threads, not ${threads}`);
    letProcessExit(module);
    return backend as unknown as tf.KernelBackend;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The threaded SIMD module, its pthread workers started from files in `dir`. */
function instantiateThreadedModule(dir: string): Promise<EmscriptenModule> {
  const factoryModule = requireHere('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as
    ModuleFactory | { default: ModuleFactory };
  const factory = typeof factoryModule === 'function' ? factoryModule : factoryModule.default;
  const { wasmWorkerContents } = requireHere('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  const binary = readFileSync(requireHere.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm'));

  const mainScript = join(dir, 'module.cjs');
  const workerScript = join(dir, 'pthread-worker.cjs');
  writeFileSync(mainScript, `var WasmBackendModuleThreadedSimd = ${factory.toString()}`);
  // as tfjs does for its Blob: the contents carry raw newlines inside string literals
  writeFileSync(workerScript, wasmWorkerContents.replace(/\n/g, '\\n'));

  return new Promise((resolve, reject) => {
    const module = factory({
      locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? workerScript : prefix + path),
      mainScriptUrlOrBlob: mainScript,
      instantiateWasm(imports: Imports, receiveInstance: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * MAX_WASM_THREADS };
        WebAssembly.instantiate(binary, { ...imports, env, wasi_snapshot_preview1: env }).then(
          ({ instance, module: compiled }) => receiveInstance(instance, compiled),
          reject,
        );
        return {}; // asynchronous instantiation
      },
      onAbort: (what: unknown) => reject(new Error(`the threaded wasm module aborted: ${String(what)}`)),
    });
    module.then(resolve, reject);
  });
}

/** The C entry points BackendWasm calls (as tfjs's own init binds them). */
function bindTfjsFunctions(module: EmscriptenModule): void {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
}

/** The pool's threads wait for work forever: they must not keep the process (or worker thread) alive. */
function letProcessExit(module: EmscriptenModule): void {
  for (const worker of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) worker.unref?.();
}
