import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callerDir } from '../../src-main/cli/caller-path';
import { buildProgram } from '../../src-main/cli/index';

const repoRoot = join(__dirname, '..', '..');

/** What the command's action would get: its options (with the global ones) and its arguments, parsed and resolved. */
async function parsed(argv: string[]): Promise<{ opts: Record<string, unknown>; args: unknown[] }> {
  const program = buildProgram();
  let seen: { opts: Record<string, unknown>; args: unknown[] } | undefined;
  program.hook('preAction', (_p, action) => {
    seen = { opts: action.optsWithGlobals(), args: [...action.processedArgs] };
    throw new Error('stop before the action');
  });
  await expect(program.parseAsync(argv, { from: 'user' })).rejects.toThrow('stop before the action');
  return seen!;
}

// Issue 22: under `npm run cli` the CLI runs in the package root; paths typed by the user are relative to INIT_CWD.
describe('CLI paths are the caller’s', () => {
  const saved = process.env.INIT_CWD;
  afterEach(() => {
    if (saved === undefined) delete process.env.INIT_CWD;
    else process.env.INIT_CWD = saved;
  });

  it('INIT_CWD counts only in a package root (where npm runs scripts)', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'cb-caller-'));
    expect(callerDir({ INIT_CWD: '/home/u/sub' }, repoRoot)).toBe('/home/u/sub');
    expect(callerDir({ INIT_CWD: '/home/u/sub' }, elsewhere)).toBe(elsewhere);
    expect(callerDir({}, repoRoot)).toBe(repoRoot);
  });

  it('resolves every path option and argument against INIT_CWD, and leaves other values alone', async () => {
    const caller = mkdtempSync(join(tmpdir(), 'cb-caller-'));
    process.env.INIT_CWD = caller;
    const at = (p: string) => join(caller, p);

    const add = await parsed([
      '--db',
      'h.sqlite',
      '--data',
      'fm',
      'datasets',
      'add',
      'mine',
      'd/x.npy',
      '--labels',
      'y.npy',
      '--test',
      't.npy',
      '--test-labels',
      'ty.npy',
    ]);
    expect(add.opts).toMatchObject({
      db: at('h.sqlite'),
      data: at('fm'),
      labels: at('y.npy'),
      test: at('t.npy'),
      testLabels: at('ty.npy'),
    });
    expect(add.args).toEqual(['mine', at('d/x.npy')]);

    expect((await parsed(['export', 'confusion', '3', '--out', 'fig/y.svg'])).opts.out).toBe(at('fig/y.svg'));
    expect((await parsed(['runs', 'import', 'a.sqlite', '/abs/b.sqlite'])).args).toEqual([[at('a.sqlite'), '/abs/b.sqlite']]);
    expect((await parsed(['sweep', '--task', 'kmeans', '--seeds', '0,1', '--emit', 'slurm', 'jobs'])).opts.emit).toEqual([
      'slurm',
      at('jobs'),
    ]);
    expect((await parsed(['data', 'download', '--dir', 'dl'])).opts.dir).toBe(at('dl'));
    expect((await parsed(['sweeps', 'run-child', 'jobs/children/child-0.json'])).args).toEqual([at('jobs/children/child-0.json')]);
  });
});
