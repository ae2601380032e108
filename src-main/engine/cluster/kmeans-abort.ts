/** Cancellation of a k-means fit: its loops check the signal between steps and throw {@link KMeansAbortError}. */

/** Thrown when `fit` is aborted through its signal. `name === 'AbortError'`. */
export class KMeansAbortError extends Error {
  constructor(reason?: unknown) {
    super('k-means fit aborted', reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new KMeansAbortError(signal.reason);
}
