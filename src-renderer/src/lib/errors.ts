// Errors as the api throws them: a ContractError's code, message and per-parameter issues, whatever the
// transport wrapped them in.
export interface ErrorInfo {
  code?: string;
  message: string;
  issues: { param: string; message: string }[];
}

export function errorInfo(err: unknown): ErrorInfo {
  if (err === null || err === undefined) return { message: 'Unknown error', issues: [] };
  if (typeof err === 'string') return { message: err, issues: [] };
  const e = err as { code?: unknown; message?: unknown; issues?: unknown; error?: unknown; cause?: unknown };
  const inner = (e.error && typeof e.error === 'object' ? e.error : e.cause && typeof e.cause === 'object' ? e.cause : undefined) as
    { code?: unknown; message?: unknown; issues?: unknown } | undefined;
  const code = typeof e.code === 'string' ? e.code : typeof inner?.code === 'string' ? inner.code : undefined;
  const rawIssues = Array.isArray(e.issues) ? e.issues : Array.isArray(inner?.issues) ? inner.issues : [];
  const issues = rawIssues
    .filter((i): i is { param?: unknown; message?: unknown } => !!i && typeof i === 'object')
    .map((i) => ({
      param: typeof i.param === 'string' ? i.param : '',
      message: typeof i.message === 'string' ? i.message : String(i.message),
    }));
  const message = typeof e.message === 'string' && e.message ? e.message : typeof inner?.message === 'string' ? inner.message : String(err);
  return { code, message, issues };
}

export function errorMessage(err: unknown): string {
  return errorInfo(err).message;
}

/** The per-parameter issues in an engine message "Invalid parameters — k: …; batchSize: …" (a failed job's error). */
export function issuesFromMessage(message: string): { param: string; message: string }[] | null {
  const m = /^Invalid parameters — (.*)$/s.exec(message.trim());
  if (!m) return null;
  return m[1].split('; ').map((part) => {
    const colon = /^([A-Za-z][\w.]*): (.*)$/s.exec(part);
    return colon ? { param: colon[1], message: colon[2] } : { param: '', message: part };
  });
}
