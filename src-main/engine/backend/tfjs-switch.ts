import * as tf from '@tensorflow/tfjs';
import { firstLine } from './errors';
import type { ConcreteBackendName } from './names';

// tfjs-backend-cpu greets Node users once, on its first tensor; not useful in Clusterbench's output.
const TFJS_NOISE = /looks like you are running TensorFlow\.js in Node\.js/;

/** Runs fn collecting console.warn output (tfjs reports backend init failures there); noise is dropped. */
async function capturingWarnings<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; warnings: string[] }> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
    if (!TFJS_NOISE.test(text)) warnings.push(text);
  };
  try {
    return { value: await fn(), warnings };
  } catch (error) {
    return { error, warnings };
  } finally {
    console.warn = warn;
  }
}

/** tf.setBackend, then a test addition: a backend can start and still compute wrong (a broken driver). */
async function switchAndCheck(name: ConcreteBackendName): Promise<boolean> {
  if (!(await tf.setBackend(name))) return false;
  const t = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3]), tf.tensor1d([3, 4, 5])));
  const v = await t.data();
  t.dispose();
  if (v[0] !== 4 || v[1] !== 6 || v[2] !== 8) throw new Error(`wrong result for a test addition (${Array.from(v).join(',')})`);
  return true;
}

/** tf.setBackend plus a test addition, turning `false`/errors and tfjs's console warnings into an error with the reason. */
export async function setBackendOrThrow(name: ConcreteBackendName): Promise<void> {
  const { value: ok, error, warnings } = await capturingWarnings(() => switchAndCheck(name));
  if (ok) {
    for (const w of warnings) console.warn(w);
    return;
  }
  const detail = [...warnings.map((w) => w.split('\n')[0]), ...(error ? [firstLine(error)] : [])]
    .filter((w) => w && !/^Initialization of backend .* failed$/.test(w))
    .join('; ');
  throw new Error(`initialisation failed${detail ? `: ${detail}` : ''}`);
}
