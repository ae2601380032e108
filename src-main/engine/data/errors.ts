/**
 * Errors of the data layer. Every problem with a data file is a {@link DataError} whose message starts with
 * the file's path, so the CLI and the app can show it as is.
 */
export class DataError extends Error {
  /** The file (or folder) the problem is about, when there is one. */
  readonly file: string | undefined;
  /** The problem, without the file name. */
  readonly problem: string;

  constructor(problem: string, file?: string, options?: { cause?: unknown; message?: string }) {
    super(
      options?.message ?? (file ? `${file}: ${problem}` : problem),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'DataError';
    this.file = file;
    this.problem = problem;
  }
}

/** One place the locator looked at, and why it did not use it. */
export interface SearchedPlace {
  dir: string | undefined;
  /** Human description of where the place comes from, e.g. `--data`, `$CLUSTERBENCH_DATA`. */
  source: string;
  /** Why it was not used: "does not exist", "missing …", "not set". */
  problem: string;
}

/** No complete Fashion-MNIST dataset was found. The message names every place looked at and how to get the data. */
export class DataNotFoundError extends DataError {
  readonly places: SearchedPlace[];

  constructor(message: string, places: SearchedPlace[], file?: string) {
    // `file` is the explicit folder, if the error is about one; the message already names it.
    super(message, file, { message });
    this.name = 'DataNotFoundError';
    this.places = places;
  }
}

/** A download failed (network, HTTP status, a body or content larger than the file, interrupted body, corrupt gzip or wrong checksum). */
export class DownloadError extends DataError {
  readonly url: string;

  constructor(problem: string, file: string, url: string, options?: { cause?: unknown }) {
    super(problem, file, options);
    this.name = 'DownloadError';
    this.url = url;
  }
}

/** A short description of any thrown value, with the cause chain of fetch errors ("fetch failed: ECONNREFUSED …"). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let text = err.message;
  let cause: unknown = (err as { cause?: unknown }).cause;
  for (let depth = 0; cause && depth < 3; depth++) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    if (msg && !text.includes(msg)) text += `: ${msg}`;
    cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
  }
  return text;
}
