import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempHome } from '../helpers/cli';

// Issue 22: `npm run cli -- export … --out y.csv` from a subfolder wrote into the checkout's root and printed "Wrote y.csv".
describe('CLI under npm run: files land in the caller’s folder', () => {
  it('writes --out relative to INIT_CWD (the process runs in the package root) and prints the absolute path', async () => {
    const caller = mkdtempSync(join(tmpdir(), 'cb-caller-'));
    const out = await runCli(['--db', 'history.sqlite', 'export', 'history', '--out', 'y.csv'], {
      CLUSTERBENCH_HOME: tempHome(),
      INIT_CWD: caller,
    });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`Wrote ${join(caller, 'y.csv')}\n`);
    expect(readFileSync(join(caller, 'y.csv'), 'utf8')).toMatch(/^id,task,status,/);
    expect(existsSync(join(caller, 'history.sqlite'))).toBe(true);
    expect(existsSync(join(repoRoot, 'y.csv'))).toBe(false);
    expect(existsSync(join(repoRoot, 'history.sqlite'))).toBe(false);
  });
});
