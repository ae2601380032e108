/**
 * Cancellation shared by the engine's long loops (training, kNN, UMAP): they check an AbortSignal between steps and
 * yield to the event loop so that a cancel message can arrive.
 */

/** The signal's reason when it already is an AbortError, else an Error named 'AbortError' with the reason's text. */
export function abortError(signal: AbortSignal, fallbackMessage = 'Aborted'): Error {
  const reason = signal.reason as unknown;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error(typeof reason === 'string' ? reason : fallbackMessage);
  err.name = 'AbortError';
  return err;
}

export function throwIfAborted(signal: AbortSignal | undefined, fallbackMessage?: string): void {
  if (signal?.aborted) throw abortError(signal, fallbackMessage);
}

/** Lets pending I/O (a cancel message, progress events) run before the next step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
