import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missingPrereq, SKIP_LOG_ENV } from '../helpers/prereqs';

describe('a missing test prerequisite', () => {
  const saved = { ci: process.env.CI, log: process.env[SKIP_LOG_ENV] };
  const dir = mkdtempSync(join(tmpdir(), 'clusterbench-prereqs-'));
  const restore = (name: string, value: string | undefined): void => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  afterEach(() => {
    restore('CI', saved.ci);
    restore(SKIP_LOG_ENV, saved.log);
  });

  it('fails under CI, naming what to install', () => {
    process.env.CI = 'true';
    expect(() => missingPrereq('Chromium at /nowhere', 'apt-get install chromium')).toThrow(
      'test prerequisite missing under CI: Chromium at /nowhere is missing (apt-get install chromium)',
    );
  });

  it('is skipped elsewhere and logged for the summary line', () => {
    process.env.CI = '';
    process.env[SKIP_LOG_ENV] = join(dir, 'skips.log');
    expect(missingPrereq('scikit-learn', 'apt-get install python3-sklearn')).toBe(
      'scikit-learn is missing (apt-get install python3-sklearn)',
    );
    expect(readFileSync(join(dir, 'skips.log'), 'utf8')).toBe('scikit-learn is missing (apt-get install python3-sklearn)\n');
    rmSync(dir, { recursive: true, force: true });
  });
});
