/**
 * What the benches share: a small declarative option parser with its value checks, number formatting and
 * statistics, the aligned text table, and the runner for the Python reference scripts (bench/reference, run with
 * Debian's /usr/bin/python3; each prints its figures as one `RESULT {json}` line).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------- options

/** The value of the flag being parsed: the `=value` part of `--flag=value`, else the next argument (consumed). */
export type FlagValue = () => string | undefined;

/** One handler per accepted flag (aliases are separate keys); flags that take no value never call `value`. */
export type Flags<O> = Record<string, (o: O, value: FlagValue, flag: string) => void>;

/**
 * Parses `args` (`--flag value` or `--flag=value`) into a copy of `defaults`. An unknown flag throws
 * `unknown option <arg>`; with `usage`, `--help` and `-h` print it and exit 0.
 */
export function parseFlags<O extends object>(args: string[], defaults: O, flags: Flags<O>, usage?: string): O {
  const o = { ...defaults };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const [flag, inline] = eq >= 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (usage !== undefined && (flag === '--help' || flag === '-h')) {
      process.stdout.write(usage);
      process.exit(0);
    }
    const handle = Object.hasOwn(flags, flag) ? flags[flag] : undefined;
    if (!handle) throw new Error(`unknown option ${a}`);
    handle(o, () => inline ?? args[++i], flag);
  }
  return o;
}

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** An integer ≥ `min`; else throws `<flag> expects an integer ≥ <min>, got <v>`. */
export function int(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!given(v) || !Number.isInteger(n) || n < min) throw new Error(`${flag} expects an integer ≥ ${min}, got ${given(v) ? v : 'nothing'}`);
  return n;
}

/** A number ≥ `min` (> `min` when `exclusive`); else throws `<flag> expects a number ≥ <min>` (or `> <min>`). */
export function number(flag: string, v: string | undefined, min: number, { exclusive = false } = {}): number {
  const n = given(v) ? Number(v) : NaN;
  if (!(exclusive ? n > min : n >= min)) throw new Error(`${flag} expects a number ${exclusive ? '>' : '≥'} ${min}`);
  return n;
}

/** One of `allowed`; else throws `<flag> expects one of a, b, c, got <v>`. */
export function choice<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T {
  if (v === undefined || !(allowed as readonly string[]).includes(v))
    throw new Error(`${flag} expects one of ${allowed.join(', ')}, got ${v ?? 'nothing'}`);
  return v as T;
}

/** The non-empty items of a comma-separated list, trimmed. */
export function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A comma-separated list of integers ≥ `min` (each checked by `int`); an empty list throws `emptyMessage`. */
export function intList(flag: string, v: string | undefined, min: number, emptyMessage: string): number[] {
  const xs = list(v).map((s) => int(flag, s, min));
  if (xs.length === 0) throw new Error(emptyMessage);
  return xs;
}

// ---------------------------------------------------------------------------------------------- statistics, formatting

export const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function sd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** `v.toFixed(digits)`, or `—` for a missing or non-finite value. */
export const fmt = (v: number | undefined, digits = 3): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** A plain-text table: the first column left-aligned, the others right-aligned, a dashed rule under the header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------- reference scripts

/** Debian's Python; CLUSTERBENCH_PYTHON names another (the GPU machine's PyTorch lives in its own venv). */
export const SYS_PYTHON = process.env.CLUSTERBENCH_PYTHON || '/usr/bin/python3';

/** Absolute path of a script in bench/reference. */
export const referenceScript = (name: string): string => fileURLToPath(new URL(`./reference/${name}`, import.meta.url));

/** What a reference needs from the system Python: modules to import, and how to name and install them. */
export interface PythonLibrary {
  modules: string;
  name: string;
  apt: string;
}
export const SKLEARN: PythonLibrary = { modules: 'sklearn, scipy, numpy', name: 'scikit-learn', apt: 'python3-sklearn' };
export const TORCH: PythonLibrary = { modules: 'torch', name: 'torch', apt: 'python3-torch' };

export function pythonHas(lib: PythonLibrary): boolean {
  if (!existsSync(SYS_PYTHON)) return false;
  return spawnSync(SYS_PYTHON, ['-c', `import ${lib.modules}`], { stdio: 'ignore', timeout: 60_000 }).status === 0;
}

/** Why the reference will not run (`--no-reference`, or the library is missing), or '' when it can. */
export function referenceSkipped(wanted: boolean, lib: PythonLibrary): string {
  if (!wanted) return 'reference skipped (--no-reference)';
  if (!pythonHas(lib)) return `reference skipped: ${SYS_PYTHON} has no ${lib.name} (apt-get install ${lib.apt})`;
  return '';
}

export interface TaggedRun<T> {
  code: number | null;
  /** The JSON after the first stdout line that starts with the tag; undefined when there is none. */
  result?: T;
  /** Collected stderr ('' when inherited). */
  stderr: string;
}

/**
 * Runs `command args` and waits for it; every other non-blank stdout line goes to `onLine` as it arrives. Rejects
 * only when the process cannot be started or the tagged line is not JSON.
 */
export function runTagged<T>(
  command: string,
  args: string[],
  opts: { tag?: string; env?: NodeJS.ProcessEnv; inheritStderr?: boolean; onLine?: (line: string) => void } = {},
): Promise<TaggedRun<T>> {
  const tag = `${opts.tag ?? 'RESULT'} `;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env, stdio: ['ignore', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'] });
    let result: string | undefined;
    let stderr = '';
    let pending = '';
    const take = (line: string): void => {
      if (line.startsWith(tag)) result ??= line.slice(tag.length);
      else if (line.trim()) opts.onLine?.(line);
    };
    child.stdout!.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    });
    child.stderr?.on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => {
      take(pending);
      try {
        resolve({ code, result: result === undefined ? undefined : (JSON.parse(result) as T), stderr });
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** A reference script that exited non-zero or printed no RESULT line; `message` ends with its last stderr lines. */
export class ReferenceFailure extends Error {
  constructor(
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`reference exited with ${code}: ${ReferenceFailure.tail(stderr, 5, '\n')}`);
  }

  static tail(stderr: string, lines: number, sep: string): string {
    return stderr.trim().split('\n').slice(-lines).join(sep);
  }
}

/**
 * Runs bench/reference/`script` with the system Python (`env` on top of this process's environment) and returns
 * its RESULT; `onLine` sees its other output lines. Throws a ReferenceFailure when it fails.
 */
export async function runReference<T>(script: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<T> {
  const r = await runTagged<T>(SYS_PYTHON, [script, ...args], { env: { ...process.env, ...env }, onLine });
  if (r.code !== 0 || r.result === undefined) throw new ReferenceFailure(r.code, r.stderr);
  return r.result;
}
