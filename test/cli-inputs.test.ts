import { describe, expect, it } from 'vitest';
import { runCli, tempHome } from './helpers/cli';

const lines = (text: string): string[] => text.trim().split('\n').filter((l) => l.trim() !== '');

// Usage errors: the error and one hint line, never the whole help.
describe('CLI: usage errors are one line and a hint', () => {
  const env = { CLUSTERBENCH_HOME: tempHome() };
  const cases: [string[], RegExp, string][] = [
    [['run', '--task', 'kmeans', '--k', 'NaN'], /^clusterbench: option '--k <n>' argument 'NaN' is invalid/, 'clusterbench run'],
    [['run', '--task', 'kmeans', '--bogus'], /^clusterbench: unknown option '--bogus'/, 'clusterbench run'],
    [['run', '--task', 'kmeans', '--n-initt', '3'], /^clusterbench: unknown option '--n-initt' \(Did you mean --n-init\?\)/, 'clusterbench run'],
    [['runs', 'show'], /^clusterbench: missing required argument 'id'/, 'clusterbench runs show'],
    [['bogus'], /^clusterbench: unknown command 'bogus'/, 'clusterbench'],
  ];
  for (const [args, first, command] of cases) {
    it(args.join(' '), async () => {
      const out = await runCli(args, env);
      expect(out.code).not.toBe(0);
      const err = lines(out.stderr);
      expect(err.length).toBeLessThanOrEqual(2);
      expect(err[0]).toMatch(first);
      expect(err[1]).toBe(`Run \`${command} --help\` for the options.`);
      expect(out.stdout).toBe('');
    });
  }
});
