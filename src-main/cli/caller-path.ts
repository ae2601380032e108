/**
 * Paths typed on the command line are the caller's: `npm run cli -- export … --out y.svg` from a subfolder runs the
 * CLI in the package root (npm's rule for scripts), with the folder the user was in as INIT_CWD. Every option or
 * argument that names a file or folder is made absolute here, once for every command (a preAction hook in index.ts),
 * so commands read, record and print absolute paths.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Value placeholders (`--out <file>`, `<path>`, `<files...>`) that name a file or folder. */
const PATH_PLACEHOLDER = /^(?:[a-z]+-)?(?:file|dir|path|folder)s?$/;

/**
 * The folder relative paths are relative to: npm's INIT_CWD when npm set it and this process runs in a package
 * root (a folder with a package.json, where npm runs scripts); otherwise the process's own folder.
 */
export function callerDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const initCwd = env.INIT_CWD;
  if (initCwd && isAbsolute(initCwd) && existsSync(join(cwd, 'package.json'))) return initCwd;
  return cwd;
}

/** `path` as the caller meant it: absolute, relative paths taken from callerDir(). */
export function callerPath(path: string, base: string = callerDir()): string {
  return path === '' ? path : resolve(base, path);
}

function isPathPlaceholder(name: string): boolean {
  return PATH_PLACEHOLDER.test(name.replace(/\.\.\.$/, ''));
}

const absolute = (value: unknown, base: string): unknown =>
  typeof value === 'string' ? callerPath(value, base) : Array.isArray(value) ? value.map((v) => absolute(v, base)) : value;

/**
 * Makes the path options and arguments of the command about to run (and of the commands above it: --db, --data)
 * absolute. `--emit slurm DIR` names its folder after the target word.
 */
export function resolveCommandPaths(actionCommand: Command, base: string = callerDir()): void {
  for (let cmd: Command | null = actionCommand; cmd; cmd = cmd.parent) {
    for (const option of cmd.options) {
      const key = option.attributeName();
      const value = cmd.getOptionValue(key) as unknown;
      if (value === undefined) continue;
      const placeholder = /<([^>]+)>|\[([^\]]+)\]/.exec(option.flags);
      const name = placeholder?.[1] ?? placeholder?.[2] ?? '';
      if (isPathPlaceholder(name)) cmd.setOptionValueWithSource(key, absolute(value, base), cmd.getOptionValueSource(key));
      else if (key === 'emit' && Array.isArray(value) && value.length > 1)
        cmd.setOptionValueWithSource(key, [value[0], ...value.slice(1).map((v) => absolute(v, base))], cmd.getOptionValueSource(key));
    }
  }
  actionCommand.registeredArguments.forEach((argument, i) => {
    if (isPathPlaceholder(argument.name()) && i < actionCommand.processedArgs.length)
      actionCommand.processedArgs[i] = absolute(actionCommand.processedArgs[i], base);
  });
}
