import type { ConcreteBackendName } from './names';

/** A backend that cannot start here, with tfjs's reason in one line. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
  constructor(
    readonly backend: ConcreteBackendName,
    readonly reason: string,
  ) {
    super(`Backend '${backend}' is not available: ${reason}`);
  }
}

/** An error's first line: tfjs and Dawn add stack-like detail that would swamp a one-line reason. */
export const firstLine = (err: unknown): string =>
  String((err as Error)?.message ?? err)
    .split('\n')[0]
    .trim();
